/* SPDX-License-Identifier: MIT */
/*
 * remote "pertask-pcpu-rcu": PROPOSAL (no upstream OS has it).  A patch to
 * Linux kernel/kcov.c kcov_remote_start()/kcov_remote_stop(),
 * kcov_remote_area_get/put(), kcov_remote_add/reset() and kcov_init(), on
 * top of the v4 patch.  Nothing changes for a reader of the buffer.
 *
 * - Saved state per task (kcov_saved_*), as v4: a softirq section that is
 *   preempted on PREEMPT_RT cannot hand one task's state to another.
 * - Areas come from a per-CPU pool taken under the CPU's local_lock (irqs
 *   off on !RT, a per-CPU sleeping lock on RT: uncontended, its cache line
 *   stays on its CPU).  Only a miss refills from the global pool under
 *   kcov_pool_lock, one area at a time; a put beyond POOL_MAX areas per CPU
 *   goes back to the global pool.  Softirq never allocates, as upstream.
 * - The handle is found under RCU: kcov_remote_lock serialises only
 *   KCOV_REMOTE_ENABLE and close, which remove entries, wait a grace
 *   period, then free them.  A section takes its kcov reference inside the
 *   read-side section, so once close's synchronize_rcu() returns every
 *   section that found the handle holds a reference, and close's wait for
 *   the last reference covers them all.
 * - The move into the owner's buffer takes kcov->lock with
 *   spin_lock_irqsave(), as KCOV_REMOTE_ENABLE and close do: on !RT no
 *   softirq can land on this CPU while it is held (the review's deadlock:
 *   v4's plain spin_lock in kcov_remote_stop()), and on RT softirqs are
 *   threads and irqsave leaves interrupts on.
 * The same code on RT and !RT: the only RT difference is upstream's
 * preallocation count, kept as v4 has it.
 * Hooks: `linux`.  Lookup: rcu16 (lookup.h).
 */
#include "remote_linux.h"

#define POOL_MAX	4	/* areas of each kind a CPU keeps */

struct kcov_pcpu_pool {
	kcb_local_lock_t	 lock;
	struct kcov_remote_area	*areas[2];	/* [c] under lock: task, irq */
	unsigned int		 n[2];		/* [c] under lock */
};

static KCB_DEFINE_PER_CPU(struct kcov_pcpu_pool, kcov_pcpu_pool);
static KCB_DEFINE_SPINLOCK(kcov_pool_lock);
static struct kcov_remote_area *kcov_global_areas[2];	/* [M] kcov_pool_lock */
static KCB_DEFINE_SPINLOCK(kcov_remote_lock);		/* updaters of the map */
static struct kcb_rhash kcov_remote_map;		/* [M] updates, RCU reads */
static struct lnx_pool_stats ps;

static uint64_t *pool_get(unsigned int size, int irq)
{
	struct kcov_pcpu_pool *p;
	kcb_irqflags_t f;
	uint64_t *area;

	kcb_local_lock_irqsave_pcpu(kcov_pcpu_pool, lock, f);
	p = kcb_this_cpu_ptr(kcov_pcpu_pool);
	area = lnx_area_get(&p->areas[irq], size, &ps);
	p->n[irq] -= area != NULL;
	kcb_local_unlock_irqrestore_pcpu(kcov_pcpu_pool, lock, f);
	if (area)
		return area;
	kcb_spin_lock_irqsave(&kcov_pool_lock, f);	/* a miss: refill one */
	area = lnx_area_get(&kcov_global_areas[irq], size, &ps);
	kcb_spin_unlock_irqrestore(&kcov_pool_lock, f);
	return area;
}

static void pool_put(uint64_t *area, unsigned int size, int irq)
{
	struct kcov_pcpu_pool *p;
	kcb_irqflags_t f;
	int kept = 0;

	kcb_local_lock_irqsave_pcpu(kcov_pcpu_pool, lock, f);
	p = kcb_this_cpu_ptr(kcov_pcpu_pool);
	if (p->n[irq] < POOL_MAX) {
		lnx_area_put(&p->areas[irq], area, size);
		p->n[irq]++;
		kept = 1;
	}
	kcb_local_unlock_irqrestore_pcpu(kcov_pcpu_pool, lock, f);
	if (kept)
		return;
	kcb_spin_lock_irqsave(&kcov_pool_lock, f);
	lnx_area_put(&kcov_global_areas[irq], area, size);
	kcb_spin_unlock_irqrestore(&kcov_pool_lock, f);
}

