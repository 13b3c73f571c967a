// SPDX-License-Identifier: GPL-2.0
/*
 * twin_remote_kernel.c - the softirq source tests/twin_remote.c needs, in
 * the module (tests/twin_remote_user.c is the userland one).  Per CPU:
 *
 *  - "now and then": an hrtimer in HRTIMER_MODE_REL_PINNED_SOFT every
 *    PERIOD_NS.  On !PREEMPT_RT its callback runs in the HRTIMER softirq,
 *    on top of whatever this CPU runs (here: the bound kcovbench kthread,
 *    or ksoftirqd when softirqs are deferred).  On PREEMPT_RT soft hrtimers
 *    expire in the per-CPU ktimers thread, with in_serving_softirq() true:
 *    another task than the kthread, though kcb_current() (the per-CPU
 *    pointer kcb_thread_attach() set) still names the kthread's kcb task.
 *  - "at every kick": a tasklet scheduled between local_bh_disable() and
 *    local_bh_enable(), which runs it before returning, in the kicking
 *    kthread itself on both kernels (on RT, local_bh_enable() runs the
 *    pending softirqs in the current task).
 *
 * What this means on PREEMPT_RT, for the timer path only: the section
 * code runs in ktimers but reads and writes the kthread's kcb task (its
 * kcov_* fields, and linux-pertask-v4's kcov_saved_* state), and the
 * per-CPU ci_idepth.  While the section runs to completion that is what
 * an interrupt on top of the kthread would do (ktimers is SCHED_FIFO and
 * preempts it).  But on RT the section's spinlocks sleep: if ktimers blocks
 * on one, the kthread runs again on this CPU with the section's state
 * installed in "its" kcb task, which real Linux cannot see (there, the
 * section's state is ktimers' own task_struct's).  The checks then report
 * the kthread's state changed or its records misplaced: an artefact of
 * the per-CPU current, not of the variant, for linux-pertask-v4 (per-task
 * state) and linux-percpu (its saved state is per-CPU, under a local_lock
 * that on RT is a per-CPU sleeping lock) alike.
 */
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/percpu.h>
#include <linux/bottom_half.h>
#include "../tests/twin_remote.h"

#define PERIOD_NS	100000		/* TCG: every 100 us is plenty */

struct twin_soft {
	struct hrtimer timer;
	struct tasklet_struct tasklet;
	void (*fn)(void *);
	void *arg;
	bool armed;
	struct task_struct *armer;	/* the kthread that armed it */
	/* Callbacks that ran fn: from the timer, from a kick; and of those,
	 * in a task other than the armer (PREEMPT_RT's ktimers). */
	unsigned long timer_runs, kick_runs, other_task;
};

static DEFINE_PER_CPU(struct twin_soft, twin_soft);

/* Softirqs of one CPU run one at a time (on RT too: the BH lock). */
static void twin_soft_run(struct twin_soft *ts, bool timer)
{
	void (*fn)(void *) = READ_ONCE(ts->fn);

	/* Disarmed, or no kcb task on this CPU: nothing to run on top of. */
	if (!fn || !kcb_current())
		return;
	WARN_ON_ONCE(!in_serving_softirq());
	if (timer)
		ts->timer_runs++;
	else
		ts->kick_runs++;
	if (current != ts->armer)
		ts->other_task++;
	kcb_intr_enter(true);
	fn(READ_ONCE(ts->arg));
	kcb_intr_exit(true);
}

static enum hrtimer_restart twin_soft_tick(struct hrtimer *h)
{
	struct twin_soft *ts = container_of(h, struct twin_soft, timer);

	twin_soft_run(ts, true);
	hrtimer_forward_now(h, ns_to_ktime(PERIOD_NS));
	return HRTIMER_RESTART;
}

static void twin_soft_tasklet(struct tasklet_struct *t)
{
	twin_soft_run(container_of(t, struct twin_soft, tasklet), false);
}

/* Called by a kthread bound to its CPU (kcb_parallel()). */
int twin_softirq_arm(void (*fn)(void *), void *arg)
{
	struct twin_soft *ts = raw_cpu_ptr(&twin_soft);

	if (ts->armed)
		return -EBUSY;
	tasklet_setup(&ts->tasklet, twin_soft_tasklet);
	hrtimer_init(&ts->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_SOFT);
	ts->timer.function = twin_soft_tick;
	ts->armer = current;
	ts->timer_runs = ts->kick_runs = ts->other_task = 0;
	WRITE_ONCE(ts->arg, arg);
	WRITE_ONCE(ts->fn, fn);
	ts->armed = true;
	hrtimer_start(&ts->timer, ns_to_ktime(PERIOD_NS), HRTIMER_MODE_REL_PINNED_SOFT);
	return 0;
}

void twin_softirq_kick(void)
{
	struct twin_soft *ts = raw_cpu_ptr(&twin_soft);

	if (!ts->armed)
		return;
	local_bh_disable();
	tasklet_schedule(&ts->tasklet);
	local_bh_enable();
}

void twin_softirq_disarm(void)
{
	struct twin_soft *ts = raw_cpu_ptr(&twin_soft);

	if (!ts->armed)
		return;
	WRITE_ONCE(ts->fn, NULL);
	/* Both wait for a callback in flight: none runs after this. */
	hrtimer_cancel(&ts->timer);
	tasklet_kill(&ts->tasklet);
	ts->armed = false;
	kcb_log("softirq source, cpu %d: %lu timer + %lu kick callbacks, %lu in another task than %s/%d\n",
		raw_smp_processor_id(), ts->timer_runs, ts->kick_runs,
		ts->other_task, current->comm, task_pid_nr(current));
}
