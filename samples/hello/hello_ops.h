/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hello_ops: the struct_ops type of the rso_hello sample.
 *
 * The one definition of the type. The module's C part (hello_ops.c), its
 * Rust part (through bindgen, at build time), the BPF programs and the
 * selftest runner (through bindgen, at build time) all include this file.
 */
#ifndef RSO_HELLO_OPS_H
#define RSO_HELLO_OPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

struct task_struct;

struct hello_ops {
	/* Returns a + b (or whatever the BPF program computes). */
	int (*add)(int a, int b);
	/* Returns -x. */
	int (*negate)(int x);
	/* Returns the pid of task; task may be NULL (the stub tags it __nullable). */
	int (*task_pid)(struct task_struct *task);
	/* Data member, copied from the map value by init_member; must not be 0. */
	__u32 magic;
};

/*
 * /dev/rso_hello: RSO_HELLO_IOC_CALL calls one op of an attached instance.
 * Its argument is an array of RSO_HELLO_NR_FIELDS __s64, indexed by
 * enum rso_hello_field.
 */
enum rso_hello_field {
	RSO_HELLO_F_MAP_ID,	/* in: map id of the instance, 0 for any */
	RSO_HELLO_F_OP,		/* in: enum rso_hello_op */
	RSO_HELLO_F_ARG0,	/* in */
	RSO_HELLO_F_ARG1,	/* in */
	RSO_HELLO_F_RET,	/* out: the op's return value */
	RSO_HELLO_F_MAGIC,	/* out: the instance's magic */
	RSO_HELLO_F_ID,		/* out: the map id of the instance called */
	RSO_HELLO_NR_FIELDS,
};

enum rso_hello_op {
	RSO_HELLO_OP_ADD = 1,		/* add(arg0, arg1) */
	RSO_HELLO_OP_NEGATE,		/* negate(arg0) */
	RSO_HELLO_OP_TASK_PID,		/* task_pid(current) */
	RSO_HELLO_OP_TASK_PID_NULL,	/* task_pid(NULL) */
	RSO_HELLO_OP_COUNT,		/* ret = number of attached instances */
};

#define RSO_HELLO_IOC_MAGIC 'r'
#define RSO_HELLO_IOC_NR 1
#define RSO_HELLO_IOC_CALL \
	_IOWR(RSO_HELLO_IOC_MAGIC, RSO_HELLO_IOC_NR, __s64[RSO_HELLO_NR_FIELDS])

#endif /* RSO_HELLO_OPS_H */
