// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops cache (samples/fuse): GETATTR and READ (at offset 0) are
 * answered in the kernel from maps that the postfilters fill with the
 * daemon's replies; a WRITE drops the node's entries. Bound to "cache".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

struct attr {
	__u64 size;
	__u32 mode;
	__u32 pad;
};

struct block {
	__u32 len;
	__u32 pad;
	__u8 data[RSO_FUSE_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct attr);
} attrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct block);
} blocks SEC(".maps");

/*
 * The block a read postfilter fills: dynptrs are made over map values (not
 * the stack), and this one is per CPU (programs run with migration disabled).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct block);
} scratch SEC(".maps");

/* Answers given in the kernel, and requests sent on to the daemon. */
__u64 hits, misses;

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(cache_getattr_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct attr *a = bpf_map_lookup_elem(&attrs, &key);

	if (!a) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	out_args->size = a->size;
	out_args->mode = a->mode;
	__sync_fetch_and_add(&hits, 1);
	return BPF_FUSE_REPLIED;
}

SEC("struct_ops/getattr_postfilter")
int BPF_PROG(cache_getattr_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct attr a = { .size = out_args->size, .mode = out_args->mode };

	bpf_map_update_elem(&attrs, &key, &a, BPF_ANY);
	return 0;
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(cache_read_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct bpf_dynptr d;
	struct block *b;
	__u32 len;

	if (in_args->offset)
		return BPF_FUSE_USER;
	b = bpf_map_lookup_elem(&blocks, &key);
	len = b ? b->len : 0;
	if (!b || len > in_args->size || len > RSO_FUSE_DATA_MAX) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	if (bpf_dynptr_from_mem(b->data, len, 0, &d) || bpf_rso_fuse_set_data(req, &d, len) < 0)
		return BPF_FUSE_USER_POSTFILTER;
	out_args->count = len;
	__sync_fetch_and_add(&hits, 1);
	return BPF_FUSE_REPLIED;
}

SEC("struct_ops/read_postfilter")
int BPF_PROG(cache_read_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct bpf_dynptr d;
	__u32 zero = 0;
	struct block *b;
	int n;

	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b || in_args->offset)
		return 0;
	bpf_dynptr_from_mem(b->data, sizeof(b->data), 0, &d);
	n = bpf_rso_fuse_data(req, &d);
	if (n < 0)
		return 0;
	b->len = n;
	bpf_map_update_elem(&blocks, &key, b, BPF_ANY);
	return 0;
}

SEC("struct_ops/write_prefilter")
int BPF_PROG(cache_write_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;

	bpf_map_delete_elem(&attrs, &key);
	bpf_map_delete_elem(&blocks, &key);
	return BPF_FUSE_USER;
}

SEC(".struct_ops.link")
struct fuse_ops cache = {
	.getattr_prefilter = (void *)cache_getattr_pre,
	.getattr_postfilter = (void *)cache_getattr_post,
	.read_prefilter = (void *)cache_read_pre,
	.read_postfilter = (void *)cache_read_post,
	.write_prefilter = (void *)cache_write_pre,
	.conn = "cache",
};
