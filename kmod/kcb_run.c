// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_run.c - one repetition of a spec: a kthread per CPU, bound
 * (kthread_create_on_cpu) and checked, attached to the contract
 * (kcb_thread_attach) so the replica front ends' curcpu()/current point
 * at its kcb task.  The threads set up, meet at a start barrier, warm
 * up, measure one time window and then, refscale's cool-down, keep
 * running batches until every thread has closed its window, so the
 * last ones are never measured on an idle machine.
 *
 * The window is bench.c's: thread 0 keeps time and flips a phase word
 * that every thread reads between batches; a thread's window runs from
 * the batch boundary where it saw MEASURE to the one where it saw STOP.
 * One difference: STOP also waits until every thread has run a whole
 * batch inside its window, so that a thread held up (by the scheduler,
 * or under qemu by the host) still reports; its window is then longer
 * than asked for, and measured as it was.
 * What a batch does is mode_batch() (bench/modes.h), the userland
 * benchmark's own code.  A paired run (ab=B) runs kcb_ab.c's rounds in
 * place of the window, in the same threads, after the same start barrier.  cond_resched() between batches: a window can
 * last seconds, and a !PREEMPT kernel must still schedule and pass RCU
 * quiescent states.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/completion.h>
#include <linux/slab.h>
#include <linux/ktime.h>
#include "kcb_run.h"

enum { PH_WARM, PH_MEASURE, PH_STOP };

struct rep;

struct thr {
	struct rep *rep;
	struct task_struct *task;
	struct kcb_thr_result *res;
	struct kcb_remote_thread *remote;	/* a remote run's part */
	int idx, cpu;
};

/* One repetition, shared by its threads. */
struct rep {
	const struct kcb_spec *spec;
	struct mode_run *mr;		/* [I] [2] A's; B's in a paired run */
	struct kcb_ab *ab;		/* [I] a paired run's, or NULL */
	int phase;			/* [a] PH_*, written by thread 0 */
	bool abort;			/* [a] the writer was signalled */
	atomic_t arrived;		/* start barrier: threads not yet in */
	atomic_t failed;		/* a thread could not set up */
	atomic_t batched;		/* threads with a batch in their window */
	atomic_t closed;		/* threads whose window has closed */
	atomic_t left;			/* threads still running */
	struct completion done;
};

static u64 cpu_time(void)
{
	/* Tick-granular, but all a module can read of its own runtime. */
	return READ_ONCE(current->se.sum_exec_runtime);
}

/* One batch: the mode's, or a remote run's sections. */
static inline u64 batch(struct rep *r, struct thr *t, struct mode_thread *mt)
{
	if (t->remote)
		return kcb_remote_batch(t->remote);
	return mode_batch(r->mr, mt, t->idx);
}

static void window(struct rep *r, struct thr *t, struct mode_thread *mt)
{
	u64 ops = 0, start_ops = 0, t0 = ktime_get_ns(), tm = t0, start = t0;
	u64 c0 = cpu_time();
	int seen = PH_WARM, ph;
	bool batched = false;

	for (;;) {
		ops += batch(r, t, mt);
		if (seen == PH_MEASURE && !batched) {
			batched = true;
			atomic_inc(&r->batched);
		}
		if (t->idx == 0) {
			u64 now = ktime_get_ns();

			if (seen == PH_WARM && now - t0 >= r->spec->warmup_ns) {
				tm = now;
				smp_store_release(&r->phase, PH_MEASURE);
			} else if (seen == PH_MEASURE && now - tm >= r->spec->window_ns &&
				   atomic_read(&r->batched) == r->spec->nthreads) {
				smp_store_release(&r->phase, PH_STOP);
			}
		}
		ph = READ_ONCE(r->abort) ? PH_STOP : smp_load_acquire(&r->phase);
		if (ph != seen) {
			if (seen == PH_WARM) {		/* window opens */
				start_ops = ops;
				start = ktime_get_ns();
			}
			if (ph == PH_STOP) {		/* window closes */
				t->res->ns = ktime_get_ns() - start;
				t->res->ops = ops - start_ops;
				t->res->cpu_ns = cpu_time() - c0;
				break;
			}
			seen = ph;
		}
		cond_resched();
	}
	atomic_inc(&r->closed);
	/* Cool-down: load the machine until every window has closed. */
	while (atomic_read(&r->closed) < r->spec->nthreads && !READ_ONCE(r->abort)) {
		batch(r, t, mt);
		cond_resched();
	}
}

/* The thread's buffers (one for both sides of a paired run), tracing on. */
static int thr_mode_init(struct rep *r, struct thr *t, struct mode_thread *mt)
{
	int err = mode_thread_init(&r->mr[kcb_ab_side(r->spec)], mt);

	if (err || !r->ab)
		return err;
	err = kcb_ab_thread_init(r->ab, t->idx);
	if (err)
		mode_thread_fini(r->mr, mt);
	return err;
}

