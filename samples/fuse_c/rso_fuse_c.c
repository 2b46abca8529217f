// SPDX-License-Identifier: GPL-2.0
/*
 * rso_fuse_c: the C twin of rso_fuse's struct_ops type, in plain C the way
 * bpf_testmod registers its types: struct fuse_c_ops has the members of
 * fuse_ops (fuse_ops.h), instances bind to a connection name in reg, and
 * /dev/rso_fuse_c runs the same in-kernel call loops as /dev/rso_fuse
 * (RSO_FUSE_IOC_BENCH), plus the floors: a direct and an indirect call of a
 * native function. It is the baseline `make bench` measures the Rust layer
 * against; it has no request path, and registers no btf_struct_access, so
 * programs may read the filter ops' arguments but not write them. Only the
 * bench ops are compared.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include "../fuse/fuse_ops.h"

/* The stubs: their parameter names and types are what the verifier reads. */
#define STUB3(op)							\
	static int fuse_c_ops__##op(const struct rso_fuse_req *req,	\
				    struct rso_fuse_in *in_args,	\
				    struct rso_fuse_out *out_args)	\
	{ return 0; }
#define STUB3C(op)							\
	static int fuse_c_ops__##op(const struct rso_fuse_req *req,	\
				    const struct rso_fuse_in *in_args,	\
				    struct rso_fuse_out *out_args)	\
	{ return 0; }
STUB3(lookup_prefilter) STUB3C(lookup_postfilter)
STUB3(getattr_prefilter) STUB3C(getattr_postfilter)
STUB3(read_prefilter) STUB3C(read_postfilter)
STUB3(write_prefilter) STUB3C(write_postfilter)
STUB3(open_prefilter) STUB3C(open_postfilter)
STUB3(readdir_prefilter) STUB3C(readdir_postfilter)
static int fuse_c_ops__bench0(void) { return 0; }
static int fuse_c_ops__bench2(int a, int b) { return 0; }
static int fuse_c_ops__bench5(int a, int b, int c, int d, int e) { return 0; }

static struct fuse_c_ops fuse_c_stubs = {
	.lookup_prefilter = fuse_c_ops__lookup_prefilter,
	.lookup_postfilter = fuse_c_ops__lookup_postfilter,
	.getattr_prefilter = fuse_c_ops__getattr_prefilter,
	.getattr_postfilter = fuse_c_ops__getattr_postfilter,
	.read_prefilter = fuse_c_ops__read_prefilter,
	.read_postfilter = fuse_c_ops__read_postfilter,
	.write_prefilter = fuse_c_ops__write_prefilter,
	.write_postfilter = fuse_c_ops__write_postfilter,
	.open_prefilter = fuse_c_ops__open_prefilter,
	.open_postfilter = fuse_c_ops__open_postfilter,
	.readdir_prefilter = fuse_c_ops__readdir_prefilter,
	.readdir_postfilter = fuse_c_ops__readdir_postfilter,
	.bench0 = fuse_c_ops__bench0,
	.bench2 = fuse_c_ops__bench2,
	.bench5 = fuse_c_ops__bench5,
};

/* The attached instances, by connection name. */
struct binding {
	struct list_head node;
	struct fuse_c_ops *ops;
	int links;
};
static LIST_HEAD(bindings);
static DEFINE_MUTEX(bindings_lock);

static struct binding *find_locked(const char *conn)
{
	struct binding *b;

	list_for_each_entry(b, &bindings, node)
		if (!strncmp(b->ops->conn, conn, RSO_FUSE_CONN_MAX))
			return b;
	return NULL;
}

static int fuse_c_init(struct btf *btf)
{
	return 0;
}

static int fuse_c_init_member(const struct btf_type *t, const struct btf_member *member,
			      void *kdata, const void *udata)
{
	const struct fuse_c_ops *u = udata;
	struct fuse_c_ops *k = kdata;

	if (__btf_member_bit_offset(t, member) / 8 != offsetof(struct fuse_c_ops, conn))
		return 0;
	if (!u->conn[0] || strnlen(u->conn, RSO_FUSE_CONN_MAX) == RSO_FUSE_CONN_MAX)
		return -EINVAL;
	memcpy(k->conn, u->conn, RSO_FUSE_CONN_MAX);
	return 1;
}

static int fuse_c_reg(void *kdata, struct bpf_link *link)
{
	struct fuse_c_ops *ops = kdata;
	struct binding *b;
	int err = 0;

	mutex_lock(&bindings_lock);
	b = find_locked(ops->conn);
	if (b && b->ops != ops) {
		err = -EEXIST;
	} else if (b) {
		b->links++;
	} else {
		b = kzalloc(sizeof(*b), GFP_KERNEL);
		if (!b) {
			err = -ENOMEM;
		} else {
			b->ops = ops;
			b->links = 1;
			list_add_tail(&b->node, &bindings);
		}
	}
	mutex_unlock(&bindings_lock);
	return err;
}

static void fuse_c_unreg(void *kdata, struct bpf_link *link)
{
	struct fuse_c_ops *ops = kdata;
	struct binding *b;

	mutex_lock(&bindings_lock);
	b = find_locked(ops->conn);
	if (b && b->ops == ops && --b->links == 0) {
		list_del(&b->node);
		kfree(b);
	}
	mutex_unlock(&bindings_lock);
}

