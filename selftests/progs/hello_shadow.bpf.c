// SPDX-License-Identifier: GPL-2.0
/*
 * For the skeleton tests (shadow types): userspace sets magic and swaps add
 * to shadow_mul through skel->struct_ops.hello_shadow before loading.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(shadow_add, int a, int b)
{
	return a + b;
}

SEC("struct_ops/add")
int BPF_PROG(shadow_mul, int a, int b)
{
	return a * b;
}

SEC(".struct_ops.link")
struct hello_ops hello_shadow = {
	.add = (void *)shadow_add,
	.magic = 1,
};