static int pr_start(uint64_t handle)
{
	struct kcb_task *t = kcb_current();
	struct kcb_remote *remote;
	struct kcb_dev *kcov;
	unsigned int mode, size;
	uint64_t *area;
	int sequence;

	if (!kcb_in_task() && !kcb_in_softirq_really())
		return 0;
	mode = READ_ONCE(t->kcov_mode);
	if ((kcb_in_task() && kcov_mode_enabled(mode)) ||
	    (kcb_in_serving_softirq() && t->kcov_softirq)) {
		kcb_fetch_add(&ps.warnings, 1);		/* WARN_ON */
		return 0;
	}
	kcb_rcu_read_lock();
	remote = rcu16_find(&kcov_remote_map, handle);
	if (!remote) {
		kcb_rcu_read_unlock();
		return 0;
	}
	kcov = remote->kd;
	mode = READ_ONCE(kcov->mode);
	/* A reader may find a handle that close has already unpublished, and
	 * see its mode cleared: no section then, or stop could not end it. */
	if (!kcov_mode_enabled(mode)) {
		kcb_rcu_read_unlock();
		return 0;
	}
	lnx_kcov_get(kcov);		/* before the grace period can end */
	sequence = READ_ONCE(kcov->sequence);
	size = kcb_in_task() ? READ_ONCE(kcov->remote_size) : KCOV_IRQ_AREA_SIZE;
	kcb_rcu_read_unlock();
	area = pool_get(size, !kcb_in_task());
	if (!area) {
		area = kcb_in_task() ? kcb_area_alloc(size, &ps.areas) : NULL;
		if (!area) {
			if (!kcb_in_task())
				kcb_fetch_add(&ps.no_area, 1);
			lnx_kcov_put(kcov);
			return 0;
		}
		kcb_area_mark(area, &ps.double_use);
	}
	WRITE_ONCE(area[0], 0);
	if (kcb_in_serving_softirq()) {
		lnx_task_softirq_save(t);
		t->kcov_softirq = 1;
	}
	lnx_kcov_start(t, kcov, size, area, mode, sequence);
	return 1;
}

static void pr_stop(uint64_t handle)
{
	struct kcb_task *t = kcb_current();
	struct kcb_dev *kcov;
	unsigned int mode, size;
	uint64_t *area;
	kcb_irqflags_t flags;
	int sequence;

	(void)handle;
	if (!kcb_in_task() && !kcb_in_softirq_really())
		return;
	mode = READ_ONCE(t->kcov_mode);
	barrier();
	if (!kcov_mode_enabled(mode) || (kcb_in_serving_softirq() && !t->kcov_softirq))
		return;
	if (!kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);		/* WARN_ON */
		return;
	}
	kcov = t->kcov;
	area = t->kcov_area;
	size = t->kcov_size;
	sequence = t->kcov_sequence;
	lnx_kcov_stop(t);
	if (kcb_in_serving_softirq()) {
		t->kcov_softirq = 0;
		lnx_task_softirq_restore(t);
	}
	kcb_spin_lock_irqsave(&kcov->lock, flags);	/* no softirq lands here */
	if (sequence == kcov->sequence && kcov->remote)
		lnx_move_area(kcov, area);
	kcb_spin_unlock_irqrestore(&kcov->lock, flags);
	pool_put(area, size, !kcb_in_task());
	lnx_kcov_put(kcov);
}

KCB_REMOTE_LOOP(pr_loop, pr_start, pr_stop, kcb_lnx__plain_count_first__trace_cmp8)

/* KCOV_REMOTE_ENABLE: as upstream, but publishing the entry for RCU readers. */
static int pr_enable(struct kcb_dev *kcov, uint64_t handle, uint64_t area_words)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;
	int err = 0;

	kcb_lock_name(&kcov->lock, "kcov->lock");
	if (area_words < 2 || area_words > 0xffffffffu)
		return -EINVAL;
	r = kcb_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->handle = handle;
	r->kd = kcov;
	kcb_spin_lock_irqsave(&kcov->lock, f);
	if (!READ_ONCE(kcov->refcount))
		WRITE_ONCE(kcov->refcount, 1);	/* open() */
	WRITE_ONCE(kcov->remote, 1);
	WRITE_ONCE(kcov->remote_size, (unsigned int)area_words);
	kcb_spin_lock(&kcov_remote_lock);
	if (rcu16_find(&kcov_remote_map, handle))
		err = -EEXIST;
	else
		rcu16_add(&kcov_remote_map, r);
	kcb_spin_unlock(&kcov_remote_lock);
	kcb_spin_unlock_irqrestore(&kcov->lock, f);
	if (err)
		kcb_free(r);
	return err;
}

