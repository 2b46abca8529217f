// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops policy for a real FUSE connection (samples/fuse/real.rs, on a
 * kernel with kernel/patches/fuse): LOOKUP of "secret" is denied (EACCES),
 * and the attributes of LOOKUP and GETATTR replies lose their write bits
 * (postfilters). The runner binds it to "fuse:<n>" before it loads it.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_ops.h"
#include "fuse_name.h"

char _license[] SEC("license") = "GPL";

#define EACCES 13

SEC("struct_ops/lookup_prefilter")
int BPF_PROG(real_policy_lookup_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	struct bpf_dynptr d;
	struct name *name;
	__u32 zero = 0;

	name = bpf_map_lookup_elem(&scratch, &zero);
	if (!name)
		return -EACCES;
	bpf_dynptr_from_mem(name->s, sizeof(name->s), 0, &d);
	if (bpf_rso_fuse_name(req, &d) == 6 && name_is(name->s, "secret", 6))
		return -EACCES;
	return BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/lookup_postfilter")
int BPF_PROG(real_policy_lookup_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	out_args->mode &= ~0222;
	return 0;
}

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(real_policy_getattr_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	return BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/getattr_postfilter")
int BPF_PROG(real_policy_getattr_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	out_args->mode &= ~0222;
	return 0;
}

SEC(".struct_ops.link")
struct fuse_ops real_policy = {
	.lookup_prefilter = (void *)real_policy_lookup_pre,
	.lookup_postfilter = (void *)real_policy_lookup_post,
	.getattr_prefilter = (void *)real_policy_getattr_pre,
	.getattr_postfilter = (void *)real_policy_getattr_post,
	.conn = "fuse:0",
};
