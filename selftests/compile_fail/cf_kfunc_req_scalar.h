/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): the request of a
 * kfunc holds only scalars, so the verifier would let a program pass any
 * memory of its size (its stack, a map value) as the request.
 */
#include "../../rust/rso_call.h"

struct bpf_dynptr;

struct cf_kreq {
	__u64 id;
};

struct cf_kfunc_req_scalar_ops {
	int (*op)(const struct cf_kreq *req);
};

int bpf_cf_kfunc(const struct cf_kreq *req, const struct bpf_dynptr *dst) __rso_kfunc;
