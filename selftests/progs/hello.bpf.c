// SPDX-License-Identifier: GPL-2.0
/* A BPF implementation of hello_ops (samples/hello/hello_ops.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(hello_add, int a, int b)
{
	return a + b;
}

SEC("struct_ops/negate")
int BPF_PROG(hello_negate, int x)
{
	return -x;
}

SEC("struct_ops/task_pid")
int BPF_PROG(hello_task_pid, struct task_struct *task)
{
	/* task is __nullable: the verifier refuses a dereference without this check. */
	if (!task)
		return -1;
	return task->pid;
}

SEC(".struct_ops.link")
struct hello_ops hello_link = {
	.add = (void *)hello_add,
	.negate = (void *)hello_negate,
	.task_pid = (void *)hello_task_pid,
	.magic = 0xc0ffee,
};
