// SPDX-License-Identifier: GPL-2.0
/*
 * Returns the __ref task it is given from an op that returns an integer:
 * the reference is then never released. Linux 7.3's verifier accepts it
 * (check_reference_leak() skips a reference held in R0); with
 * kernel/patches/bpf/0001 it is refused (ref_leak_refused).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/take_task")
long BPF_PROG(tm_ref_return_task, struct task_struct *task)
{
	return (long)task;
}

SEC(".struct_ops.link")
struct testmod_ops tm_ref_return = {
	.take_task = (void *)tm_ref_return_task,
};
