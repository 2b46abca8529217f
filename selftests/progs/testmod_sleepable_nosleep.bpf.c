// SPDX-License-Identifier: GPL-2.0
/* A sleepable program for nosleep: check_member must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/nosleep")
__failure __msg("attach to unsupported member nosleep of struct testmod_ops")
int BPF_PROG(check_member_rejects, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct testmod_ops tm_sleepy = {
	.nosleep = (void *)check_member_rejects,
};
