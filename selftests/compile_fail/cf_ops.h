/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cf_ops: the type of the compile-fail checks (make compile-fail): one op per
 * kind of task argument.
 */
#ifndef RSO_CF_OPS_H
#define RSO_CF_OPS_H

#include "../../rust/rso_call.h"

struct task_struct;

struct cf_ops {
	int (*trusted)(struct task_struct *task);
	int (*nullable)(struct task_struct *task__nullable);
	int (*owned)(struct task_struct *task__ref);
};

#endif /* RSO_CF_OPS_H */
