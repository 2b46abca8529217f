// SPDX-License-Identifier: GPL-2.0
/* Dereferences task_pid's __nullable task without checking it: the verifier must refuse. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/task_pid")
int BPF_PROG(unchecked_task_pid, struct task_struct *task)
{
	return task->pid;
}

SEC(".struct_ops.link")
struct hello_ops hello_unchecked = {
	.task_pid = (void *)unchecked_task_pid,
	.magic = 1,
};
