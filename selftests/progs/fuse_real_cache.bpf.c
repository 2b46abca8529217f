// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops cache for a real FUSE connection (samples/fuse/real.rs, on a
 * kernel with kernel/patches/fuse): LOOKUP, GETATTR and READ of a whole
 * file of at most RSO_FUSE_DATA_MAX bytes (at offset 0, and at or past its
 * end) are answered in the kernel from maps that the postfilters fill with
 * the daemon's replies. The runner binds it
 * to "fuse:<n>" before it loads it.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_ops.h"

char _license[] SEC("license") = "GPL";

/* A LOOKUP's key: the parent and the first 16 bytes of the name. */
struct entry_key {
	__u64 parent;
	char name[16];
};

struct block {
	__u32 len;
	__u32 pad;
	__u8 data[RSO_FUSE_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct entry_key);
	__type(value, struct rso_fuse_out);
} entries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct rso_fuse_out);
} attrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct block);
} blocks SEC(".maps");

/* Dynptrs are made over map values: the key and block being built, per CPU. */
struct scratch {
	struct entry_key key;
	struct block block;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Answers given in the kernel, and requests sent on to the daemon. */
__u64 hits, misses;

/*
 * Copies of the reply to and from the op's out args, a field at a time:
 * the verifier checks each access to them against one member, and the
 * compiler would merge neighbouring 32-bit fields into one 64-bit access
 * (volatile keeps them apart).
 */
#define FIELDS(X)							\
	X(nodeid) X(size) X(mode) X(count) X(ino) X(blocks) X(atime)	\
	X(mtime) X(ctime) X(nlink) X(uid) X(gid) X(blksize) X(valid)	\
	X(generation)

static void load_out(struct rso_fuse_out *dst, const struct rso_fuse_out *src)
{
#define LOAD(f) dst->f = *(volatile const typeof(src->f) *)&src->f;
	FIELDS(LOAD)
#undef LOAD
}

static void store_out(struct rso_fuse_out *dst, const struct rso_fuse_out *src)
{
#define STORE(f) *(volatile typeof(dst->f) *)&dst->f = src->f;
	FIELDS(STORE)
#undef STORE
}

/* The key of a LOOKUP, in the scratch value; NULL for a name over 16 bytes. */
static struct entry_key *entry_key(const struct rso_fuse_req *req, const struct rso_fuse_in *in)
{
	struct bpf_dynptr d;
	struct scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return NULL;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.parent = in->nodeid;
	bpf_dynptr_from_mem(s->key.name, sizeof(s->key.name), 0, &d);
	if (bpf_rso_fuse_name(req, &d) < 0)
		return NULL;
	return &s->key;
}

SEC("struct_ops/lookup_prefilter")
int BPF_PROG(real_lookup_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct entry_key *k = entry_key(req, in_args);
	struct rso_fuse_out *e = k ? bpf_map_lookup_elem(&entries, k) : NULL;

	if (!e) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	store_out(out_args, e);
	__sync_fetch_and_add(&hits, 1);
	return BPF_FUSE_REPLIED;
}

SEC("struct_ops/lookup_postfilter")
int BPF_PROG(real_lookup_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	struct entry_key *k = entry_key(req, in_args);
	struct rso_fuse_out v;

	/* Helpers take no BTF pointer: the reply is copied to the stack. */
	load_out(&v, out_args);
	if (k)
		bpf_map_update_elem(&entries, k, &v, BPF_ANY);
	return 0;
}

SEC("struct_ops/getattr_prefilter")
int BPF_PROG(real_getattr_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct rso_fuse_out *a = bpf_map_lookup_elem(&attrs, &key);

	if (!a) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	store_out(out_args, a);
	__sync_fetch_and_add(&hits, 1);
	return BPF_FUSE_REPLIED;
}

SEC("struct_ops/getattr_postfilter")
int BPF_PROG(real_getattr_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct rso_fuse_out v;

	load_out(&v, out_args);
	bpf_map_update_elem(&attrs, &key, &v, BPF_ANY);
	return 0;
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(real_read_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct bpf_dynptr d;
	struct block *b;
	__u32 len;

	b = bpf_map_lookup_elem(&blocks, &key);
	len = b ? b->len : 0;
	/* A block is a whole file: a read at or past its end reads nothing. */
	if (b && in_args->offset >= len) {
		out_args->count = 0;
		__sync_fetch_and_add(&hits, 1);
		return BPF_FUSE_REPLIED;
	}
	if (in_args->offset)
		return BPF_FUSE_USER;
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
int BPF_PROG(real_read_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	struct rso_fuse_out *a;
	struct bpf_dynptr d;
	struct scratch *s;
	__u32 zero = 0;
	__u32 count;
	int n;

	/*
	 * Only a whole file, read from its start, is kept: the reply is
	 * shorter than the read, or as long as the cached attributes say the
	 * file is.
	 */
	s = bpf_map_lookup_elem(&scratch, &zero);
	a = bpf_map_lookup_elem(&attrs, &key);
	count = out_args->count;
	if (!s || in_args->offset || count > RSO_FUSE_DATA_MAX ||
	    (count >= in_args->size && !(a && a->size == count)))
		return 0;
	bpf_dynptr_from_mem(s->block.data, sizeof(s->block.data), 0, &d);
	n = bpf_rso_fuse_data(req, &d);
	if (n < 0)
		return 0;
	s->block.len = n;
	bpf_map_update_elem(&blocks, &key, &s->block, BPF_ANY);
	return 0;
}

SEC("struct_ops/write_prefilter")
int BPF_PROG(real_write_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;

	bpf_map_delete_elem(&attrs, &key);
	bpf_map_delete_elem(&blocks, &key);
	return BPF_FUSE_USER;
}

SEC(".struct_ops.link")
struct fuse_ops real_cache = {
	.lookup_prefilter = (void *)real_lookup_pre,
	.lookup_postfilter = (void *)real_lookup_post,
	.getattr_prefilter = (void *)real_getattr_pre,
	.getattr_postfilter = (void *)real_getattr_post,
	.read_prefilter = (void *)real_read_pre,
	.read_postfilter = (void *)real_read_post,
	.write_prefilter = (void *)real_write_pre,
	.conn = "fuse:0",
};
