// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops policy (samples/fuse) over the backing store: LOOKUP of
 * "secret" is denied (EACCES) and of "daemon" goes to the daemon; GETATTR
 * replies lose their write bits (postfilter); READs are clamped to 8 bytes
 * (the prefilter rewrites the in args); WRITEs are refused (EROFS). The rest
 * is served by the backing store, in the kernel. Bound to "policy".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fuse_ops.h"
#include "fuse_name.h"

char _license[] SEC("license") = "GPL";

#define EACCES 13
#define EROFS 30

SEC("struct_ops/lookup_prefilter")
int BPF_PROG(policy_lookup_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct bpf_dynptr d;
	struct name *name;
	__u32 zero = 0;
	int n;

	name = bpf_map_lookup_elem(&scratch, &zero);
	if (!name)
		return -EACCES;
	bpf_dynptr_from_mem(name->s, sizeof(name->s), 0, &d);
	n = bpf_rso_fuse_name(req, &d);
	if (n == 6 && name_is(name->s, "secret", 6))
		return -EACCES;
	if (n == 6 && name_is(name->s, "daemon", 6))
		return BPF_FUSE_USER;
	return BPF_FUSE_CONTINUE;
}

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(policy_getattr_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	return in_args->nodeid < 100 ? BPF_FUSE_POSTFILTER : BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/getattr_postfilter")
int BPF_PROG(policy_getattr_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	out_args->mode &= ~0222;
	return 0;
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(policy_read_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	if (in_args->size > 8)
		in_args->size = 8;
	return in_args->nodeid < 100 ? BPF_FUSE_CONTINUE : BPF_FUSE_USER;
}

SEC("struct_ops/write_prefilter")
int BPF_PROG(policy_write_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	return -EROFS;
}

SEC(".struct_ops.link")
struct fuse_ops policy = {
	.lookup_prefilter = (void *)policy_lookup_pre,
	.getattr_prefilter = (void *)policy_getattr_pre,
	.getattr_postfilter = (void *)policy_getattr_post,
	.read_prefilter = (void *)policy_read_pre,
	.write_prefilter = (void *)policy_write_pre,
	.conn = "policy",
};
