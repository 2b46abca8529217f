// SPDX-License-Identifier: GPL-2.0
/* A program for the op without a stub: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/unsupported")
__failure __msg("attach to unsupported member unsupported of struct testmod_ops")
int BPF_PROG(unsupported_member, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct testmod_ops tm_unsup = {
	.unsupported = (void *)unsupported_member,
};
