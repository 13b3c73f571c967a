// SPDX-License-Identifier: GPL-2.0
/*
 * twin_preempt_kernel.c - a softirq remote section preempted on its own
 * CPU by a higher-priority task that runs a section too: what the v4 patch
 * (22 May 2026 mail) says corrupts linux-percpu's per-CPU saved state on
 * PREEMPT_RT.  Linux-shaped designs only (config "linux").
 *
 * Two kthreads bound to one CPU, each with its own kcov on (trace-cmp into
 * its own buffer) and its own kcb task.  Here kcb_current() is per task,
 * as current is: a preempt notifier makes each one's kcb task this CPU's
 * curtask when it is switched in, and clears it when it is switched out.
 *
 *   A (SCHED_FIFO 1) runs a softirq section: a tasklet scheduled under
 *     local_bh_disable(), run by local_bh_enable() in A itself.  Halfway
 *     through the section's records it completes B's kick, waking
 *   B (SCHED_FIFO 50), which then runs a section of its own:
 *     "soft": a softirq section, the same way as A's;
 *     "task": a task-context section, B then being a background thread
 *     without kcov of its own (upstream refuses a task section from a
 *     task with kcov on: kcov_remote_start()'s WARN_ON).
 *
 * What a kernel does with that, per round, is counted, not assumed:
 *  - B did not run before A's softirq ended (!RT: softirqs do not
 *    preempt); or
 *  - B preempted A and waited on the BH lock, A went on, boosted (RT
 *    kernels before v6.18, and later ones built with
 *    CONFIG_PREEMPT_RT_NEEDS_BH_LOCK: local_bh_disable() takes the per-CPU
 *    softirq_ctrl.lock, so two tasks never serve softirqs on one CPU at
 *    once); or
 *  - B's whole section ran inside A's (RT, "task"; and "soft" on an RT
 *    kernel without the BH lock, commit 3253cb49cbad, v6.18).
 * Checked as twin_remote.c checks: every record of an opened section in
 * the owner's buffer once, each task's kcov state and own records its own
 * after every round, the variant's areas and warnings.
 */
#include <linux/completion.h>
#include <linux/interrupt.h>
#include <linux/kthread.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include "../tests/twin_remote.h"
#include "twin_preempt.h"

#define NREC		8		/* records per section, B woken after half */
#define HANDLE		0x6b63620000000003ull
#define TAG_SOFT	(1ull << 20)
#define TAG_OWN		(1ull << 21)
#define CMP8_TYPE	KCB_CMP_SIZE(3)

enum { B_IDLE, B_WANTS, B_IN, B_DONE };	/* where B is in its round */
enum { WHO_A = 1, WHO_B = 2 };

struct pt;

struct pd {
	const struct kcb_remote_ops *r;
	const struct kcb_combo *c;
	bool b_soft;			/* [I] B runs a softirq section */
	unsigned long rounds;		/* [I] */
	struct pt *a, *b;		/* [I] */
	struct completion kick, b_done, started;
	int a_open;			/* [a] A's section is open */
	int b_stage;			/* [a] B_* */
	int stop;			/* [a] */
	/* Per round, what A saw right after waking B (from inside A's section). */
	unsigned long not_preempted, waited_bh, b_blocked_inside, b_whole_inside;
	unsigned long b_began_inside;	/* B's section opened while A's was open */
	unsigned long errors;		/* [a] */
};

struct pt {
	struct pd *pd;
	int who;
	struct task_struct *k;
	struct kcb_task *task;		/* [I] its kcb task, once attached */
	struct preempt_notifier pn;
	struct tasklet_struct tl;
	struct kcb_dev own;
	bool own_on;			/* [I] its own kcov is on */
	unsigned long opened, own_made, elsewhere, state_bad;
	int tl_ran;			/* [a] its tasklet ran in it */
	int tl_armed;			/* [a] its tasklet is scheduled, not yet run */
};

static void pn_in(struct preempt_notifier *n, int cpu)
{
	this_cpu_write(kcb_pcpu.curtask, container_of(n, struct pt, pn)->task);
}

static void pn_out(struct preempt_notifier *n, struct task_struct *next)
{
	this_cpu_write(kcb_pcpu.curtask, NULL);
}

static struct preempt_ops pn_ops = { .sched_in = pn_in, .sched_out = pn_out };

