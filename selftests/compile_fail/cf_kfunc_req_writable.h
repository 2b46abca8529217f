/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): an op takes the
 * request of a kfunc by non-const pointer, so the ops that take it const get
 * a copy, which the kfunc could not find the module's data beside.
 */
#include "../../rust/rso_call.h"

struct cf_kreq {
#ifndef __BINDGEN__
	__u8 kernel_only[0];
#endif
	__u64 id;
};

struct cf_kfunc_req_writable_ops {
	int (*read)(const struct cf_kreq *req);
	int (*write)(struct cf_kreq *req);
};

int bpf_cf_kfunc(const struct cf_kreq *req, __u32 x) __rso_kfunc;
