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

/*
 * The stub table and the registration of `type`. The registration goes
 * through register_bpf_struct_ops(), which emits the BTF of the value
 * type struct bpf_struct_ops_<type> that map creation looks up.
 */
#define RSO_STRUCT_OPS_TABLE(type, ...)					\
	static struct type rso_##type##_stubs = { __VA_ARGS__ };	\
	void *rso_##type##_cfi_stubs(void);				\
	void *rso_##type##_cfi_stubs(void)				\
	{								\
		return &rso_##type##_stubs;				\
	}								\
	int rso_##type##_register(struct bpf_struct_ops *st_ops);	\
	int rso_##type##_register(struct bpf_struct_ops *st_ops)	\
	{								\
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

#endif /* RSO_H */