/* One section's records; A wakes B halfway through its own. */
static void section(struct pt *p, bool soft)
{
	struct pd *pd = p->pd;
	uint64_t tag = p->who | (soft ? TAG_SOFT : 0), i;
	int ok = pd->r->start(HANDLE);

	if (!ok)
		tag |= KCB_REMOTE_TAG_CLOSED;
	if (p->who == WHO_B) {
		WRITE_ONCE(pd->b_stage, B_IN);
		pd->b_began_inside += READ_ONCE(pd->a_open);
	}
	if (p->who == WHO_A)
		WRITE_ONCE(pd->a_open, 1);
	for (i = 0; i < NREC; i++) {
		pd->c->trace_cmp8(tag, p->opened * NREC + i);
		if (p->who == WHO_A && i == NREC / 2 - 1) {
			WRITE_ONCE(pd->b_stage, B_IDLE);
			complete(&pd->kick);
			switch (READ_ONCE(pd->b_stage)) {
			case B_IDLE:
				pd->not_preempted++;
				break;
			case B_WANTS:
				pd->waited_bh++;
				break;
			case B_IN:
				pd->b_blocked_inside++;
				break;
			default:
				pd->b_whole_inside++;
			}
		}
	}
	if (p->who == WHO_A)
		WRITE_ONCE(pd->a_open, 0);
	pd->r->stop(HANDLE);
	p->opened += ok;
}

static void tasklet_fn(struct tasklet_struct *t)
{
	struct pt *p = container_of(t, struct pt, tl);

	/* Only in the task that scheduled it (ksoftirqd has no kcb task). */
	if (current != p->k || kcb_current() != p->task) {
		p->elsewhere++;
	} else {
		WRITE_ONCE(p->tl_ran, 1);
		section(p, true);
	}
	WRITE_ONCE(p->tl_armed, 0);
}

struct tstate {
	struct kcb_dev *kd, *kcov;
	uint64_t *area;
	unsigned int mode, size;
	int seq, softirq;
};

static void snap(const struct kcb_task *t, struct tstate *s)
{
	memset(s, 0, sizeof(*s));	/* the padding too: compared whole */
	s->kd = t->kd;
	s->kcov = t->kcov;
	s->area = t->kcov_area;
	s->mode = t->kcov_mode;
	s->size = t->kcov_size;
	s->seq = t->kcov_sequence;
	s->softirq = t->kcov_softirq;
}

#define SOFT_TRIES	100

/*
 * Normally local_bh_enable() runs the tasklet here; __do_softirq() may
 * leave it to ksoftirqd instead (its restart limit), where it runs no
 * section.  So each try waits until the tasklet has run (sleeping:
 * ksoftirqd is no SCHED_FIFO task on !RT), none is pending when the round
 * ends, and a deferred try is made again.
 */
static void soft_section(struct pt *p)
{
	int tries;

	WRITE_ONCE(p->tl_ran, 0);
	for (tries = 0; tries < SOFT_TRIES && !READ_ONCE(p->tl_ran); tries++) {
		WRITE_ONCE(p->tl_armed, 1);
		local_bh_disable();
		tasklet_schedule(&p->tl);
		local_bh_enable();
		while (READ_ONCE(p->tl_armed))
			schedule_timeout_uninterruptible(1);
	}
}

static void round_of(struct pt *p, unsigned long r)
{
	struct pd *pd = p->pd;
	struct tstate before, after;

	snap(p->task, &before);
	if (p->own_on)
		pd->c->trace_cmp8(p->who | TAG_OWN, p->own_made++);
	if (p->who == WHO_B) {
		WRITE_ONCE(pd->b_stage, B_WANTS);
		if (pd->b_soft)
			soft_section(p);
		else
			section(p, false);
		WRITE_ONCE(pd->b_stage, B_DONE);
	} else {
		soft_section(p);
	}
	if (p->own_on)
		pd->c->trace_cmp8(p->who | TAG_OWN, p->own_made++);
	snap(p->task, &after);
	if (memcmp(&before, &after, sizeof(before)) && !p->state_bad++)
		kcb_log("preempt %s: %s: round %lu: %c's kcov state changed\n",
			pd->r->name, pd->b_soft ? "soft" : "task", r,
			p->who == WHO_A ? 'A' : 'B');
}

