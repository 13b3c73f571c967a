/* SPDX-License-Identifier: MIT */
/*
 * remote "linux-pertask-locallock": Linux kernel/kcov.c's remote sections
 * as merged: "kcov: fix data corruption and race conditions on
 * PREEMPT_RT", mainline commit 2eed77fdcb0c (7.3 merge window, through
 * akpm's mm-nonmm-stable), in the stable series since late August 2026
 * (CVE-2026-80916).  Debian carries it: linux-source-6.12 6.12.118 (its
 * changelog lists the patch under upstream 6.12.106, Debian 6.12.107-1)
 * and linux-source-6.1 6.1.192 (under upstream 6.1.185): a configuration
 * built from either source (the coming `kernel-6.12`) runs this design,
 * not linux-percpu.
 *
 * How sure: the text read line by line is the stable backport in those
 * two Debian sources (kcov_remote_start, kcov_remote_stop,
 * kcov_remote_softirq_start/stop, kcov_remote_area_get/put, kcov_init;
 * 6.1.192's are identical to 6.12.118's).  The mainline text itself was
 * not readable here.  This replica was first written from the 2026 tree
 * github.com/yskzalloc/linux c6a7606ee965 (krzk/linux has the same
 * shape); compared with the backport line by line (2026-12), it matches
 * in every line modelled, so the label changed, not the code.  Mainline 7.3 differs from the
 * backport outside the section code: kcov_move_area() has smp_wmb()
 * between the copy and the count since 6.18 (c2fe368b6eb2; the backport
 * to 6.12 and 6.1 has none, nor does lnx_move_area() here), and 7.2 split
 * t->kcov_remote out of t->kcov (see below).
 *
 * What it copies: the interrupted task's state is saved in the task
 * (kcov_saved_*), and areas come from two free lists (task, irq) under
 * kcov_remote_lock, taken by kcov_remote_area_get(size, irq) with irq =
 * !in_task(); softirq never allocates; kcov_init() preallocates
 * num_possible_cpus() irq areas (on PREEMPT_RT cpus >= 4 ? 2 * cpus :
 * cpus + 4).  Unlike the seed's v4 (remote_linux_pertask_v4.c, kept as
 * the seed): both calls keep the per-CPU
 * local_lock_irqsave(&kcov_percpu_data.lock) of the pre-patch code around
 * the whole section bookkeeping, with plain spin_lock(&kcov_remote_lock)
 * and spin_lock(&kcov->lock) nested inside it, and the free list is chosen
 * by context, not by size.  On !RT the local lock disables interrupts, so
 * a softirq cannot land while kcov->lock is held in stop: the answer to
 * v4's review deadlock.  On RT it is a per-CPU sleeping lock; the saved
 * state is per task, so preemption inside a softirq section no longer
 * hands it to another task.  in_task() / in_softirq_really() gates as
 * before.  Not modelled: kcov_remote_start()'s
 * WARN_ON(!kcov_check_handle()) (every handle here is valid), the
 * kcov_debug() lines and kmsan_unpoison_memory(); the two WARN_ONs at the
 * top of kcov_remote_start() are one test here (same outcome: return,
 * counted in warnings); vmalloc() of a task area is kcb_area_alloc().
 *
 * Mainline 7.2's "kcov: allow simultaneous KCOV_ENABLE/KCOV_REMOTE_ENABLE"
 * (the t->kcov_remote field) moves the remote owner's descriptor out of
 * t->kcov.  It changes the ioctls and task exit only: check_kcov_mode(),
 * the hooks and both remote calls read the same fields as before, so no
 * replica here models it separately.
 * Lookup: 16-bucket hash under kcov_remote_lock.  Hooks: `linux`.
 */
#include "remote_linux.h"

struct kcov_percpu_data {
	kcb_local_lock_t	 lock;
};

static KCB_DEFINE_PER_CPU(struct kcov_percpu_data, kcov_percpu_data);
static KCB_DEFINE_SPINLOCK(kcov_remote_lock);
static struct kcb_rhash kcov_remote_map;		/* [M] kcov_remote_lock */
static struct kcov_remote_area *kcov_remote_areas[2];	/* [M] kcov_remote_lock */
static struct lnx_pool_stats ps;

