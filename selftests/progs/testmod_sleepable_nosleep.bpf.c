// SPDX-License-Identifier: GPL-2.0
/* A sleepable program for nosleep: check_member must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/nosleep")
int BPF_PROG(sleepy_nosleep, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct testmod_ops tm_sleepy = {
	.nosleep = (void *)sleepy_nosleep,
};
