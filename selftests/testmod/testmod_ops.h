/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testmod_ops: a test-only struct_ops type (module rso_testmod) for the
 * behaviours the samples do not need: __ref arguments, check_member,
 * an unsupported op, refused data and program association.
 */
#ifndef RSO_TESTMOD_OPS_H
#define RSO_TESTMOD_OPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

struct task_struct;

struct testmod_ops {
	/* Must not sleep: check_member refuses sleepable programs for it. */
	int (*nosleep)(int x);
	/* May sleep. */
	int (*may_sleep)(int x);
	/* Gets a task reference the program must release (the stub tags it __ref). */
	int (*take_task)(struct task_struct *task);
	/* Unsupported: it has no stub, so the verifier refuses programs for it. */
	int (*unsupported)(int x);
	/* Data: init_member refuses values above RSO_TESTMOD_LIMIT_MAX with ERANGE. */
	__u32 limit;
};

#define RSO_TESTMOD_LIMIT_MAX 1000

/* /dev/rso_testmod: an array of RSO_TESTMOD_NR_FIELDS __s64. */
enum rso_testmod_field {
	RSO_TESTMOD_F_MAP_ID,	/* in: map id, 0 for any */
	RSO_TESTMOD_F_OP,	/* in: enum rso_testmod_op */
	RSO_TESTMOD_F_ARG,	/* in */
	RSO_TESTMOD_F_RET,	/* out */
	RSO_TESTMOD_F_LIMIT,	/* out: the instance's limit */
	RSO_TESTMOD_NR_FIELDS,
};

enum rso_testmod_op {
	RSO_TESTMOD_OP_NOSLEEP = 1,
	RSO_TESTMOD_OP_MAY_SLEEP,
	RSO_TESTMOD_OP_TAKE_TASK,	/* take_task(a reference on current) */
	RSO_TESTMOD_OP_COUNT,		/* ret = number of attached instances */
};

#define RSO_TESTMOD_IOC_MAGIC 't'
#define RSO_TESTMOD_IOC_NR 1

#endif /* RSO_TESTMOD_OPS_H */
