// SPDX-License-Identifier: GPL-2.0
/*
 * A hello_ops program that tail-calls: the layer refuses bpf_tail_call to
 * every struct_ops program, since a program of another type of the module
 * whose op has the same prototype could tail-call it with arguments of
 * other tags (a __ref task no reference was taken on, a NULL where the
 * program expects none).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

SEC("struct_ops/negate")
__failure __msg("cannot use helper bpf_tail_call")
int BPF_PROG(tail_call_refused, int x)
{
	bpf_tail_call(ctx, &jump, 0);
	return -x;
}

SEC(".struct_ops.link")
struct hello_ops hello_tail_call = {
	.negate = (void *)tail_call_refused,
	.magic = 1,
};
