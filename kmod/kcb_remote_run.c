// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_remote_run.c - the remote-section benchmark in the module: what
 * bench/remote_bench.c measures in userland, with the kernel's own
 * softirqs.  A softirq batch is one tasklet, scheduled between
 * local_bh_disable() and local_bh_enable() so that the enable runs it in
 * this thread (on PREEMPT_RT in this thread's task context, softirq count
 * per task); its SECTIONS sections share that one entry, as userland's
 * share one simulated softirq entry.  The tasklet's own cost is in each
 * batch: under qemu's TCG nothing here is representative anyway.
 * records=N (a request-rate run, as userland's --modes=remote-request):
 * N trace_cmp8 records per section, moved into the owner's buffer, which
 * has room for a batch and is emptied after each, as in userland.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/interrupt.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include "kcb_run.h"

#define SECTIONS	64		/* sections per batch, as userland */
#define HANDLE_BASE	0x6b63625200000000ull

struct kcb_remote_thread {
	const struct kcb_remote_ops *r;	/* [I] */
	bool soft;			/* [I] */
	int idx;			/* [I] */
	u64 records;			/* [I] hooks per section */
	struct kcb_dev owner;		/* its own: threads share only the design */
	struct tasklet_struct tl;
	bool ran;			/* [a] the tasklet ran this batch */
};

int kcb_remote_run_init(const struct kcb_spec *spec)
{
	return spec->remote->init();
}

/* The design's pools back: 0, or -EIO when an area leaked or was used twice. */
int kcb_remote_run_fini(const struct kcb_spec *spec)
{
	struct kcb_remote_stats st = { 0 };

	spec->remote->fini(&st);
	if (st.areas == st.areas_free && !st.double_use)
		return 0;
	pr_info("remote %s: areas: %llu allocated, %llu back in pools, %llu handed out twice\n",
		spec->remote->name, st.areas, st.areas_free, st.double_use);
	return -EIO;
}

static void sections(struct kcb_remote_thread *t)
{
	t->r->loop(HANDLE_BASE + t->idx, SECTIONS, t->records, t->idx, 0);
}

static void tasklet_fn(struct tasklet_struct *tl)
{
	struct kcb_remote_thread *t = container_of(tl, struct kcb_remote_thread, tl);

	sections(t);
	WRITE_ONCE(t->ran, true);
}

/* In the thread, attached.  The owner is kzalloc()ed, on lines of its own. */
struct kcb_remote_thread *kcb_remote_thread_init(const struct kcb_spec *spec, int idx)
{
	struct kcb_remote_thread *t = kzalloc(sizeof(*t), GFP_KERNEL);
	u64 recs = spec->remote_records;

	if (!t)
		return ERR_PTR(-ENOMEM);
	t->r = spec->remote;
	t->soft = spec->remote_soft;
	t->idx = idx;
	t->records = recs;
	tasklet_setup(&t->tl, tasklet_fn);
	/* No records: a buffer for none (every section moves nothing). */
	if (kcb_dev_init(&t->owner, recs ? (SECTIONS * (recs + 1) + 1) * KCB_STRIDE_CMP + 1 :
			 KCB_STRIDE_CMP + 1)) {
		kfree(t);
		return ERR_PTR(-ENOMEM);
	}
	t->owner.mode = KCB_MODE_TRACE_CMP;
	if (t->r->enable(&t->owner, HANDLE_BASE + idx,
			 recs ? recs * KCB_STRIDE_CMP + 2 : 2 * KCB_STRIDE_CMP)) {
		kcb_dev_fini(&t->owner);
		kfree(t);
		return ERR_PTR(-EINVAL);
	}
	return t;
}

u64 kcb_remote_batch(struct kcb_remote_thread *t)
{
	if (!t->soft) {
		sections(t);
		if (t->records)		/* only this thread's sections move here */
			WRITE_ONCE(t->owner.buf[0], 0);
		return SECTIONS;
	}
	WRITE_ONCE(t->ran, false);
	local_bh_disable();
	tasklet_schedule(&t->tl);
	local_bh_enable();
	/* Deferred to ksoftirqd (this CPU's, so not before we yield): wait. */
	while (!READ_ONCE(t->ran))
		cond_resched();
	if (t->records)
		WRITE_ONCE(t->owner.buf[0], 0);
	return SECTIONS;
}

void kcb_remote_thread_fini(struct kcb_remote_thread *t)
{
	if (IS_ERR_OR_NULL(t))
		return;
	tasklet_kill(&t->tl);
	t->r->disable(&t->owner);
	kcb_dev_fini(&t->owner);
	kfree(t);
}