static int thr_main(void *arg)
{
	struct thr *t = arg;
	struct rep *r = t->rep;
	struct mode_thread mt;
	int attached, err;

	/* Bound by kthread_create_on_cpu(), and the CPU cannot go away (the
	 * hotplug lock is held): check anyway, and never take another
	 * thread's CPU slot in kcb_pcpu. */
	t->res->cpu = raw_smp_processor_id();
	attached = t->res->cpu != t->cpu ? -EINVAL :
		   kcb_thread_attach(t->idx, false);
	if (attached < 0)
		err = attached;
	else if (r->spec->remote) {
		/* No kcov of its own: the sections are the whole load. */
		t->remote = kcb_remote_thread_init(r->spec, t->idx);
		err = PTR_ERR_OR_ZERO(t->remote);
	} else {
		err = thr_mode_init(r, t, &mt);
	}
	if (err)
		atomic_set(&r->failed, err);
	/* Start barrier: nobody measures until everyone is set up. */
	atomic_dec(&r->arrived);
	while (atomic_read(&r->arrived) > 0 && !READ_ONCE(r->abort))
		cond_resched();
	if (!atomic_read(&r->failed) && !READ_ONCE(r->abort)) {
		if (r->ab)
			kcb_ab_thread(r->ab, t->idx, &mt, t->res);
		else
			window(r, t, &mt);
	}
	t->res->pinned = !err && raw_smp_processor_id() == t->cpu;
	if (!err && r->spec->remote)
		kcb_remote_thread_fini(t->remote);
	else if (!err)
		mode_thread_fini(r->mr, &mt);
	if (attached >= 0)
		kcb_thread_detach();
	if (atomic_dec_and_test(&r->left))
		complete(&r->done);
	/* kthread_stop() collects us; until then, sleep. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Wait for the threads; a signal aborts the repetition, not the wait. */
static int wait_threads(struct rep *r)
{
	if (!wait_for_completion_interruptible(&r->done))
		return 0;
	WRITE_ONCE(r->abort, true);
	wait_for_completion(&r->done);
	return -EINTR;
}

static int run_rep(const struct kcb_spec *spec, struct mode_run *mr,
		   struct kcb_thr_result *res)
{
	int i, n = spec->nthreads, err = 0, made;
	struct rep r = { .spec = spec, .mr = mr, .phase = PH_WARM };
	struct thr *thr;

	thr = kcalloc(n, sizeof(*thr), GFP_KERNEL);
	if (!thr)
		return -ENOMEM;
	atomic_set(&r.arrived, n);
	atomic_set(&r.failed, 0);
	atomic_set(&r.batched, 0);
	atomic_set(&r.closed, 0);
	atomic_set(&r.left, n);
	init_completion(&r.done);
	mode_run_reset(&mr[0]);
	if (spec->ab[0]) {
		mode_run_reset(&mr[1]);
		r.ab = kcb_ab_alloc(spec, mr, &r.abort);
		if (!r.ab) {
			kfree(thr);
			return -ENOMEM;
		}
	}
	for (made = 0; made < n; made++) {
		struct task_struct *k;

		thr[made] = (struct thr){ .rep = &r, .res = &res[made],
					  .idx = made, .cpu = spec->cpus[made] };
		res[made].cpu = -1;
		k = kthread_create_on_cpu(thr_main, &thr[made], spec->cpus[made],
					  "kcovbench/%u");
		if (IS_ERR(k)) {
			err = PTR_ERR(k);
			break;
		}
		thr[made].task = k;
	}
	/* Never woken, a kthread_stop()ped thread never runs thr_main. */
	for (i = 0; i < made; i++)
		if (err)
			kthread_stop(thr[i].task);
		else
			wake_up_process(thr[i].task);
	if (!err) {
		err = wait_threads(&r);
		for (i = 0; i < n; i++)
			kthread_stop(thr[i].task);
		if (!err)
			err = atomic_read(&r.failed);
	}
	kcb_ab_free(r.ab);
	kfree(thr);
	return err;
}

/* A's mode run, and B's in a paired run; mode_run_fini() both either way. */
static int mode_runs_init(const struct kcb_spec *spec, struct mode_run *mr)
{
	int err = mode_run_init(&mr[0], spec->c, spec->mode, spec->buf_words);

	if (!err && spec->ab[0])
		err = mode_run_init(&mr[1], spec->cb, spec->mode, spec->buf_words);
	return err;
}

/* Why a repetition has no numbers, or 0. */
static int rep_error(const struct kcb_spec *spec,
		     const struct kcb_thr_result *tr)
{
	int i;

	for (i = 0; i < spec->nthreads; i++) {
		/* Every round had a window switched out. */
		if (spec->ab[0] && !tr[i].ab.pairs)
			return -ENODATA;
		/* Only an abort leaves a thread no ops (see window()). */
		if (!tr[i].ops)
			return -ERANGE;
	}
	return 0;
}

int kcb_run(const struct kcb_spec *spec, struct kcb_results *res)
{
	struct mode_run mr[2] = { };
	int rep, err;

	err = mode_runs_init(spec, mr);
	if (!err && spec->remote)
		err = kcb_remote_run_init(spec);
	if (err) {
		mode_run_fini(&mr[0]);
		mode_run_fini(&mr[1]);
		return err;
	}
	for (rep = 0; rep < spec->reps && !err; rep++) {
		struct kcb_thr_result *tr = &res->thr[rep * spec->nthreads];

		err = run_rep(spec, mr, tr);
		if (!err)
			res->rep_err[rep] = rep_error(spec, tr);
		if (signal_pending(current))
			err = err ?: -EINTR;
	}
	if (spec->remote)
		err = kcb_remote_run_fini(spec) ?: err;
	mode_run_fini(&mr[0]);
	mode_run_fini(&mr[1]);
	return err;
}

int kcb_results_alloc(struct kcb_results *res, const struct kcb_spec *spec)
{
	res->spec = spec;
	res->thr = kvcalloc(spec->reps * spec->nthreads, sizeof(*res->thr),
			    GFP_KERNEL);
	res->rep_err = kcalloc(spec->reps, sizeof(*res->rep_err), GFP_KERNEL);
	if (!res->thr || !res->rep_err) {
		kcb_results_free(res);
		return -ENOMEM;
	}
	return 0;
}

void kcb_results_free(struct kcb_results *res)
{
	kvfree(res->thr);
	kfree(res->rep_err);
	res->thr = NULL;
	res->rep_err = NULL;
}
