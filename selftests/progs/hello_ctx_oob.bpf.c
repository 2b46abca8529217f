// SPDX-License-Identifier: GPL-2.0
/* Reads past negate's one argument in its context: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/negate")
__failure __msg("invalid bpf_context access")
int ctx_access_out_of_range(unsigned long long *ctx)
{
	return (int)ctx[4];
}

SEC(".struct_ops.link")
struct hello_ops hello_ctx_oob = {
	.negate = (void *)ctx_access_out_of_range,
	.magic = 1,
};
