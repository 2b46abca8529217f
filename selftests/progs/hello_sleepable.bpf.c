// SPDX-License-Identifier: GPL-2.0
/* A sleepable program for hello_ops's add, which does not opt in to sleeping. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/add")
int BPF_PROG(sleepy_add, int a, int b)
{
	return a + b;
}

SEC(".struct_ops.link")
struct hello_ops hello_sleepy = {
	.add = (void *)sleepy_add,
	.magic = 1,
};
