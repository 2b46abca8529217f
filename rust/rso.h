/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C part of a struct_ops type declared from Rust.
 *
 * Rust compilation units get no BTF, but the BPF core finds a struct_ops
 * type, its value type and the parameter tags of each op in the module's
 * BTF, and it finds each op's stub by name. So each type has a small C part
 * that holds exactly that. It is generated from the type's header by
 * rust/rsogen.py (see rust/struct_ops.mk and docs/generator.md): a type
 * author writes no per-op C.
 *
 * The generated file defines one stub per op and then uses
 * RSO_STRUCT_OPS_TABLE() below, which defines the symbols the Rust layer
 * links against: rso_<type>_cfi_stubs(), rso_<type>_register() and
 * rso_<type>_size().
 */
#ifndef RSO_H
#define RSO_H

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/compiler.h>
#include <linux/slab.h>

/*
 * The stub table and the registration of `type`. The registration goes
 * through register_bpf_struct_ops(), which emits the BTF of the value
 * type struct bpf_struct_ops_<type> that map creation looks up.
 */
#define RSO_STRUCT_OPS_TABLE(type, ...)					\
	static struct type rso_##type##_stubs = { __VA_ARGS__ };	\
	/* The type's struct bpf_struct_ops, once registered (kfunc filter). */ \
	static struct bpf_struct_ops *rso_##type##_st_ops;		\
	void *rso_##type##_cfi_stubs(void);				\
	void *rso_##type##_cfi_stubs(void)				\
	{								\
		return &rso_##type##_stubs;				\
	}								\
	int rso_##type##_register(struct bpf_struct_ops *st_ops);	\
	int rso_##type##_register(struct bpf_struct_ops *st_ops)	\
	{								\
		WRITE_ONCE(rso_##type##_st_ops, st_ops);		\
		return register_bpf_struct_ops(st_ops, type);		\
	}								\
	size_t rso_##type##_size(void);					\
	size_t rso_##type##_size(void)					\
	{								\
		return sizeof(struct type);				\
	}								\
	/* The reference a __ref task argument hands the program: the */ \
	/* one bpf_task_acquire() takes and bpf_task_release() drops. */ \
	bool rso_##type##_task_acquire(struct task_struct *task);	\
	bool rso_##type##_task_acquire(struct task_struct *task)	\
	{								\
		return refcount_inc_not_zero(&task->rcu_users);		\
	}								\
	/* The pointer a verifier register holds (btf_struct_access). */ \
	u32 rso_##type##_reg_btf_id(const struct bpf_reg_state *reg,	\
				    const struct btf **btf);		\
	u32 rso_##type##_reg_btf_id(const struct bpf_reg_state *reg,	\
				    const struct btf **btf)		\
	{								\
		*btf = reg->btf;					\
		return reg->btf_id;					\
	}

/*
 * Kfuncs of the module, for struct_ops and syscall programs. Kfuncs need BTF,
 * so they live in the C part too (their bodies may call into Rust):
 *
 *	__bpf_kfunc int bpf_foo(int x, struct bpf_prog_aux *aux);
 *	RSO_KFUNCS(foo,
 *		BTF_ID_FLAGS(func, bpf_foo, KF_IMPLICIT_ARGS));
 *
 * defines rso_<name>_register_kfuncs(), which the Rust side calls through
 * `declare_kfuncs!` (rust/struct_ops/mod.rs).
 */
