/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must be refused by rust/rsogen.py (make compile-fail): member 23, an op
 * with a pointer argument. Member 23 is BPF_TRACE_RAW_TP's value, so
 * btf_ctx_access() takes the ops struct for a raw tracepoint and reads its
 * name 10 bytes in, past a short name.
 */
#include "../../rust/rso_call.h"

struct task_struct;

struct cf_member23_pointer {
	__u32 f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11;
	__u32 f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22;
	int (*op)(struct task_struct *task);
};
