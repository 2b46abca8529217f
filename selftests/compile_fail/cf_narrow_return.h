/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): an op returning
 * an 8-bit integer. A program leaves all of R0; Rust would take the upper
 * bits as already cleared.
 */
#include "../../rust/rso_call.h"

struct cf_narrow_return_ops {
	__u8 (*pick)(int x);
};
