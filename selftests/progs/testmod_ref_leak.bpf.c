// SPDX-License-Identifier: GPL-2.0
/* Keeps the __ref task it is given: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/take_task")
int BPF_PROG(leak_take_task, struct task_struct *task)
{
	return task->pid;
}

SEC(".struct_ops.link")
struct testmod_ops tm_leak = {
	.take_task = (void *)leak_take_task,
};
