// SPDX-License-Identifier: GPL-2.0
/*
 * A hello_ops program that calls a fuse_ops kfunc: the kfunc set's filter
 * allows only fuse_ops programs, since the kfunc casts its request back to
 * what fuse_ops's ops were called with.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "hello_ops.h"
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/negate")
__failure __msg("calling kernel function bpf_rso_fuse_data is not allowed")
int BPF_PROG(fuse_kfunc_other_type_refused, int x)
{
	/* The filter refuses the call before its arguments are checked. */
	return bpf_rso_fuse_data(NULL, NULL) - x;
}

SEC(".struct_ops.link")
struct hello_ops hello_fuse_kfunc = {
	.negate = (void *)fuse_kfunc_other_type_refused,
	.magic = 1,
};
