// SPDX-License-Identifier: GPL-2.0
/* A sleepable program for hello_ops's add, which does not opt in to sleeping. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/add")
__failure __msg("attach to unsupported member add of struct hello_ops")
int BPF_PROG(sleepable_refused_by_default, int a, int b)
{
	return a + b;
}

SEC(".struct_ops.link")
struct hello_ops hello_sleepy = {
	.add = (void *)sleepable_refused_by_default,
	.magic = 1,
};
