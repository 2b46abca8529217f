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

/* Every argument kind; releases the __ref task. */
SEC("struct_ops/arg_kinds")
int BPF_PROG(tm_arg_kinds, int x, struct task_struct *trusted,
	     struct task_struct *maybe, struct task_struct *owned)
{
	int r = x;

	if (trusted->pid == owned->pid)
		r += 1000;
	if (maybe)
		r += maybe->pid == trusted->pid ? 110 : 100;
	bpf_task_release(owned);
	return r;
}

SEC("struct_ops/args_inout")
int BPF_PROG(tm_args_inout, struct rso_testmod_args *args)
{
	args->b = args->a * 2;
	return 1;
}

/* Writes through a const pointer it cast: the module passed a copy. */
SEC("struct_ops/args_in")
int BPF_PROG(tm_args_in, const struct rso_testmod_args *args)
{
	((struct rso_testmod_args *)args)->b = 99;
	return args->a;
}

SEC(".struct_ops.link")
struct testmod_ops tm_ok = {
	.args_inout = (void *)tm_args_inout,
	.args_in = (void *)tm_args_in,
	.nosleep = (void *)tm_nosleep,
	.may_sleep = (void *)tm_may_sleep,
	.take_task = (void *)tm_take_task,
	.arg_kinds = (void *)tm_arg_kinds,
	.limit = 10,
};
