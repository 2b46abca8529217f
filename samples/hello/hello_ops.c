// SPDX-License-Identifier: GPL-2.0
/*
 * The C part of rso_hello: what must have BTF (see rust/rso.h).
 */
#include "../../rust/rso.h"
#include "hello_ops.h"

RSO_STUB(hello_ops, int, add, int a, int b);
RSO_STUB(hello_ops, int, negate, int x);
RSO_STUB(hello_ops, int, task_pid, struct task_struct *task__nullable);

RSO_STRUCT_OPS(hello_ops,
	RSO_OP(hello_ops, add),
	RSO_OP(hello_ops, negate),
	RSO_OP(hello_ops, task_pid));
