// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops program for a real FUSE connection that answers badly
 * (fuse_real_bad_replies): a LOOKUP of "badmode" is answered with a mode of
 * no file type, of "badnode" with a node the daemon never gave (fs/fuse
 * sends it to the daemon instead), of "badret" with a route that does not
 * exist; a READ of 6
 * bytes is answered without its data, a READ of other sizes under 16 with
 * 16 bytes, more than it asked for; the GETATTR postfilter of the
 * daemon's node 3 returns neither 0 nor an errno; an OPEN of its node 4 is
 * answered (O_NONBLOCK), which only the daemon may do, or failed with
 * ENOSYS, which only the daemon may send; the OPEN postfilter of other
 * nodes rewrites the daemon's file handle, which the module must not let
 * through. The runner binds it to a real connection (conn "fuse",
 * fuse_fd) before it loads it.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_ops.h"
#include "fuse_name.h"

char _license[] SEC("license") = "GPL";

#define ENOSYS 38
#define O_NONBLOCK 04000

SEC("struct_ops/lookup_prefilter")
int BPF_PROG(bad_lookup_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct bpf_dynptr d;
	struct name *b;
	__u32 zero = 0;
	int n;

	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b)
		return BPF_FUSE_USER;
	bpf_dynptr_from_mem(b->s, sizeof(b->s), 0, &d);
	n = bpf_rso_fuse_name(req, &d);
	if (n == 7 && name_is(b->s, "badmode", 7)) {
		/* The root: a node the server holds, so the answer is used. */
		out_args->nodeid = 1;
		out_args->ino = 1;
		out_args->nlink = 1;
		out_args->mode = 0644;	/* no S_IFREG */
		return BPF_FUSE_REPLIED;
	}
	if (n == 7 && name_is(b->s, "badnode", 7)) {
		out_args->nodeid = 42;
		out_args->ino = 42;
		out_args->nlink = 1;
		out_args->mode = 0100644;
		return BPF_FUSE_REPLIED;
	}
	if (n == 6 && name_is(b->s, "badret", 6))
		return 99;
	return BPF_FUSE_USER;
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(bad_read_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct bpf_dynptr d;
	struct name *b;
	__u32 zero = 0;

	/* A 6-byte read is answered with no data at all: it reads nothing. */
	if (in_args->size == 6) {
		out_args->count = 6;
		return BPF_FUSE_REPLIED;
	}
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b || in_args->size >= sizeof(b->s))
		return BPF_FUSE_USER;
	__builtin_memset(b->s, 'x', sizeof(b->s));
	bpf_dynptr_from_mem(b->s, sizeof(b->s), 0, &d);
	bpf_rso_fuse_set_data(req, &d, sizeof(b->s));
	out_args->count = sizeof(b->s);
	return BPF_FUSE_REPLIED;
}

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(bad_getattr_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	return BPF_FUSE_USER_POSTFILTER;
}

SEC("struct_ops/getattr_postfilter")
int BPF_PROG(bad_getattr_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	return in_args->nodeid == 3 ? 7 : 0;
}

SEC("struct_ops/open_prefilter")
int BPF_PROG(bad_open_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	if (in_args->nodeid != 4)
		return BPF_FUSE_USER_POSTFILTER;
	return in_args->flags & O_NONBLOCK ? BPF_FUSE_REPLIED : -ENOSYS;
}

SEC("struct_ops/open_postfilter")
int BPF_PROG(bad_open_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	out_args->fh = ~0ULL;
	return 0;
}

SEC(".struct_ops.link")
struct fuse_ops real_bad = {
	.lookup_prefilter = (void *)bad_lookup_pre,
	.read_prefilter = (void *)bad_read_pre,
	.getattr_prefilter = (void *)bad_getattr_pre,
	.getattr_postfilter = (void *)bad_getattr_post,
	.open_prefilter = (void *)bad_open_pre,
	.open_postfilter = (void *)bad_open_post,
	.conn = RSO_FUSE_REAL_CONN,	/* with fuse_fd, set by the runner */
};
