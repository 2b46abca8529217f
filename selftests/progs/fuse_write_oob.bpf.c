// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops prefilter that writes past the end of its out args (a writable
 * struct of 136 bytes): the verifier must refuse it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

/* The offset in the expected message below. */
_Static_assert(sizeof(struct rso_fuse_out) == 136, "rso_fuse_out changed: update off=");

SEC("struct_ops/getattr_prefilter")
__failure __msg("cannot write into ptr_rso_fuse_out at off=136 size=8")
int BPF_PROG(fuse_write_oob_refused, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	*(__u64 *)((char *)out_args + sizeof(*out_args)) = 0;
	return BPF_FUSE_USER;
}

SEC(".struct_ops.link")
struct fuse_ops fuse_write_oob = {
	.getattr_prefilter = (void *)fuse_write_oob_refused,
	.conn = "refused",
};
