/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testmod_ops: a test-only struct_ops type (module rso_testmod) for the
 * behaviours the samples do not need: every argument kind, __ref
 * arguments, check_member, sleepable ops, an unsupported op, refused data
 * and program association.
 */
#ifndef RSO_TESTMOD_OPS_H
#define RSO_TESTMOD_OPS_H

#include "../../rust/rso_call.h"

struct task_struct;

/* A struct argument: plain data the program reads, and writes only where it
 * is passed by non-const pointer. */
struct rso_testmod_args {
	__s64 a;
	__s64 b;
};

struct testmod_ops {
	/* Must not sleep: sleepable programs are refused for it. */
	int (*nosleep)(int x);
	/* May sleep: the one op that opts in to sleepable programs. */
	int (*may_sleep)(int x) __rso_sleepable;
	/* Gets a task reference the program must release. */
	int (*take_task)(struct task_struct *task__ref);
	/* Unsupported: it has no stub, so the verifier refuses programs for it. */
	int (*unsupported)(int x) __rso_unsupported;
	/* Every argument kind: a scalar, a trusted task, a nullable task, a __ref task. */
	int (*arg_kinds)(int x, struct task_struct *trusted,
			 struct task_struct *maybe__nullable,
			 struct task_struct *owned__ref);
	/* A struct the program may write (args->b). */
	int (*args_inout)(struct rso_testmod_args *args);
	/* The same struct, const: the program gets a copy, whatever it writes. */
	int (*args_in)(const struct rso_testmod_args *args);
	/* Data: init_member refuses values above RSO_TESTMOD_LIMIT_MAX with ERANGE. */
	__u32 limit;
	/* Data: when 1, init_member claims the op nosleep (it must be refused). */
	__u32 claim_op;
	/* Members 9 to 24: data, so that past_args is member 25. */
	__u32 fill9, fill10, fill11, fill12, fill13, fill14, fill15, fill16;
	__u32 fill17, fill18, fill19, fill20, fill21, fill22, fill23, fill24;
	/*
	 * Member 25, BPF_TRACE_FEXIT's value: for it btf_ctx_access() lets a
	 * program read ctx[1], past its one argument (the trampoline's return
	 * slot, not yet written). The layer refuses the read.
	 */
	int (*past_args)(int x);
};

#define RSO_TESTMOD_LIMIT_MAX 1000

/* /dev/rso_testmod: RSO_IOC_CALL(struct rso_testmod_call). */
enum rso_testmod_op {
	RSO_TESTMOD_OP_NOSLEEP = 1,
	RSO_TESTMOD_OP_MAY_SLEEP,
	RSO_TESTMOD_OP_TAKE_TASK,	/* take_task(a reference on current) */
	RSO_TESTMOD_OP_ARG_NULL,	/* arg_kinds(x, current, NULL, ref on current) */
	RSO_TESTMOD_OP_ARG_TASK,	/* arg_kinds(x, current, current, ref on current) */
	RSO_TESTMOD_OP_REGISTER_LATE,	/* try to register a type after init: must fail */
	RSO_TESTMOD_OP_TIMER,		/* look up and call nosleep from a timer, x times */
	RSO_TESTMOD_OP_WARN,		/* WARN_ON() in the module: the planted splat of
					 * splat_scan_catches_warn */
	RSO_TESTMOD_OP_ARGS_INOUT,	/* args_inout({x, 0}); out = args.b after it */
	RSO_TESTMOD_OP_ARGS_IN,		/* args_in({x, 0}); out = args.b after it */
	RSO_TESTMOD_OP_TIMER_SLEEPABLE,	/* call may_sleep from a timer, x times: ret =
					 * the calls that reached BPF, out = the
					 * calls refused */
	RSO_TESTMOD_OP_INIT_FROM_WORK,	/* ret = what the module's init, run again from a
					 * work item during the load (init_from_work=1),
					 * returned; out = the times the module's own
					 * init body ran in this load */
	RSO_TESTMOD_OP_TAKE_TASK_REFS,	/* take_task(current); out = the change of
					 * current's rcu_users across the call */
	RSO_TESTMOD_OP_PAST_ARGS,	/* past_args(x) */
	RSO_TESTMOD_OP_FUSE_FILTER,	/* x = mode | fd << 4: attach a FUSE
					 * request filter (kernel/patches/fuse)
					 * to the connection fd names; mode 1:
					 * it passes every request; 2: it writes
					 * a GETATTR's out argument, then passes
					 * it (fs/fuse must fail it); 3: it
					 * fails an OPEN with ENOSYS (fs/fuse
					 * must make it EIO); mode 0: detach
					 * it. EOPNOTSUPP on a kernel without
					 * the hook */
	RSO_TESTMOD_OP_MAX = RSO_TESTMOD_OP_FUSE_FILTER,
};

struct rso_testmod_call {
	struct rso_call_hdr hdr;
	__s64 x;	/* in */
	__s64 limit;	/* out: the instance's limit */
	__s64 out;	/* out: ARGS_INOUT, ARGS_IN */
};

#endif /* RSO_TESTMOD_OPS_H */
