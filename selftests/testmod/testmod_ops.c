// SPDX-License-Identifier: GPL-2.0
/*
 * The C part of rso_testmod: stubs, registration and a kfunc (see rust/rso.h).
 */
#include "../../rust/rso.h"
#include "testmod_ops.h"

RSO_STUB(testmod_ops, int, nosleep, int x);
RSO_STUB(testmod_ops, int, may_sleep, int x);
RSO_STUB(testmod_ops, int, take_task, struct task_struct *task__ref);

/* No stub for unsupported. */
RSO_STRUCT_OPS(testmod_ops,
	RSO_OP(testmod_ops, nosleep),
	RSO_OP(testmod_ops, may_sleep),
	RSO_OP(testmod_ops, take_task));

__bpf_kfunc_start_defs();

/*
 * The map id of the testmod_ops instance the calling program is associated
 * with (BPF_PROG_ASSOC_STRUCT_OPS, or its own map for a struct_ops program
 * used by one map); -ENOENT without a unique association.
 */
__bpf_kfunc int bpf_rso_testmod_assoc_id(struct bpf_prog_aux *aux)
{
	void *kdata = bpf_prog_get_assoc_struct_ops(aux);

	return kdata ? (int)bpf_struct_ops_id(kdata) : -ENOENT;
}

__bpf_kfunc_end_defs();

RSO_KFUNCS(testmod,
	BTF_ID_FLAGS(func, bpf_rso_testmod_assoc_id, KF_IMPLICIT_ARGS));