/* No reader can still hold a handle that close() unpublished. */
static void pr_free_after_grace_period(struct kcb_remote *gone)
{
	struct kcb_remote *next;

	kcb_synchronize_rcu();
	for (; gone; gone = next) {
		next = gone->gone;
		kcb_free(gone);
	}
}

/* Close: unpublish, wait a grace period, free; then wait for sections. */
static void pr_disable(struct kcb_dev *kcov)
{
	struct kcb_remote *gone = NULL, *r, *next;
	kcb_irqflags_t f;
	unsigned int b;

	kcb_spin_lock_irqsave(&kcov->lock, f);
	kcb_spin_lock(&kcov_remote_lock);
	for (b = 0; b < KCB_HASH_SIZE; b++) {
		for (r = kcov_remote_map.bucket[b]; r; r = next) {
			next = r->next;
			if (r->kd != kcov)
				continue;
			rcu16_del(&kcov_remote_map, r);
			r->gone = gone;		/* r->next, r->kd stay for readers */
			gone = r;
		}
	}
	kcb_spin_unlock(&kcov_remote_lock);
	WRITE_ONCE(kcov->mode, KCB_MODE_NONE);
	WRITE_ONCE(kcov->remote, 0);
	WRITE_ONCE(kcov->sequence, kcov->sequence + 1);
	kcb_spin_unlock_irqrestore(&kcov->lock, f);
	pr_free_after_grace_period(gone);
	lnx_kcov_put(kcov);
	while (READ_ONCE(kcov->refcount))
		kcb_wait_a_while();
}

static int pr_init(void)
{
	int cpu, n = kcb_possible_cpus();
	kcb_irqflags_t f;

	memset(&ps, 0, sizeof(ps));
	kcov_global_areas[0] = kcov_global_areas[1] = NULL;
	memset(&kcov_remote_map, 0, sizeof(kcov_remote_map));
	kcb_spin_lock_init(&kcov_pool_lock);
	kcb_spin_lock_init(&kcov_remote_lock);
	kcb_lock_name(&kcov_pool_lock, "kcov_pool_lock");
	kcb_lock_name(&kcov_remote_lock, "kcov_remote_lock");
	/* As kcov_init(): extra areas on RT, where softirq sections preempt
	 * each other.  Each CPU's pool starts with one, the rest are global. */
	if (kcb_preempt_rt())
		n = n >= 4 ? n * 2 : n + 4;
	kcb_for_each_possible_cpu(cpu) {
		struct kcov_pcpu_pool *p = kcb_per_cpu_ptr(kcov_pcpu_pool, cpu);
		uint64_t *area = kcb_area_alloc(KCOV_IRQ_AREA_SIZE, &ps.areas);

		if (!area)
			return -ENOMEM;
		memset(p, 0, sizeof(*p));
		kcb_local_lock_init_pcpu(kcov_pcpu_pool, lock, cpu);
		kcb_lock_name(&p->lock, "kcov_pcpu_pool.lock");
		lnx_area_put(&p->areas[1], area, KCOV_IRQ_AREA_SIZE);
		p->n[1] = 1;
		n--;
	}
	while (n-- > 0) {
		uint64_t *area = kcb_area_alloc(KCOV_IRQ_AREA_SIZE, &ps.areas);

		if (!area)
			return -ENOMEM;
		kcb_spin_lock_irqsave(&kcov_pool_lock, f);
		lnx_area_put(&kcov_global_areas[1], area, KCOV_IRQ_AREA_SIZE);
		kcb_spin_unlock_irqrestore(&kcov_pool_lock, f);
	}
	return 0;
}

static void pr_fini(struct kcb_remote_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	kcb_for_each_possible_cpu(cpu) {
		struct kcov_pcpu_pool *p = kcb_per_cpu_ptr(kcov_pcpu_pool, cpu);

		st->areas_free += lnx_area_drain(&p->areas[0]) + lnx_area_drain(&p->areas[1]);
		p->n[0] = p->n[1] = 0;
	}
	st->areas_free += lnx_area_drain(&kcov_global_areas[0]) +
	    lnx_area_drain(&kcov_global_areas[1]);
	lnx_pool_report(st, &ps);
}

const struct kcb_remote_ops kcb_remote_pertask_pcpu_rcu = {
	.name = "pertask-pcpu-rcu",
	.origin = "patch to Linux kernel/kcov.c + v4: per-CPU area pools, RCU "
	    "handle lookup, kcov->lock with irqsave in stop",
	.config = "linux",
	.lookup = "rcu-hash16",
	.proposal = 1,
	.softirq = 1,
	.init = pr_init,
	.fini = pr_fini,
	.enable = pr_enable,
	.disable = pr_disable,
	.start = pr_start,
	.stop = pr_stop,
	.loop = pr_loop,
};
