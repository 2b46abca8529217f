// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops policy for a real FUSE connection (samples/fuse/real.rs, on a
 * kernel with kernel/patches/fuse): LOOKUP of "secret" is denied (EACCES);
 * "vault" may be looked up, but OPEN of the node its LOOKUP returned is
 * denied (EPERM); and the attributes of LOOKUP and GETATTR replies lose
 * their write bits (postfilters). The runner binds it to a real connection (conn "fuse", fuse_fd)
 * before it loads it.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_ops.h"
#include "fuse_name.h"

char _license[] SEC("license") = "GPL";

#define EPERM 1
#define EACCES 13

/* The nodes of "vault", from the LOOKUP replies: OPEN of them is denied. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} vaults SEC(".maps");

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
	struct bpf_dynptr d;
	struct name *name;
	__u32 zero = 0;
	__u64 node;
	__u8 one = 1;

	out_args->mode &= ~0222;
	name = bpf_map_lookup_elem(&scratch, &zero);
	if (!name)
		return -EACCES;
	bpf_dynptr_from_mem(name->s, sizeof(name->s), 0, &d);
	if (bpf_rso_fuse_name(req, &d) == 5 && name_is(name->s, "vault", 5)) {
		node = out_args->nodeid;
		bpf_map_update_elem(&vaults, &node, &one, BPF_ANY);
	}
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

SEC("struct_ops/open_prefilter")
int BPF_PROG(real_policy_open_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	__u64 node = in_args->nodeid;

	return bpf_map_lookup_elem(&vaults, &node) ? -EPERM : BPF_FUSE_USER;
}

SEC(".struct_ops.link")
struct fuse_ops real_policy = {
	.lookup_prefilter = (void *)real_policy_lookup_pre,
	.lookup_postfilter = (void *)real_policy_lookup_post,
	.getattr_prefilter = (void *)real_policy_getattr_pre,
	.getattr_postfilter = (void *)real_policy_getattr_post,
	.open_prefilter = (void *)real_policy_open_pre,
	.conn = RSO_FUSE_REAL_CONN,	/* with fuse_fd, set by the runner */
};
