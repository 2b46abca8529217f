// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops prefilter that reads past the end of its request (32 bytes):
 * the verifier must refuse it. Had the request's zero-length array been its
 * last member, btf_struct_walk() would have taken it for a flexible array
 * and let the read through, into the module's data and the stack beyond;
 * rsogen.py refuses such a header.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

/* The offset in the expected message below. */
_Static_assert(sizeof(struct rso_fuse_req) == 32, "rso_fuse_req changed: update off=");

SEC("struct_ops/getattr_prefilter")
__failure __msg("access beyond struct rso_fuse_req at off 32 size 8")
int BPF_PROG(fuse_req_overread_refused, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	out_args->size = *(__u64 *)((char *)req + 32);
	return BPF_FUSE_REPLIED;
}

SEC(".struct_ops.link")
struct fuse_ops fuse_req_overread = {
	.getattr_prefilter = (void *)fuse_req_overread_refused,
	.conn = "refused",
};
