/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cf_ref_on_void_op: a __ref argument on an op that returns void, which the
 * generator must refuse (cf_ref_on_void_op): the verifier does not check
 * what such a program holds at exit.
 */
#ifndef RSO_CF_REF_ON_VOID_OP_H
#define RSO_CF_REF_ON_VOID_OP_H

#include "../../rust/rso_call.h"

struct task_struct;

struct cf_ref_on_void_op {
	void (*keep)(struct task_struct *task__ref);
};

#endif /* RSO_CF_REF_ON_VOID_OP_H */
