/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's ops, for fuse_ops (fuse_bench.bpf.c) and its C twin's
 * fuse_c_ops (fuse_c_bench.bpf.c): BENCH_OPS is the struct.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/bench0")
int BPF_PROG(bench0)
{
	return 1;
}

SEC("struct_ops/bench2")
int BPF_PROG(bench2, int a, int b)
{
	return a + b;
}

SEC("struct_ops/bench5")
int BPF_PROG(bench5, int a, int b, int c, int d, int e)
{
	return a + b + c + d + e;
}

SEC(".struct_ops.link")
struct BENCH_OPS bench = {
	.bench0 = (void *)bench0,
	.bench2 = (void *)bench2,
	.bench5 = (void *)bench5,
	.conn = "bench",
};
