// SPDX-License-Identifier: GPL-2.0
/* A filter_ops value without its mandatory decide op: validate() must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "filter_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/audit")
void BPF_PROG(audit_only, __u64 key, int verdict)
{
}

SEC(".struct_ops.link")
struct filter_ops filter_no_decide = {
	.audit = (void *)audit_only,
};