static int thread_fn(void *arg)
{
	struct pt *p = arg;
	struct pd *pd = p->pd;
	unsigned long r;

	if (kcb_thread_attach(0, false) < 0) {
		/* Release the partner, whichever waits. */
		kcb_fetch_add((uint64_t *)&pd->errors, 1);
		WRITE_ONCE(pd->stop, 1);
		complete_all(&pd->kick);
		complete_all(&pd->b_done);
		complete(&pd->started);
		return 0;
	}
	p->task = kcb_current();
	preempt_notifier_init(&p->pn, &pn_ops);
	preempt_notifier_register(&p->pn);
	if (p->own_on)
		kcb_task_enable(p->task, &p->own, KCB_MODE_TRACE_CMP);
	complete(&pd->started);
	for (r = 0; r < pd->rounds; r++) {
		if (p->who == WHO_B) {
			wait_for_completion(&pd->kick);
			if (READ_ONCE(pd->stop))
				break;
			round_of(p, r);
			complete(&pd->b_done);
		} else {
			if (READ_ONCE(pd->stop))
				break;
			round_of(p, r);
			/* Every try ran elsewhere: no section woke B (counted). */
			if (!READ_ONCE(p->tl_ran))
				complete(&pd->kick);
			wait_for_completion(&pd->b_done);
		}
	}
	if (p->own_on)
		kcb_task_disable(p->task);
	preempt_notifier_unregister(&p->pn);
	kcb_thread_detach();
	return 0;
}

/* The own buffer holds the task's own records, in order, and no others. */
static int check_own(struct pd *pd, struct pt *p)
{
	uint64_t i, n = p->own.buf[0];

	if (n != p->own_made) {
		kcb_log("preempt %s: %c's own buffer has %llu records, made %lu\n",
			pd->r->name, p->who == WHO_A ? 'A' : 'B', n, p->own_made);
		return 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t *rec = &p->own.buf[1 + i * 4];

		if (rec[0] != CMP8_TYPE || rec[1] != (p->who | TAG_OWN) || rec[2] != i) {
			kcb_log("preempt %s: %c's own record %llu is not its own\n",
				pd->r->name, p->who == WHO_A ? 'A' : 'B', i);
			return 1;
		}
	}
	return 0;
}

static int check_owner(struct pd *pd, struct kcb_dev *o)
{
	uint64_t n = o->buf[0], i, bad = 0, dup = 0, made;
	uint64_t per = pd->rounds * NREC;
	uint8_t *seen = kcb_zalloc(2 * per);

	if (!seen)
		return 1;
	made = (pd->a->opened + pd->b->opened) * NREC;
	for (i = 0; i < n && i < 2 * per; i++) {
		uint64_t *rec = &o->buf[1 + i * 4], tag = rec[1], seq = rec[2];
		uint64_t who = tag & ~TAG_SOFT;
		bool b_tag = pd->b_soft ? tag == (WHO_B | TAG_SOFT) : tag == WHO_B;

		if (rec[0] != CMP8_TYPE || seq >= per ||
		    (tag != (WHO_A | TAG_SOFT) && !b_tag)) {
			bad++;
			continue;
		}
		if (seen[(who == WHO_B) * per + seq]++)
			dup++;
	}
	kcb_free(seen);
	if (bad || dup || n != made || o->lost) {
		kcb_log("preempt %s: owner holds %llu (lost %llu), made %llu: %llu torn, foreign or from closed sections, %llu duplicated\n",
			pd->r->name, n, o->lost, made, bad, dup);
		return 1;
	}
	return 0;
}

static int start_kthread(struct pd *pd, struct pt *p, int who, int cpu)
{
	p->pd = pd;
	p->who = who;
	p->own_on = who == WHO_A || pd->b_soft;
	tasklet_setup(&p->tl, tasklet_fn);
	if (kcb_dev_init(&p->own, (2 * pd->rounds + 1) * KCB_STRIDE_CMP + 1))
		return -ENOMEM;
	p->k = kthread_create(thread_fn, p, "kcb-preempt-%c", who == WHO_A ? 'A' : 'B');
	if (IS_ERR(p->k))
		return PTR_ERR(p->k);
	kthread_bind(p->k, cpu);
	if (who == WHO_A)
		sched_set_fifo_low(p->k);
	else
		sched_set_fifo(p->k);
	get_task_struct(p->k);
	wake_up_process(p->k);
	wait_for_completion(&pd->started);
	return 0;
}

