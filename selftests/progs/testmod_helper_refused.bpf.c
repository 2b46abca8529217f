// SPDX-License-Identifier: GPL-2.0
/* Calls a helper rso_testmod's get_func_proto refuses: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/nosleep")
__failure __msg("program of this type cannot use helper bpf_get_prandom_u32")
int BPF_PROG(verifier_ops_override, int x)
{
	return bpf_get_prandom_u32() & 1;
}

SEC(".struct_ops.link")
struct testmod_ops tm_random = {
	.nosleep = (void *)verifier_ops_override,
};
