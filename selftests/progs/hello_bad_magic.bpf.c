// SPDX-License-Identifier: GPL-2.0
/* A hello_ops value that rso_hello's validate() must refuse: magic is 0. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/add")
int BPF_PROG(bad_add, int a, int b)
{
	return a + b;
}

SEC(".struct_ops.link")
struct hello_ops hello_bad = {
	.add = (void *)bad_add,
	.magic = 0,
};
