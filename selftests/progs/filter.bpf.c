// SPDX-License-Identifier: GPL-2.0
/* Two BPF implementations of filter_ops (samples/filter/filter_ops.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "filter_ops.h"

char _license[] SEC("license") = "GPL";

/* Policy A: deny odd keys. */
SEC("struct_ops/decide")
int BPF_PROG(decide_odd, __u64 key)
{
	return key & 1;
}

/* Policy B: deny keys above 100, and audit. */
SEC("struct_ops/decide")
int BPF_PROG(decide_big, __u64 key)
{
	return key > 100 ? 2 : 0;
}

__u64 audits;

SEC("struct_ops/audit")
void BPF_PROG(audit_count, __u64 key, int verdict)
{
	__sync_fetch_and_add(&audits, 1);
}

SEC(".struct_ops.link")
struct filter_ops filter_a = {
	.decide = (void *)decide_odd,
};

SEC(".struct_ops.link")
struct filter_ops filter_b = {
	.decide = (void *)decide_big,
	.audit = (void *)audit_count,
};

/* Policy C: allow everything; only used as the wrong "old" map of a replace. */
SEC("struct_ops/decide")
int BPF_PROG(decide_none, __u64 key)
{
	return 0;
}

SEC(".struct_ops.link")
struct filter_ops filter_c = {
	.decide = (void *)decide_none,
};
