// SPDX-License-Identifier: GPL-2.0
/* A hello_ops map without a link (SEC(".struct_ops")): reg on update, unreg on delete. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(nolink_add, int a, int b)
{
	return a + b;
}

SEC("struct_ops/negate")
int BPF_PROG(nolink_negate, int x)
{
	return -x;
}

SEC(".struct_ops")
struct hello_ops hello_nolink = {
	.add = (void *)nolink_add,
	.negate = (void *)nolink_negate,
	.magic = 0xabc,
};
