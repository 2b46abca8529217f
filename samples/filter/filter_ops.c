// SPDX-License-Identifier: GPL-2.0
/*
 * The C part of rso_filter: what must have BTF (see rust/rso.h).
 */
#include "../../rust/rso.h"
#include "filter_ops.h"

RSO_STUB(filter_ops, int, decide, __u64 key);
RSO_STUB_VOID(filter_ops, audit, __u64 key, int verdict);

RSO_STRUCT_OPS(filter_ops,
	RSO_OP(filter_ops, decide),
	RSO_OP(filter_ops, audit));
