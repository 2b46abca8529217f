/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C part of a struct_ops type declared from Rust.
 *
 * Rust compilation units get no BTF, but the BPF core finds a struct_ops
 * type, its value type and the parameter tags of each op in the module's
 * BTF, and it finds each op's stub by name through kallsyms. So each type
 * keeps a small C file that holds exactly that and nothing else:
 *
 *	#include "rso.h"
 *	#include "hello_ops.h"
 *
 *	RSO_STUB(hello_ops, int, add, int a, int b);
 *	RSO_STUB(hello_ops, int, task_pid, struct task_struct *task__nullable);
 *	RSO_STUB_VOID(hello_ops, notify, u32 event);
 *
 *	RSO_STRUCT_OPS(hello_ops,
 *		RSO_OP(hello_ops, add),
 *		RSO_OP(hello_ops, task_pid),
 *		RSO_OP(hello_ops, notify));
 *
 * A stub's parameter names carry the verifier's argument tags: the suffix
 * __nullable (the pointer may be NULL, programs must check it), __ref (a
 * referenced kptr the program must release). An op left out of
 * RSO_STRUCT_OPS() is unsupported: the verifier refuses programs for it.
 *
 * RSO_STRUCT_OPS() defines the two symbols the Rust layer links against,
 * rso_<type>_cfi_stubs() and rso_<type>_register(), see
 * rust/struct_ops.rs, macro `declare_struct_ops!`.
 */
#ifndef RSO_H
#define RSO_H

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/compiler.h>

/* A stub for the op `op` of `type`, returning zero. */
#define RSO_STUB(type, ret, op, ...)					\
	static noinline ret type##__##op(__VA_ARGS__) { return (ret)0; }

/* A stub for an op of `type` that returns nothing. */
#define RSO_STUB_VOID(type, op, ...)					\
	static noinline void type##__##op(__VA_ARGS__) { }

/* The cfi_stubs entry for `op`; use inside RSO_STRUCT_OPS(). */
#define RSO_OP(type, op) .op = type##__##op

/*
 * The stub table and the registration of `type`. The registration goes
 * through register_bpf_struct_ops(), which emits the BTF of the value
 * type struct bpf_struct_ops_<type> that map creation looks up.
 */
#define RSO_STRUCT_OPS(type, ...)					\
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
 * `declare_kfuncs!` (rust/struct_ops.rs).
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
