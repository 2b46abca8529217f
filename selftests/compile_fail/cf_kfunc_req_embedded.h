/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): another struct
 * embeds the request of a kfunc at offset 0, so the verifier would pass a
 * pointer to the outer struct to the kfunc as the request.
 */
#include "../../rust/rso_call.h"

struct cf_kreq {
#ifndef __BINDGEN__
	__u8 kernel_only[0];
#endif
	__u64 id;
};

struct cf_outer {
	struct cf_kreq req;
	__u64 more;
};

struct cf_kfunc_req_embedded_ops {
	int (*op)(const struct cf_kreq *req, const struct cf_outer *outer);
};

int bpf_cf_kfunc(const struct cf_kreq *req, __u32 x) __rso_kfunc;
