/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cf_mismatch_ops: a header whose C and Rust views differ (a member that
 * bindgen sees as __u32 and the C compiler as __u64). The C part's layout
 * assertions must fail the build (cf_struct_offset_mismatch).
 */
#ifndef RSO_CF_MISMATCH_OPS_H
#define RSO_CF_MISMATCH_OPS_H

#include "../../rust/rso_call.h"

struct cf_mismatch_ops {
	int (*op)(int x);
#ifdef __BINDGEN__
	__u32 a;
#else
	__u64 a;
#endif
	__u32 b;
};

#endif /* RSO_CF_MISMATCH_OPS_H */
