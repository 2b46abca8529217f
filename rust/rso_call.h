/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The call device of a struct_ops type: how userspace asks a module to call
 * the ops of an attached instance (rust/struct_ops/call.rs).
 *
 * A type's header declares its request as a struct whose first member is
 * the common header:
 *
 *	struct rso_foo_call {
 *		struct rso_call_hdr hdr;
 *		__s64 a, b;		// the module's own fields
 *	};
 *
 * and userspace issues RSO_IOC_CALL(struct rso_foo_call) on /dev/<name>.
 * The layer looks the instance up (hdr.map_id, 0 for any), answers
 * RSO_CALL_COUNT itself, fails with ENOENT when no instance matches and
 * EOPNOTSUPP when the instance does not implement the op, and fills in
 * hdr.ret and hdr.id; the module dispatches hdr.op to a typed op call.
 */
#ifndef RSO_CALL_H
#define RSO_CALL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif
#include "rso_tags.h"

struct rso_call_hdr {
	__u32 map_id;	/* in: map id of the instance to call, 0 for any */
	__u32 op;	/* in: the type's op number, or RSO_CALL_COUNT */
	__s64 ret;	/* out: the op's return value, or the count */
	__u32 id;	/* out: map id of the instance called */
	__u32 pad;	/* must be 0 */
};

/* hdr.op: ret = the number of attached instances. */
#define RSO_CALL_COUNT 0

#define RSO_IOC_MAGIC 'R'
#define RSO_IOC_CALL(call_struct) _IOWR(RSO_IOC_MAGIC, 1, call_struct)

#endif /* RSO_CALL_H */