#define RSO_KFUNCS(name, ...)						\
	BTF_KFUNCS_START(rso_##name##_kfunc_ids)			\
	__VA_ARGS__							\
	BTF_KFUNCS_END(rso_##name##_kfunc_ids)				\
	static const struct btf_kfunc_id_set rso_##name##_kfunc_set = {	\
		.owner = THIS_MODULE,					\
		.set = &rso_##name##_kfunc_ids,				\
	};								\
	int rso_##name##_register_kfuncs(void);				\
	int rso_##name##_register_kfuncs(void)				\
	{								\
		int err;						\
									\
		err = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,	\
						&rso_##name##_kfunc_set);	\
		if (err)						\
			return err;					\
		return register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,	\
						 &rso_##name##_kfunc_set);	\
	}

/*
 * The kfuncs a type's header declares with __rso_kfunc (rust/rso_tags.h).
 * The generated C part defines one __bpf_kfunc forwarder per kfunc, to its
 * Rust body, then:
 *
 *	RSO_OPS_KFUNCS(foo_ops,
 *		BTF_ID_FLAGS(func, bpf_foo_name));
 *
 * which defines rso_<type>_register_kfuncs(), called once from the module's
 * init (OpsKfuncs::register_kfuncs(), rust/struct_ops/kfunc.rs), and
 * rso_<type>_dynptr_read() and rso_<type>_dynptr_write(), with which the
 * Rust bodies copy to and from a program's dynptrs (Dynptr,
 * rust/struct_ops/dynptr.rs).
 *
 * Those two call the kernel's own helpers bpf_dynptr_read() and
 * bpf_dynptr_write(), the ones BPF programs call: they check the dynptr's
 * type, read-only bit and bounds, whose encoding is private to
 * kernel/bpf/helpers.c. The helpers are static there; the exported
 * bpf_base_func_proto() hands out their protos to a program that may call
 * them, one whose loader had CAP_BPF (bpf_token_capable() of the program's
 * token, checked against the current task). So they are looked up once, at
 * registration, from the module's init (run by root, with CAP_BPF), with a
 * zeroed program that has no token; without CAP_BPF the registration fails
 * with EPERM. The kfuncs are registered for struct_ops programs only: only
 * they get the requests the kfuncs take.
 */
typedef u64 (*rso_helper_fn)(u64, u64, u64, u64, u64);

static inline int rso_dynptr_helpers(rso_helper_fn *read, rso_helper_fn *write)
{
	const struct bpf_func_proto *r, *w;
	struct bpf_prog *prog;
	int err = 0;

	prog = kzalloc(sizeof(*prog), GFP_KERNEL);
	if (!prog)
		return -ENOMEM;
	prog->aux = kzalloc(sizeof(*prog->aux), GFP_KERNEL);
	if (!prog->aux) {
		kfree(prog);
		return -ENOMEM;
	}
	r = bpf_base_func_proto(BPF_FUNC_dynptr_read, prog);
	w = bpf_base_func_proto(BPF_FUNC_dynptr_write, prog);
	if (r && w && r->func && w->func) {
		WRITE_ONCE(*read, r->func);
		WRITE_ONCE(*write, w->func);
	} else {
		pr_err("struct_ops: bpf_dynptr_read/write are not available: CAP_BPF needed\n");
		err = -EPERM;
	}
	kfree(prog->aux);
	kfree(prog);
	return err;
}

#define RSO_OPS_KFUNCS(ops, ...)					\
	BTF_KFUNCS_START(rso_##ops##_kfunc_ids)			\
	__VA_ARGS__							\
	BTF_KFUNCS_END(rso_##ops##_kfunc_ids)				\
	/* Only programs of this type may call its kfuncs: the request */ \
	/* they cast back is this type's (a struct of the same name in */ \
	/* another header of the module may share its BTF id, merged by */ \
	/* pahole). The kernel asks the filters of the kfunc's module */ \
	/* only, and a module has one kfunc set (kfunc.rs), so every */ \
	/* kfunc_id is one of this set's (whose ids in the module's copy */ \
	/* are its distilled base's, relocated only in the kernel's). */ \
	/* add_subprog_and_kfunc() asks before check_attach_btf_id() */ \
	/* sets st_ops; the verifier asks again with it set, as */	\
	/* sched_ext's scx_kfunc_context_filter() relies on. */	\
	static int rso_##ops##_kfunc_filter(const struct bpf_prog *prog, \
					     u32 kfunc_id)		\
	{								\
		if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)		\
			return -EACCES;					\
		if (!prog->aux->st_ops)					\
			return 0;					\
		return prog->aux->st_ops == READ_ONCE(rso_##ops##_st_ops) ? \
			0 : -EACCES;					\
	}								\
	static const struct btf_kfunc_id_set rso_##ops##_kfunc_set = {	\
		.owner = THIS_MODULE,					\
		.set = &rso_##ops##_kfunc_ids,				\
		.filter = rso_##ops##_kfunc_filter,			\
	};								\
	static rso_helper_fn rso_##ops##_dynptr_read_fn;		\
	static rso_helper_fn rso_##ops##_dynptr_write_fn;		\
	/* bpf_dynptr_read(dst, len, src, offset, 0) */			\
	int rso_##ops##_dynptr_read(void *dst, u32 len, const void *src, \
				     u32 offset);			\
	int rso_##ops##_dynptr_read(void *dst, u32 len, const void *src, \
				     u32 offset)			\
	{								\
		rso_helper_fn fn = READ_ONCE(rso_##ops##_dynptr_read_fn); \
									\
		if (!fn)						\
			return -EOPNOTSUPP;				\
		return (int)(long)fn((unsigned long)dst, len,		\
				     (unsigned long)src, offset, 0);	\
	}								\
	/* bpf_dynptr_write(dst, offset, src, len, 0) */		\
	int rso_##ops##_dynptr_write(const void *dst, u32 offset,	\
				      const void *src, u32 len);	\
	int rso_##ops##_dynptr_write(const void *dst, u32 offset,	\
				      const void *src, u32 len)		\
	{								\
		rso_helper_fn fn = READ_ONCE(rso_##ops##_dynptr_write_fn); \
									\
		if (!fn)						\
			return -EOPNOTSUPP;				\
		return (int)(long)fn((unsigned long)dst, offset,	\
				     (unsigned long)src, len, 0);	\
	}								\
	int rso_##ops##_register_kfuncs(void);				\
	int rso_##ops##_register_kfuncs(void)				\
	{								\
		int err;						\
									\
		err = rso_dynptr_helpers(&rso_##ops##_dynptr_read_fn,	\
					 &rso_##ops##_dynptr_write_fn);\
		if (err)						\
			return err;					\
		return register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, \
						 &rso_##ops##_kfunc_set); \
	}

#endif /* RSO_H */