static int ll_start(uint64_t handle)
{
	struct kcb_task *t = kcb_current();
	struct kcb_remote *remote;
	struct kcb_dev *kcov;
	unsigned int mode, size;
	uint64_t *area;
	kcb_irqflags_t flags;
	int sequence;

	if (!kcb_in_task() && !kcb_in_softirq_really())
		return 0;
	kcb_local_lock_irqsave_pcpu(kcov_percpu_data, lock, flags);
	mode = READ_ONCE(t->kcov_mode);
	if ((kcb_in_task() && kcov_mode_enabled(mode)) ||
	    (kcb_in_serving_softirq() && t->kcov_softirq)) {
		kcb_fetch_add(&ps.warnings, 1);		/* WARN_ON */
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return 0;
	}
	kcb_spin_lock(&kcov_remote_lock);
	remote = rhash_find(&kcov_remote_map, handle);
	if (!remote) {
		kcb_spin_unlock(&kcov_remote_lock);
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return 0;
	}
	kcov = remote->kd;
	lnx_kcov_get(kcov);
	mode = kcov->mode;
	sequence = kcov->sequence;
	size = kcb_in_task() ? kcov->remote_size : KCOV_IRQ_AREA_SIZE;
	area = lnx_area_get(&kcov_remote_areas[!kcb_in_task()], size, &ps);
	kcb_spin_unlock(&kcov_remote_lock);
	if (!area) {
		/* Allocate with the local lock dropped, if we can sleep. */
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		area = kcb_in_task() ? kcb_area_alloc(size, &ps.areas) : NULL;
		if (!area) {
			if (!kcb_in_task())
				kcb_fetch_add(&ps.no_area, 1);
			lnx_kcov_put(kcov);
			return 0;
		}
		kcb_area_mark(area, &ps.double_use);
		kcb_local_lock_irqsave_pcpu(kcov_percpu_data, lock, flags);
	}
	WRITE_ONCE(area[0], 0);
	if (kcb_in_serving_softirq()) {
		lnx_task_softirq_save(t);
		t->kcov_softirq = 1;
	}
	lnx_kcov_start(t, kcov, size, area, mode, sequence);
	kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
	return 1;
}

static void ll_stop(uint64_t handle)
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
	kcb_local_lock_irqsave_pcpu(kcov_percpu_data, lock, flags);
	mode = READ_ONCE(t->kcov_mode);
	barrier();
	if (!kcov_mode_enabled(mode) || (kcb_in_serving_softirq() && !t->kcov_softirq)) {
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return;
	}
	if (!kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);		/* WARN_ON */
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
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
	kcb_spin_lock(&kcov->lock);
	if (sequence == kcov->sequence && kcov->remote)
		lnx_move_area(kcov, area);
	kcb_spin_unlock(&kcov->lock);
	kcb_spin_lock(&kcov_remote_lock);
	lnx_area_put(&kcov_remote_areas[!kcb_in_task()], area, size);
	kcb_spin_unlock(&kcov_remote_lock);
	kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
	lnx_kcov_put(kcov);
}

KCB_REMOTE_LOOP(ll_loop, ll_start, ll_stop, kcb_lnx__plain_count_first__trace_cmp8)

static int ll_init(void)
{
	int cpu, n = kcb_possible_cpus();
	kcb_irqflags_t flags;

	memset(&ps, 0, sizeof(ps));
	kcov_remote_areas[0] = kcov_remote_areas[1] = NULL;
	memset(&kcov_remote_map, 0, sizeof(kcov_remote_map));
	kcb_spin_lock_init(&kcov_remote_lock);
	kcb_lock_name(&kcov_remote_lock, "kcov_remote_lock");
	kcb_for_each_possible_cpu(cpu) {
		kcb_local_lock_init_pcpu(kcov_percpu_data, lock, cpu);
		kcb_lock_name(&kcb_per_cpu_ptr(kcov_percpu_data, cpu)->lock,
		    "kcov_percpu_data.lock");
	}
	/* Extra areas: on RT a softirq section can be preempted by another. */
	if (kcb_preempt_rt())
		n = n >= 4 ? n * 2 : n + 4;
	while (n--) {
		uint64_t *area = kcb_area_alloc(KCOV_IRQ_AREA_SIZE, &ps.areas);

		if (!area)
			return -ENOMEM;
		kcb_spin_lock_irqsave(&kcov_remote_lock, flags);
		lnx_area_put(&kcov_remote_areas[1], area, KCOV_IRQ_AREA_SIZE);
		kcb_spin_unlock_irqrestore(&kcov_remote_lock, flags);
	}
	return 0;
}

static void ll_fini(struct kcb_remote_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->areas_free = lnx_area_drain(&kcov_remote_areas[0]) +
	    lnx_area_drain(&kcov_remote_areas[1]);
	lnx_pool_report(st, &ps);
}

LNX_REMOTE_ENABLE_DISABLE(ll)

const struct kcb_remote_ops kcb_remote_linux_pertask_locallock = {
	.name = "linux-pertask-locallock",
	.origin = "Linux kernel/kcov.c, mainline 7.3 and stable: 2eed77fdcb0c "
	    "\"kcov: fix data corruption and race conditions on PREEMPT_RT\" "
	    "(per-task saved state, local_lock kept, spin_lock nested); "
	    "in Debian's linux-source-6.12 6.12.118 and -6.1 6.1.192",
	.config = "linux",
	.lookup = "linux-hash16",
	.softirq = 1,
	.init = ll_init,
	.fini = ll_fini,
	.enable = ll_enable,
	.disable = ll_disable,
	.start = ll_start,
	.stop = ll_stop,
	.loop = ll_loop,
};
