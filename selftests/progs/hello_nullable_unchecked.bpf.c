// SPDX-License-Identifier: GPL-2.0
/* Dereferences task_pid's __nullable task without checking it: the verifier must refuse. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/task_pid")
__failure __msg("invalid mem access 'trusted_ptr_or_null_'")
int BPF_PROG(nullable_unchecked_rejected, struct task_struct *task)
{
	return task->pid;
}

SEC(".struct_ops.link")
struct hello_ops hello_unchecked = {
	.task_pid = (void *)nullable_unchecked_rejected,
	.magic = 1,
};
