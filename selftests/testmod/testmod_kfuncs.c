// SPDX-License-Identifier: GPL-2.0
/*
 * rso_testmod's kfunc, which needs BTF and so lives in C (see rust/rso.h).
 * The type's stubs and registration are generated from testmod_ops.h.
 */
#include "../../rust/rso.h"
#include "testmod_ops.h"

__bpf_kfunc_start_defs();

/*
 * The map id of the testmod_ops instance the calling program is associated
 * with (BPF_PROG_ASSOC_STRUCT_OPS, or its own map for a struct_ops program
 * used by one map); -ENOENT without a unique association.
 */
__bpf_kfunc int bpf_rso_testmod_assoc_id(struct bpf_prog_aux *aux)
{
	void *kdata = bpf_prog_get_assoc_struct_ops(aux);

	return kdata ? (int)bpf_struct_ops_id(kdata) : -ENOENT;
}

__bpf_kfunc_end_defs();

RSO_KFUNCS(testmod,
	BTF_ID_FLAGS(func, bpf_rso_testmod_assoc_id, KF_IMPLICIT_ARGS));

/*
 * lookup_from_timer: a timer (softirq context) that looks an instance up and
 * calls it through the Rust layer, RSO_TIMER_BURST times per tick, n ticks.
 */
#include <linux/timer.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/atomic.h>

#define RSO_TIMER_BURST 8

int rso_testmod_timer_call(int sleepable);	/* Rust */
int rso_testmod_run_timer(int n, int sleepable);

static DEFINE_MUTEX(rso_timer_lock);
static struct timer_list rso_timer;
static atomic_t rso_timer_left;
static atomic_t rso_timer_calls;
static int rso_timer_sleepable;
static DECLARE_COMPLETION(rso_timer_done);

static void rso_timer_fn(struct timer_list *t)
{
	int i;

	for (i = 0; i < RSO_TIMER_BURST; i++)
		atomic_add(rso_testmod_timer_call(rso_timer_sleepable), &rso_timer_calls);
	if (atomic_dec_return(&rso_timer_left) > 0)
		mod_timer(&rso_timer, jiffies + 1);
	else
		complete(&rso_timer_done);
}

int rso_testmod_run_timer(int n, int sleepable)
{
	int calls;

	mutex_lock(&rso_timer_lock);
	rso_timer_sleepable = sleepable;
	timer_setup(&rso_timer, rso_timer_fn, 0);
	reinit_completion(&rso_timer_done);
	atomic_set(&rso_timer_left, n);
	atomic_set(&rso_timer_calls, 0);
	mod_timer(&rso_timer, jiffies + 1);
	wait_for_completion(&rso_timer_done);
	timer_shutdown_sync(&rso_timer);
	calls = atomic_read(&rso_timer_calls);
	mutex_unlock(&rso_timer_lock);
	return calls;
}

/* take_task_refs: the reference count a __ref task argument hands BPF. */
int rso_testmod_rcu_users(struct task_struct *task);
int rso_testmod_rcu_users(struct task_struct *task)
{
	return refcount_read(&task->rcu_users);
}
