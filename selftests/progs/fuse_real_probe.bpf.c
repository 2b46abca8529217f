// SPDX-License-Identifier: GPL-2.0
/*
 * Probes of the FUSE request filter's rules on a real connection
 * (samples/fuse/real.rs, on a kernel with kernel/patches/fuse):
 *
 * - LOOKUP and GETATTR prefilters note who asks (uid, gid, pid);
 * - a LOOKUP postfilter fails the LOOKUP of node 3 ("secret" in the
 *   runner's tree) with EACCES: fs/fuse owes the daemon a FORGET;
 * - an OPEN postfilter fails the OPEN of node 4 ("vault") with EPERM:
 *   fs/fuse owes the daemon a RELEASE;
 * - a READ prefilter clamps each READ to 8 bytes, a rewrite the daemon
 *   must see.
 *
 * The runner binds it to a real connection (conn "fuse", fuse_fd) before
 * it loads it.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

#define EPERM 1
#define EACCES 13

/* The last caller a LOOKUP or GETATTR prefilter saw (the runner reads .bss). */
struct {
	__u32 uid;
	__u32 gid;
	__u32 pid;
} caller;

static void note(const struct rso_fuse_req *req)
{
	caller.uid = req->uid;
	caller.gid = req->gid;
	caller.pid = req->pid;
}

SEC("struct_ops/lookup_prefilter")
int BPF_PROG(real_probe_lookup_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	note(req);
	return BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/lookup_postfilter")
int BPF_PROG(real_probe_lookup_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	return out_args->nodeid == 3 ? -EACCES : 0;
}

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(real_probe_getattr_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	note(req);
	return BPF_FUSE_USER;
}

SEC("struct_ops/open_prefilter")
int BPF_PROG(real_probe_open_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	return BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/open_postfilter")
int BPF_PROG(real_probe_open_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	return req->nodeid == 4 ? -EPERM : 0;
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(real_probe_read_pre, const struct rso_fuse_req *req,
	     struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	if (in_args->size > 8)
		in_args->size = 8;
	return BPF_FUSE_USER;
}

SEC(".struct_ops.link")
struct fuse_ops real_probe = {
	.lookup_prefilter = (void *)real_probe_lookup_pre,
	.lookup_postfilter = (void *)real_probe_lookup_post,
	.getattr_prefilter = (void *)real_probe_getattr_pre,
	.open_prefilter = (void *)real_probe_open_pre,
	.open_postfilter = (void *)real_probe_open_post,
	.read_prefilter = (void *)real_probe_read_pre,
	.conn = RSO_FUSE_REAL_CONN,	/* with fuse_fd, set by the runner */
};
