// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops prefilter that passes its own stack to a kfunc as the request:
 * the verifier must refuse it (struct rso_fuse_req is not all-scalar, so
 * only the op's request argument is one).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "rso_misc.h"
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

char buf[8];

SEC("struct_ops/getattr_prefilter")
__failure __msg("expects a pointer to (struct rso_fuse_req), but this argument is a stack pointer")
int BPF_PROG(fuse_kfunc_stack_req_refused, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	struct rso_fuse_req fake = {};
	struct bpf_dynptr d;

	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d);
	return bpf_rso_fuse_set_data(&fake, &d, sizeof(buf));
}

SEC(".struct_ops.link")
struct fuse_ops fuse_kfunc_stack_req = {
	.getattr_prefilter = (void *)fuse_kfunc_stack_req_refused,
	.conn = "refused",
};
