// SPDX-License-Identifier: GPL-2.0
/*
 * Reads ctx[1] in past_args, which has one argument: the slot after the
 * arguments is the trampoline's return value, not yet written. past_args is
 * member 25, BPF_TRACE_FEXIT's value, for which btf_ctx_access() lets the
 * read through; the layer must refuse it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/past_args")
__failure __msg("invalid bpf_context access")
int ctx_read_past_args_refused(unsigned long long *ctx)
{
	return (int)ctx[1];
}

SEC(".struct_ops.link")
struct testmod_ops tm_past_args = {
	.past_args = (void *)ctx_read_past_args_refused,
};
