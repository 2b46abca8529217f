/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse_ops: the struct_ops type of the rso_fuse sample, a FUSE-like request
 * path that BPF programs filter, in the shape of fuse-bpf (RFC v4): a
 * prefilter and a postfilter per opcode, whose return codes route each
 * request to the kernel's backing store, to the userspace daemon, or fail it.
 *
 * The one definition of the type: the module's C part and typed Rust view
 * (generated), its twin in C (samples/fuse_c), the BPF programs and the
 * selftest runner all come from this file.
 */
#ifndef RSO_FUSE_OPS_H
#define RSO_FUSE_OPS_H

#include "../../rust/rso_call.h"

/*
 * What a prefilter returns: where the request goes (fuse-bpf's codes).
 *
 *   BPF_FUSE_CONTINUE         the backing store serves it, in the kernel
 *   BPF_FUSE_USER             the daemon serves it
 *   BPF_FUSE_POSTFILTER       the backing store, then the postfilter
 *   BPF_FUSE_USER_POSTFILTER  the daemon, then the postfilter
 *   BPF_FUSE_REPLIED          (this sample's own) the prefilter wrote the
 *                             reply into out (and the data, for READ
 *                             and READDIR); not for OPEN, whose handle
 *                             only the daemon can give (EIO)
 *   a negative errno          the request fails with it
 *
 * A postfilter returns 0 to keep the reply (which it may rewrite), or a
 * negative errno to fail the request. Anything else fails it with EIO, and
 * so does -ENOSYS: from a FUSE server it means "not implemented", which the
 * kernel remembers for the connection.
 */
#define BPF_FUSE_CONTINUE		0
#define BPF_FUSE_USER			1
#define BPF_FUSE_POSTFILTER		3
#define BPF_FUSE_USER_POSTFILTER	4
#define BPF_FUSE_REPLIED		6

enum rso_fuse_opcode {
	RSO_FUSE_LOOKUP = 1,	/* in: nodeid (the parent), name; out: nodeid */
	RSO_FUSE_GETATTR,	/* in: nodeid; out: size, mode */
	RSO_FUSE_READ,		/* in: nodeid, offset, size; out: count, data */
	RSO_FUSE_WRITE,		/* in: nodeid, offset, size, data; out: count */
	RSO_FUSE_OPEN,		/* in: nodeid, flags; out: fh, open_flags */
	RSO_FUSE_READDIR,	/* in: nodeid, offset, size; out: count, data */
};

#define RSO_FUSE_NAME_MAX	64	/* bytes of a LOOKUP name */
#define RSO_FUSE_DATA_MAX	256	/* bytes of READ or WRITE data (/dev/rso_fuse) */
/* Bytes of READ, READDIR or WRITE data on a real FUSE connection: a page. */
#define RSO_FUSE_REAL_DATA_MAX	4096
#define RSO_FUSE_CONN_MAX	16	/* bytes of a connection name, NUL included */
#define RSO_FUSE_REAL_CONN	"fuse"	/* the conn of a real FUSE connection */
#define RSO_FUSE_QUEUE_MAX	8	/* requests a connection holds unanswered */

/*
 * The request, as programs see it (read-only): fuse-bpf's meta info. The
 * kfuncs take it to find the request's name and data. A kfunc argument whose
 * struct holds only scalars also accepts a pointer to any memory of that
 * size (the program's stack, a map value: __btf_type_is_scalar_struct() in
 * kernel/bpf/verifier.c); the zero-length array makes the verifier accept
 * only a pointer it knows to be one, the op's argument. The generator
 * refuses a kfunc request struct without one. It comes first: at the end,
 * btf_struct_walk() (kernel/bpf/btf.c) would let programs read past the
 * struct as into a flexible array, and the generator refuses that too.
 */
struct rso_fuse_req {
#ifndef __BINDGEN__
	__u8 kernel_only[0];	/* BTF only: Rust needs no view of it */
#endif
	__u64 unique;	/* 0 until the request goes to the daemon */
	__u64 nodeid;
	__u32 opcode;
	__u32 pid;	/* the caller's, in the connection's pid namespace */
	__u32 uid;	/* real FUSE: the caller's fsuid, as the server sees it */
	__u32 gid;	/* real FUSE: the caller's fsgid (both 0 on /dev/rso_fuse) */
};

/* The in arguments: a prefilter may rewrite them. */
struct rso_fuse_in {
	__u64 nodeid;
	__u64 offset;
	__u32 size;
	__u32 namelen;
	__u32 flags;		/* OPEN: the file's flags, as fs/fuse sends them */
	__u32 reserved;
};

