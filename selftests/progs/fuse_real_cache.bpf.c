// SPDX-License-Identifier: GPL-2.0
/*
 * A fuse_ops cache for a real FUSE connection (samples/fuse/real.rs, on a
 * kernel with kernel/patches/fuse): LOOKUP, GETATTR, READ and READDIR are
 * answered in the kernel from maps that the postfilters fill with the
 * daemon's replies. READ replies are kept by node and offset, up to
 * RSO_FUSE_REAL_DATA_MAX bytes each (a page: fio's 4 KiB reads), and a read
 * at or past the end of a file whose size is known reads nothing; READDIR
 * replies are kept by directory and offset, up to the same size. A WRITE
 * forgets the node's attributes and data. The runner binds it to
 * a real connection (conn "fuse", fuse_fd) before it loads it.
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

/* A READ's or READDIR's key: the node and the offset it reads from. */
struct block_key {
	__u64 nodeid;
	__u64 offset;
};

struct block {
	__u32 len;
	__u32 eof;	/* READ: the file ends with this block */
	__u64 gen;	/* READ: the node's generation when it was kept */
	__u8 data[RSO_FUSE_REAL_DATA_MAX];
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

/* Enough for the 16 MiB of make bench's fio file, a page each. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct block_key);
	__type(value, struct block);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct block_key);
	__type(value, struct block);
} dirs SEC(".maps");

/* Each node's generation: a WRITE moves it on, and its kept data is stale. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} gens SEC(".maps");

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
	X(generation) X(fh) X(open_flags) X(rdev) X(atimensec)		\
	X(mtimensec) X(ctimensec) X(attr_flags) X(entry_valid)

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

/* The node's generation (0 until its first WRITE). */
static __always_inline __u64 gen_of(__u64 nodeid)
{
	__u64 *g = bpf_map_lookup_elem(&gens, &nodeid);

	return g ? *g : 0;
}

/* Answers a READ or READDIR from block b: at most in->size bytes of it. */
static __always_inline int answer(const struct rso_fuse_req *req,
				  const struct rso_fuse_in *in,
				  struct rso_fuse_out *out, struct block *b)
{
	struct bpf_dynptr d;
	__u32 len = b->len;

	if (len > in->size)
		len = in->size;
	if (len > RSO_FUSE_REAL_DATA_MAX)
		return BPF_FUSE_USER_POSTFILTER;
	/* No data: the end of the file or directory. */
	if (len && (bpf_dynptr_from_mem(b->data, len, 0, &d) ||
		    bpf_rso_fuse_set_data(req, &d, len) < 0))
		return BPF_FUSE_USER_POSTFILTER;
	out->count = len;
	__sync_fetch_and_add(&hits, 1);
	return BPF_FUSE_REPLIED;
}

/*
 * Keeps the reply's data (the first RSO_FUSE_REAL_DATA_MAX bytes the
 * programs see, if that is all of it) in map under key.
 */
static __always_inline void keep(const struct rso_fuse_req *req,
				 const struct rso_fuse_out *out, void *map,
				 struct block_key *key, __u32 eof, __u64 gen)
{
	struct bpf_dynptr d;
	struct scratch *s;
	__u32 zero = 0;
	int n;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || out->count > RSO_FUSE_REAL_DATA_MAX)
		return;
	bpf_dynptr_from_mem(s->block.data, sizeof(s->block.data), 0, &d);
	n = bpf_rso_fuse_data(req, &d);
	if (n < 0)
		return;
	s->block.len = n;
	s->block.eof = eof;
	s->block.gen = gen;
	bpf_map_update_elem(map, key, &s->block, BPF_ANY);
}

SEC("struct_ops/read_prefilter")
int BPF_PROG(real_read_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct block_key key = { .nodeid = in_args->nodeid, .offset = in_args->offset };
	struct rso_fuse_out *a;
	struct block *b;

	/* At or past the end of a file whose size is known: nothing to read. */
	a = bpf_map_lookup_elem(&attrs, &key.nodeid);
	if (a && in_args->offset >= a->size) {
		out_args->count = 0;
		__sync_fetch_and_add(&hits, 1);
		return BPF_FUSE_REPLIED;
	}
	/*
	 * A block answers a read it holds all of, or one that reads to the
	 * end of the file.
	 */
	b = bpf_map_lookup_elem(&blocks, &key);
	if (!b || b->gen != gen_of(key.nodeid) || (b->len < in_args->size && !b->eof)) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	return answer(req, in_args, out_args, b);
}

SEC("struct_ops/read_postfilter")
int BPF_PROG(real_read_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	struct block_key key = { .nodeid = in_args->nodeid, .offset = in_args->offset };
	__u32 count = out_args->count;
	struct rso_fuse_out *a;
	__u32 eof;

	/* A short reply, or one up to the size the attributes say, ends the file. */
	a = bpf_map_lookup_elem(&attrs, &key.nodeid);
	eof = count < in_args->size || (a && in_args->offset + count >= a->size);
	keep(req, out_args, &blocks, &key, eof, gen_of(key.nodeid));
	return 0;
}

SEC("struct_ops/write_prefilter")
int BPF_PROG(real_write_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	__u64 key = in_args->nodeid;
	__u64 gen = gen_of(key) + 1;

	bpf_map_delete_elem(&attrs, &key);
	bpf_map_update_elem(&gens, &key, &gen, BPF_ANY);
	return BPF_FUSE_USER;
}

SEC("struct_ops/readdir_prefilter")
int BPF_PROG(real_readdir_pre, const struct rso_fuse_req *req, struct rso_fuse_in *in_args,
	     struct rso_fuse_out *out_args)
{
	struct block_key key = { .nodeid = in_args->nodeid, .offset = in_args->offset };
	struct block *b;

	b = bpf_map_lookup_elem(&dirs, &key);
	if (!b || b->len > in_args->size) {
		__sync_fetch_and_add(&misses, 1);
		return BPF_FUSE_USER_POSTFILTER;
	}
	return answer(req, in_args, out_args, b);
}

SEC("struct_ops/readdir_postfilter")
int BPF_PROG(real_readdir_post, const struct rso_fuse_req *req,
	     const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args)
{
	struct block_key key = { .nodeid = in_args->nodeid, .offset = in_args->offset };

	keep(req, out_args, &dirs, &key, 0, 0);
	return 0;
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
	.readdir_prefilter = (void *)real_readdir_pre,
	.readdir_postfilter = (void *)real_readdir_post,
	.conn = RSO_FUSE_REAL_CONN,	/* with fuse_fd, set by the runner */
};
