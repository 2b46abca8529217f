/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): a _Bool data member
 * would let userspace store 2 into a Rust bool.
 */
#include "../../rust/rso_call.h"

struct cf_bool_ops {
	int (*op)(int x);
	_Bool enabled;
};