/*
 * The out arguments, the reply: a postfilter may rewrite them. On a real
 * FUSE connection (see samples/fuse/real.rs) they are the reply's
 * attributes (LOOKUP, GETATTR: every field of struct fuse_attr, valid the
 * attribute timeout and entry_valid the entry timeout, both in seconds),
 * fh and open_flags (OPEN), and count, the bytes read or written (READ,
 * READDIR, WRITE); a prefilter that answers a LOOKUP or GETATTR fills them
 * all. A READDIR's data is struct fuse_dirent records, as a server sends
 * them. A postfilter may not change a LOOKUP's nodeid or an OPEN's fh.
 */
struct rso_fuse_out {
	__u64 nodeid;
	__u64 size;
	__u32 mode;
	__u32 count;
	__u64 ino;
	__u64 blocks;
	__u64 atime;
	__u64 mtime;
	__u64 ctime;
	__u32 nlink;
	__u32 uid;
	__u32 gid;
	__u32 blksize;
	__u64 valid;		/* seconds the kernel may keep the entry and attributes */
	__u64 generation;	/* LOOKUP */
	__u64 fh;		/* OPEN: the server's file handle (read-only) */
	__u32 open_flags;	/* OPEN: FOPEN_* */
	__u32 rdev;
	__u32 atimensec;
	__u32 mtimensec;
	__u32 ctimensec;
	__u32 attr_flags;	/* FUSE_ATTR_* */
	__u64 entry_valid;	/* LOOKUP: seconds the kernel may keep the name */
};

/*
 * The members, shared with the C twin's struct fuse_c_ops. Names and data
 * reach programs through the kfuncs below, as dynptrs.
 */
