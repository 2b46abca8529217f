// SPDX-License-Identifier: GPL-2.0
/* The control of testmod_helper_refused: hello_ops keeps the default helpers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(random_add, int a, int b)
{
	return a + b + (bpf_get_prandom_u32() & 0);
}

SEC(".struct_ops.link")
struct hello_ops hello_random = {
	.add = (void *)random_add,
	.magic = 1,
};
