/* SPDX-License-Identifier: GPL-2.0 */
/*
 * filter_ops: the struct_ops type of the rso_filter sample, the smallest
 * policy hook: the kernel asks BPF for a verdict on a key. It shows a
 * mandatory op and link updates; samples/fuse is the fuse-bpf-shaped one.
 *
 * The one definition of the type, shared by the module's C and Rust parts
 * (generated), the BPF programs and the selftest runner.
 */
#ifndef RSO_FILTER_OPS_H
#define RSO_FILTER_OPS_H

#include "../../rust/rso_call.h"

struct filter_ops {
	/* Mandatory (validate() refuses a value without it): the verdict on key. */
	int (*decide)(__u64 key);
	/* Optional: told the verdict decide() gave. */
	void (*audit)(__u64 key, int verdict);
};

/* /dev/rso_filter: RSO_IOC_CALL(struct rso_filter_call). */
enum rso_filter_op {
	RSO_FILTER_OP_DECIDE = 1,	/* ret = decide(key), then audit(key, ret) */
};

struct rso_filter_call {
	struct rso_call_hdr hdr;
	__u64 key;	/* in */
	__u64 audited;	/* out: 1 if the instance implements audit */
};

#endif /* RSO_FILTER_OPS_H */