static bool fuse_c_is_valid_access(int off, int size, enum bpf_access_type type,
				   const struct bpf_prog *prog,
				   struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

static const struct bpf_func_proto *fuse_c_get_func_proto(enum bpf_func_id func_id,
							  const struct bpf_prog *prog)
{
	return bpf_base_func_proto(func_id, prog);
}

static const struct bpf_verifier_ops fuse_c_verifier_ops = {
	.get_func_proto = fuse_c_get_func_proto,
	.is_valid_access = fuse_c_is_valid_access,
};

static struct bpf_struct_ops fuse_c_struct_ops = {
	.verifier_ops = &fuse_c_verifier_ops,
	.init = fuse_c_init,
	.init_member = fuse_c_init_member,
	.reg = fuse_c_reg,
	.unreg = fuse_c_unreg,
	.cfi_stubs = &fuse_c_stubs,
	.name = "fuse_c_ops",
	.owner = THIS_MODULE,
};

/*
 * The floors: a native function, called directly and through a pointer. The
 * barrier keeps the compiler from taking them for const functions, whose
 * calls it could hoist out of the loop (native0's direct call then cost
 * nothing per iteration).
 */
static noinline int native0(void) { barrier(); return 1; }
static noinline int native2(int a, int b) { barrier(); return a + b; }
static noinline int native5(int a, int b, int c, int d, int e)
{
	barrier();
	return a + b + c + d + e;
}
static int (*native0_p)(void) = native0;
static int (*native2_p)(int, int) = native2;
static int (*native5_p)(int, int, int, int, int) = native5;

static int bench(struct rso_fuse_bench *b)
{
	struct fuse_c_ops *ops = NULL;
	struct binding *bd;
	s64 sum = 0;
	u64 start;
	u32 i;

	/* Bounded as in rso_fuse: the loops never sleep (see fuse_ops.h). */
	if (b->loops > RSO_FUSE_BENCH_LOOPS_MAX)
		return -E2BIG;
	if (b->kind < RSO_FUSE_BENCH_DIRECT0) {
		mutex_lock(&bindings_lock);
		bd = find_locked(b->conn);
		if (bd && bpf_struct_ops_get(bd->ops))
			ops = bd->ops;
		mutex_unlock(&bindings_lock);
		if (!ops)
			return -ENOENT;
	}
	start = ktime_get_ns();
	switch (b->kind) {
	case RSO_FUSE_BENCH_CALL0:
		for (i = 0; i < b->loops && ops->bench0; i++)
			sum += ops->bench0();
		break;
	case RSO_FUSE_BENCH_CALL2:
		for (i = 0; i < b->loops && ops->bench2; i++)
			sum += ops->bench2(i, 1);
		break;
	case RSO_FUSE_BENCH_CALL5:
		for (i = 0; i < b->loops && ops->bench5; i++)
			sum += ops->bench5(i, 1, 2, 3, 4);
		break;
	case RSO_FUSE_BENCH_DIRECT0:
		for (i = 0; i < b->loops; i++)
			sum += native0();
		break;
	case RSO_FUSE_BENCH_DIRECT0 + 2:
		for (i = 0; i < b->loops; i++)
			sum += native2(i, 1);
		break;
	case RSO_FUSE_BENCH_DIRECT0 + 5:
		for (i = 0; i < b->loops; i++)
			sum += native5(i, 1, 2, 3, 4);
		break;
	case RSO_FUSE_BENCH_INDIRECT0:
		for (i = 0; i < b->loops; i++)
			sum += READ_ONCE(native0_p)();
		break;
	case RSO_FUSE_BENCH_INDIRECT0 + 2:
		for (i = 0; i < b->loops; i++)
			sum += READ_ONCE(native2_p)(i, 1);
		break;
	case RSO_FUSE_BENCH_INDIRECT0 + 5:
		for (i = 0; i < b->loops; i++)
			sum += READ_ONCE(native5_p)(i, 1, 2, 3, 4);
		break;
	default:
		if (ops)
			bpf_struct_ops_put(ops);
		return -EINVAL;
	}
	b->ns = ktime_get_ns() - start;
	b->sum = sum;
	if (ops)
		bpf_struct_ops_put(ops);
	return 0;
}

static long fuse_c_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct rso_fuse_bench b;
	int err;

	if (cmd != RSO_FUSE_IOC_BENCH)
		return -ENOTTY;
	if (copy_from_user(&b, (void __user *)arg, sizeof(b)))
		return -EFAULT;
	b.conn[RSO_FUSE_CONN_MAX - 1] = 0;
	err = bench(&b);
	if (err)
		return err;
	return copy_to_user((void __user *)arg, &b, sizeof(b)) ? -EFAULT : 0;
}

static const struct file_operations fuse_c_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = fuse_c_ioctl,
};

static struct miscdevice fuse_c_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "rso_fuse_c",
	.fops = &fuse_c_fops,
};

static int __init rso_fuse_c_init(void)
{
	int err = register_bpf_struct_ops(&fuse_c_struct_ops, fuse_c_ops);

	if (err)
		return err;
	return misc_register(&fuse_c_dev);
}

static void __exit rso_fuse_c_exit(void)
{
	misc_deregister(&fuse_c_dev);
}

module_init(rso_fuse_c_init);
module_exit(rso_fuse_c_exit);
MODULE_DESCRIPTION("fuse_c_ops: the C twin of rso_fuse's struct_ops type");
MODULE_LICENSE("GPL");
