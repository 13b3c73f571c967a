/* SPDX-License-Identifier: MIT */
/*
 * remote "linux-pertask-v4": Linux kernel/kcov.c with the v4 patch "kcov:
 * move kcov_remote_data to task_struct and remove local_lock" (Tetsuo
 * Handa, May 2026; compile-tested only upstream).
 *
 * The interrupted task's state is saved in the task (kcov_saved_*); the
 * local_lock is gone.  Areas come from two free lists (normal, irq size)
 * under kcov_remote_lock taken with irqsave, in task and softirq alike;
 * softirq never allocates (no area: no section).  kcov_init() preallocates
 * num_possible_cpus() irq areas, on PREEMPT_RT cpus >= 4 ? 2 * cpus :
 * cpus + 4.  kcov_remote_stop() takes kcov->lock with a plain spin_lock,
 * irqs on.  Lookup: 16-bucket hash under kcov_remote_lock.  Hooks: `linux`.
 */
#include "remote_linux.h"

static KCB_DEFINE_SPINLOCK(kcov_remote_lock);
static struct kcb_rhash kcov_remote_map;		/* [M] kcov_remote_lock */
static struct kcov_remote_area *kcov_remote_areas[2];	/* [M] kcov_remote_lock */
static struct lnx_pool_stats ps;

static __always_inline struct kcov_remote_area **areas_for(unsigned int size)
{
	return &kcov_remote_areas[size == KCOV_IRQ_AREA_SIZE];
}

static int v4_start(uint64_t handle)
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
	mode = READ_ONCE(t->kcov_mode);
	if (kcb_in_task() && kcov_mode_enabled(mode)) {
		kcb_fetch_add(&ps.warnings, 1);
		return 0;
	}
	if (kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);
		return 0;
	}
	kcb_spin_lock_irqsave(&kcov_remote_lock, flags);
	remote = rhash_find(&kcov_remote_map, handle);
	if (!remote) {
		kcb_spin_unlock_irqrestore(&kcov_remote_lock, flags);
		return 0;
	}
	kcov = remote->kd;
	lnx_kcov_get(kcov);
	mode = kcov->mode;
	sequence = kcov->sequence;
	size = kcb_in_task() ? kcov->remote_size : KCOV_IRQ_AREA_SIZE;
	area = lnx_area_get(areas_for(size), size, &ps);
	kcb_spin_unlock_irqrestore(&kcov_remote_lock, flags);
	/* Allocate a new buffer if we can sleep. */
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
	WRITE_ONCE(area[0], 0);		/* reset coverage size */
	if (kcb_in_serving_softirq()) {
		lnx_task_softirq_save(t);
		t->kcov_softirq = 1;
	}
	lnx_kcov_start(t, kcov, size, area, mode, sequence);
	return 1;
}

static void v4_stop(uint64_t handle)
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
	if (!kcov_mode_enabled(mode))
		return;
	if (kcb_in_serving_softirq() && !t->kcov_softirq)
		return;
	if (!kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);
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
	/* Plain spin_lock, irqs on: the local_lock that disabled them is gone. */
	kcb_spin_lock(&kcov->lock);
	if (sequence == kcov->sequence && kcov->remote)
		lnx_move_area(kcov, area);
	kcb_spin_unlock(&kcov->lock);
	kcb_spin_lock_irqsave(&kcov_remote_lock, flags);
	lnx_area_put(areas_for(size), area, size);
	kcb_spin_unlock_irqrestore(&kcov_remote_lock, flags);
	lnx_kcov_put(kcov);
}

KCB_REMOTE_LOOP(v4_loop, v4_start, v4_stop, kcb_lnx__plain_count_first__trace_cmp8)

static int v4_init(void)
{
	int cpu = kcb_possible_cpus();
	kcb_irqflags_t flags;

	memset(&ps, 0, sizeof(ps));
	kcov_remote_areas[0] = kcov_remote_areas[1] = NULL;
	memset(&kcov_remote_map, 0, sizeof(kcov_remote_map));
	kcb_spin_lock_init(&kcov_remote_lock);
	kcb_lock_name(&kcov_remote_lock, "kcov_remote_lock");
	/* Extra areas: on RT a softirq section can be preempted by another. */
	if (kcb_preempt_rt())
		cpu = cpu >= 4 ? cpu * 2 : cpu + 4;
	while (cpu--) {
		uint64_t *area = kcb_area_alloc(KCOV_IRQ_AREA_SIZE, &ps.areas);

		if (!area)
			return -ENOMEM;
		kcb_spin_lock_irqsave(&kcov_remote_lock, flags);
		lnx_area_put(areas_for(KCOV_IRQ_AREA_SIZE), area, KCOV_IRQ_AREA_SIZE);
		kcb_spin_unlock_irqrestore(&kcov_remote_lock, flags);
	}
	return 0;
}

static void v4_fini(struct kcb_remote_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->areas_free = lnx_area_drain(&kcov_remote_areas[0]) +
	    lnx_area_drain(&kcov_remote_areas[1]);
	lnx_pool_report(st, &ps);
}

LNX_REMOTE_ENABLE_DISABLE(v4)

const struct kcb_remote_ops kcb_remote_linux_pertask_v4 = {
	.name = "linux-pertask-v4",
	.origin = "Linux kernel/kcov.c + [PATCH v4] kcov: move kcov_remote_data to task_struct, v4 (22 May 2026 mail)",
	.config = "linux",
	.lookup = "linux-hash16",
	.softirq = 1,
	.init = v4_init,
	.fini = v4_fini,
	.enable = v4_enable,
	.disable = v4_disable,
	.start = v4_start,
	.stop = v4_stop,
	.loop = v4_loop,
};