static int one_scenario(const struct kcb_remote_ops *r, bool b_soft,
			unsigned long rounds)
{
	const char *sc = b_soft ? "soft" : "task";
	struct kcb_remote_stats st = { 0 };
	struct pd *pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	struct pt *pts = kcalloc(2, sizeof(*pts), GFP_KERNEL);
	struct kcb_dev owner;
	int cpu = cpumask_first(cpu_online_mask), err = 0, i;
	bool rt = IS_ENABLED(CONFIG_PREEMPT_RT);

	if (!pd || !pts || r->init()) {
		kfree(pd);
		kfree(pts);
		return 1;
	}
	pd->r = r;
	pd->c = kcb_find(r->config);
	pd->b_soft = b_soft;
	pd->rounds = rounds;
	pd->a = &pts[0];
	pd->b = &pts[1];
	init_completion(&pd->kick);
	init_completion(&pd->b_done);
	init_completion(&pd->started);
	if (!pd->c || kcb_dev_init(&owner, 2 * rounds * NREC * KCB_STRIDE_CMP + 1)) {
		err = 1;
		goto out_fini;
	}
	owner.mode = KCB_MODE_TRACE_CMP;
	if (r->enable(&owner, HANDLE, NREC * KCB_STRIDE_CMP + 1)) {
		err = 1;
		goto out_owner;
	}
	preempt_notifier_inc();
	/* B first: it waits for its first kick before A makes any. */
	if (start_kthread(pd, pd->b, WHO_B, cpu)) {
		err = 1;
		goto out_dec;
	}
	reinit_completion(&pd->started);
	if (start_kthread(pd, pd->a, WHO_A, cpu)) {
		/* A never came: release B. */
		WRITE_ONCE(pd->stop, 1);
		complete(&pd->kick);
		err = 1;
	}
	for (i = 0; i < 2; i++)
		if (!IS_ERR_OR_NULL(pts[i].k)) {
			kthread_stop(pts[i].k);
			put_task_struct(pts[i].k);
		}
	r->disable(&owner);
	err += READ_ONCE(pd->errors) + check_owner(pd, &owner);
	for (i = 0; i < 2; i++)
		err += !!pts[i].state_bad + check_own(pd, &pts[i]);
	/* A round that checked nothing: every section must have opened. */
	if (pd->a->opened != rounds || pd->b->opened != rounds) {
		kcb_log("preempt %s: %s: A opened %lu, B %lu of %lu sections (%lu + %lu tasklet runs in another task)\n",
			r->name, sc, pd->a->opened, pd->b->opened, rounds,
			pd->a->elsewhere, pd->b->elsewhere);
		err++;
	}
	/* On RT the wake-up preempts A: some round must show it. */
	if (rt && !pd->waited_bh && !pd->b_blocked_inside && !pd->b_whole_inside) {
		kcb_log("preempt %s: %s: B never preempted A\n", r->name, sc);
		err++;
	}
	kcb_log("preempt %s: %s: %lu rounds on CPU %d (%s): B ran after A's softirq %lu, preempted A and waited for the BH lock %lu, blocked inside its section %lu, ran its whole section inside A's %lu; B's section opened inside A's %lu; tasklets left to ksoftirqd %lu\n",
		r->name, sc, rounds, cpu, rt ? "PREEMPT_RT" : "!RT",
		pd->not_preempted, pd->waited_bh, pd->b_blocked_inside,
		pd->b_whole_inside, pd->b_began_inside,
		pd->a->elsewhere + pd->b->elsewhere);
out_dec:
	preempt_notifier_dec();
out_owner:
	kcb_dev_fini(&owner);
	for (i = 0; i < 2; i++) {
		tasklet_kill(&pts[i].tl);	/* none pending (soft_section) */
		kcb_dev_fini(&pts[i].own);
	}
out_fini:
	r->fini(&st);
	if (st.areas != st.areas_free || st.double_use || st.warnings) {
		kcb_log("preempt %s: %s: areas %llu allocated, %llu back, %llu handed out twice; %llu upstream warnings\n",
			r->name, sc, st.areas, st.areas_free, st.double_use, st.warnings);
		err++;
	}
	kfree(pd);
	kfree(pts);
	return err;
}

int twin_preempt(const struct kcb_remote_ops *r, unsigned long rounds)
{
	return one_scenario(r, true, rounds) + one_scenario(r, false, rounds);
}
