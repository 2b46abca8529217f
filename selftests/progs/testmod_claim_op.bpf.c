// SPDX-License-Identifier: GPL-2.0
/*
 * claim_op = 1 makes rso_testmod's init_member claim the op nosleep: the
 * layer must refuse the map update.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/nosleep")
int BPF_PROG(claim_nosleep, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct testmod_ops tm_claim = {
	.nosleep = (void *)claim_nosleep,
	.claim_op = 1,
};
