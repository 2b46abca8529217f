/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): the ops struct has
 * a member only its C view sees (a zero-length array, so sizes and offsets
 * agree), which would shift the numbering of the members that follow in
 * BTF against the layer's member table.
 */
#include "../../rust/rso_call.h"

struct cf_ops_member_c_only {
	int (*first)(int x);
#ifndef __BINDGEN__
	__u8 marker[0];
#endif
	int (*second)(int x);
};
