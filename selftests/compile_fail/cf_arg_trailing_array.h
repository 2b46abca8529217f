/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): a struct an op
 * takes ends with a zero-length array in its C view, so the verifier would
 * let programs read past it (btf_struct_walk() treats it as a flexible
 * array) and helpers copy from there with a plain memcpy.
 */
#include "../../rust/rso_call.h"

struct cf_args {
	__u64 id;
#ifndef __BINDGEN__
	__u8 tail[0];
#endif
};

struct cf_arg_trailing_array_ops {
	int (*op)(const struct cf_args *args);
};
