// SPDX-License-Identifier: GPL-2.0
/* A testmod_ops implementation that follows every rule. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("struct_ops/nosleep")
int BPF_PROG(tm_nosleep, int x)
{
	return x * 2;
}

/* The same kind of sleepable program check_member refuses for nosleep. */
SEC("struct_ops.s/may_sleep")
int BPF_PROG(tm_may_sleep, int x)
{
	return x + 1;
}

SEC("struct_ops/take_task")
int BPF_PROG(tm_take_task, struct task_struct *task)
{
	int pid = task->pid;

	bpf_task_release(task);
	return pid;
}

SEC(".struct_ops.link")
struct testmod_ops tm_ok = {
	.nosleep = (void *)tm_nosleep,
	.may_sleep = (void *)tm_may_sleep,
	.take_task = (void *)tm_take_task,
	.limit = 10,
};
