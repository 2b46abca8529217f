// SPDX-License-Identifier: GPL-2.0
/*
 * Program association (BPF_PROG_ASSOC_STRUCT_OPS): syscall programs that ask
 * the module which testmod_ops instance they are associated with, and
 * struct_ops programs that ask the same from inside an op.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "testmod_ops.h"

char _license[] SEC("license") = "GPL";

extern int bpf_rso_testmod_assoc_id(void) __ksym;

SEC("syscall")
int syscall_a(void *ctx)
{
	return bpf_rso_testmod_assoc_id();
}

SEC("syscall")
int syscall_b(void *ctx)
{
	return bpf_rso_testmod_assoc_id();
}

/* Used by map_a only: associated with it. */
SEC("struct_ops/nosleep")
int BPF_PROG(nosleep_a, int x)
{
	return bpf_rso_testmod_assoc_id();
}

SEC("struct_ops/nosleep")
int BPF_PROG(nosleep_b, int x)
{
	return bpf_rso_testmod_assoc_id();
}

/* Used by two maps: no unique association. */
SEC("struct_ops/nosleep")
int BPF_PROG(nosleep_shared, int x)
{
	return bpf_rso_testmod_assoc_id();
}

SEC(".struct_ops.link")
struct testmod_ops map_a = { .nosleep = (void *)nosleep_a };

SEC(".struct_ops.link")
struct testmod_ops map_b = { .nosleep = (void *)nosleep_b };

SEC(".struct_ops.link")
struct testmod_ops map_shared_1 = { .nosleep = (void *)nosleep_shared };

SEC(".struct_ops.link")
struct testmod_ops map_shared_2 = { .nosleep = (void *)nosleep_shared };
