// SPDX-License-Identifier: GPL-2.0
/* Keeps the __ref task it is given: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/take_task")
__failure __msg("Unreleased reference")
int BPF_PROG(refcounted_leak_rejected, struct task_struct *task)
{
	return task->pid;
}

SEC(".struct_ops.link")
struct testmod_ops tm_leak = {
	.take_task = (void *)refcounted_leak_rejected,
};
