// SPDX-License-Identifier: GPL-2.0
/* A limit above RSO_TESTMOD_LIMIT_MAX: init_member must refuse it with ERANGE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/nosleep")
int BPF_PROG(bad_nosleep, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct testmod_ops tm_bad_limit = {
	.nosleep = (void *)bad_nosleep,
	.limit = RSO_TESTMOD_LIMIT_MAX + 1,
};