#define RSO_FUSE_OPS_MEMBERS						\
	int (*lookup_prefilter)(const struct rso_fuse_req *req,		\
				struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*lookup_postfilter)(const struct rso_fuse_req *req,	\
				 const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*getattr_prefilter)(const struct rso_fuse_req *req,	\
				 struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*getattr_postfilter)(const struct rso_fuse_req *req,	\
				  const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*read_prefilter)(const struct rso_fuse_req *req,		\
			      struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*read_postfilter)(const struct rso_fuse_req *req,		\
			       const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*write_prefilter)(const struct rso_fuse_req *req,		\
			       struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*write_postfilter)(const struct rso_fuse_req *req,		\
				const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*open_prefilter)(const struct rso_fuse_req *req,		\
			      struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*open_postfilter)(const struct rso_fuse_req *req,		\
			       const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*readdir_prefilter)(const struct rso_fuse_req *req,	\
				 struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	int (*readdir_postfilter)(const struct rso_fuse_req *req,	\
				  const struct rso_fuse_in *in_args, struct rso_fuse_out *out_args); \
	/* The benchmark's ops (make bench): 0, 2 and 5 arguments. */	\
	int (*bench0)(void);						\
	int (*bench2)(int a, int b);					\
	int (*bench5)(int a, int b, int c, int d, int e);		\
	/*								\
	 * The connection the instance binds to (reg), NUL-terminated:	\
	 * a /dev/rso_fuse connection's name, or "fuse" for the real	\
	 * FUSE connection fuse_fd names.				\
	 */								\
	char conn[RSO_FUSE_CONN_MAX];					\
	/*								\
	 * With conn "fuse": a file descriptor, in the process that	\
	 * attaches the instance, of the connection's /dev/fuse file	\
	 * (its server's) or, for root, of a file of its mount.		\
	 */								\
	int fuse_fd;

struct fuse_ops {
	RSO_FUSE_OPS_MEMBERS
};

/* The C twin's type (samples/fuse_c): the same members. */
struct fuse_c_ops {
	RSO_FUSE_OPS_MEMBERS
};

/*
 * Kfuncs for fuse_ops programs: the generator writes their C forwarders and
 * registration, and the Rust trait FuseOpsKfuncs whose methods (in the
 * module) are their bodies. Each copies between the request and a dynptr
 * the program made (bpf_dynptr_from_mem() over a map value: the verifier
 * accepts no other memory for it), and returns the bytes copied or a
 * negative errno: E2BIG when the dynptr is too small (or len is larger than
 * the data a request holds), EINVAL when it is read-only.
 *
 *   bpf_rso_fuse_name(req, dst)          the LOOKUP name into dst
 *   bpf_rso_fuse_data(req, dst)          the data (WRITE payload, READ or
 *                                        READDIR reply)
 *   bpf_rso_fuse_set_data(req, src, len) replaces the data with the first
 *                                        len bytes of src (a READ or READDIR
 *                                        reply a prefilter answers, a
 *                                        rewritten WRITE)
 *
 * A request holds at most RSO_FUSE_DATA_MAX bytes of data on /dev/rso_fuse,
 * and RSO_FUSE_REAL_DATA_MAX on a real FUSE connection: the first that many
 * bytes of a longer WRITE or reply (count says how long it is).
 *
 * req must be the request the op was called with: struct rso_fuse_req is
 * never taken by non-const pointer, never embedded in another struct, and
 * has a zero-length array (see above), which the generator checks.
 */
struct bpf_dynptr;
int bpf_rso_fuse_name(const struct rso_fuse_req *req, const struct bpf_dynptr *dst) __rso_kfunc;
int bpf_rso_fuse_data(const struct rso_fuse_req *req, const struct bpf_dynptr *dst) __rso_kfunc;
int bpf_rso_fuse_set_data(const struct rso_fuse_req *req, const struct bpf_dynptr *src,
			  __u32 len) __rso_kfunc;

/* /dev/rso_fuse: a client's request, RSO_FUSE_IOC_REQUEST. */
struct rso_fuse_request {
	char conn[RSO_FUSE_CONN_MAX];	/* in: the connection */
	__u32 opcode;			/* in */
	__u32 namelen;			/* in: LOOKUP */
	__u64 nodeid;			/* in */
	__u64 offset;			/* in: READ, WRITE */
	__u32 size;			/* in: READ, WRITE */
	__s32 error;			/* out: 0 or a negative errno */
	struct rso_fuse_out out;	/* out */
	char name[RSO_FUSE_NAME_MAX];	/* in: LOOKUP */
	__u8 data[RSO_FUSE_DATA_MAX];	/* in: WRITE; out: READ */
};

/* /dev/rso_fuse: an in-kernel loop, RSO_FUSE_IOC_BENCH (make bench). */
enum rso_fuse_bench_kind {
	RSO_FUSE_BENCH_CALL0 = 0,	/* ops call: bench0() */
	RSO_FUSE_BENCH_CALL2 = 2,	/* bench2(a, b) */
	RSO_FUSE_BENCH_CALL5 = 5,	/* bench5(a, b, c, d, e) */
	RSO_FUSE_BENCH_LOOKUP = 10,	/* find the instance bound to conn */
	RSO_FUSE_BENCH_DIRECT0 = 20,	/* a direct call (C twin only): +0/2/5 */
	RSO_FUSE_BENCH_INDIRECT0 = 30,	/* an indirect call (C twin only): +0/2/5 */
};

/*
 * The most loops of one RSO_FUSE_IOC_BENCH (E2BIG beyond): the loops never
 * sleep (Linux 7.3's Rust API has no cond_resched()), so each ioctl is
 * bounded to about a million calls, far below the soft-lockup threshold.
 */
#define RSO_FUSE_BENCH_LOOPS_MAX	(1U << 20)

struct rso_fuse_bench {
	char conn[RSO_FUSE_CONN_MAX];	/* in: the instance's connection */
	__u32 kind;			/* in: enum rso_fuse_bench_kind */
	__u32 loops;			/* in: at most RSO_FUSE_BENCH_LOOPS_MAX */
	__u64 ns;			/* out: for all loops */
	__s64 sum;			/* out: of the return values */
};

/* /dev/rso_fuse_daemon: the daemon's side. */
struct rso_fuse_mount {
	char conn[RSO_FUSE_CONN_MAX];	/* the connection this file serves */
};

/* RSO_FUSE_IOC_READ_REQ: waits for the next request. */
struct rso_fuse_dreq {
	__u64 unique;
	__u64 nodeid;
	__u64 offset;
	__u32 opcode;
	__u32 size;
	__u32 namelen;
	__u32 pad;
	char name[RSO_FUSE_NAME_MAX];
	__u8 data[RSO_FUSE_DATA_MAX];	/* WRITE: size bytes */
};

/* RSO_FUSE_IOC_REPLY: the reply to request unique. */
struct rso_fuse_dreply {
	__u64 unique;
	__s32 error;			/* 0 or a negative errno */
	__u32 pad;
	struct rso_fuse_out out;	/* READ: out.count bytes of data */
	__u8 data[RSO_FUSE_DATA_MAX];
};

#define RSO_FUSE_IOC_MAGIC 'F'
#define RSO_FUSE_IOC_REQUEST	_IOWR(RSO_FUSE_IOC_MAGIC, 1, struct rso_fuse_request)
#define RSO_FUSE_IOC_BENCH	_IOWR(RSO_FUSE_IOC_MAGIC, 2, struct rso_fuse_bench)
#define RSO_FUSE_IOC_MOUNT	_IOW(RSO_FUSE_IOC_MAGIC, 3, struct rso_fuse_mount)
#define RSO_FUSE_IOC_READ_REQ	_IOR(RSO_FUSE_IOC_MAGIC, 4, struct rso_fuse_dreq)
#define RSO_FUSE_IOC_REPLY	_IOW(RSO_FUSE_IOC_MAGIC, 5, struct rso_fuse_dreply)
/* Unmounts at once, as if the daemon had died (FUSE's connection abort). */
#define RSO_FUSE_IOC_ABORT	_IO(RSO_FUSE_IOC_MAGIC, 6)

#endif /* RSO_FUSE_OPS_H */
