// SPDX-License-Identifier: GPL-2.0
/* Three hello_ops instances, told apart by their magic, attached at once. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(add_1, int a, int b)
{
	return a + b + 1000;
}

SEC("struct_ops/add")
int BPF_PROG(add_2, int a, int b)
{
	return a + b + 2000;
}

SEC("struct_ops/add")
int BPF_PROG(add_3, int a, int b)
{
	return a + b + 3000;
}

SEC(".struct_ops.link")
struct hello_ops multi_1 = { .add = (void *)add_1, .magic = 1 };

SEC(".struct_ops.link")
struct hello_ops multi_2 = { .add = (void *)add_2, .magic = 2 };

SEC(".struct_ops.link")
struct hello_ops multi_3 = { .add = (void *)add_3, .magic = 3 };
