/* SPDX-License-Identifier: MIT */
/*
 * remote "linux-percpu": Linux kernel/kcov.c before the v4 patch (v6.1 ..
 * v6.18), kcov_remote_start()/kcov_remote_stop(), kcov_remote_softirq_
 * start/stop(), kcov_init().
 *
 * Per-CPU kcov_percpu_data {irq_area, local_lock, saved_*}.  Both calls run
 * under local_lock_irqsave (irqs off on !RT; a per-CPU sleeping lock on RT).
 * Task context: an area of kcov->remote_size from one free list under
 * kcov_remote_lock, vmalloc()ed with both locks dropped if none fits.
 * Softirq: the interrupted task's kcov state is saved in the per-CPU slot
 * and the per-CPU irq_area is used.  Stop moves the area into the owner's
 * buffer under kcov->lock if the sequence still matches.
 * Lookup: 16-bucket hash under kcov_remote_lock.  Hooks: `linux`.
 */
#include "remote_linux.h"

struct kcov_percpu_data {
	uint64_t		*irq_area;	/* [I] */
	kcb_local_lock_t	 lock;
	unsigned int		 saved_mode;	/* [c] under lock */
	unsigned int		 saved_size;	/* [c] */
	uint64_t		*saved_area;	/* [c] */
	struct kcb_dev		*saved_kcov;	/* [c] */
	int			 saved_sequence; /* [c] */
};

static KCB_DEFINE_PER_CPU(struct kcov_percpu_data, kcov_percpu_data);
static KCB_DEFINE_SPINLOCK(kcov_remote_lock);
static struct kcb_rhash kcov_remote_map;		/* [M] kcov_remote_lock */
static struct kcov_remote_area *kcov_remote_areas;	/* [M] kcov_remote_lock */
static struct lnx_pool_stats ps;

static void softirq_save(struct kcb_task *t)
{
	struct kcov_percpu_data *data = kcb_this_cpu_ptr(kcov_percpu_data);
	unsigned int mode = READ_ONCE(t->kcov_mode);

	barrier();
	if (kcov_mode_enabled(mode)) {
		data->saved_mode = mode;
		data->saved_size = t->kcov_size;
		data->saved_area = t->kcov_area;
		data->saved_sequence = t->kcov_sequence;
		data->saved_kcov = t->kcov;
		lnx_kcov_stop(t);
		kcb_preempt_point("kcov_remote_softirq_start: task state saved in the per-CPU slot");
	}
}

static void softirq_restore(struct kcb_task *t)
{
	struct kcov_percpu_data *data = kcb_this_cpu_ptr(kcov_percpu_data);

	kcb_preempt_point("kcov_remote_softirq_stop: restoring from the per-CPU slot");
	if (data->saved_kcov) {
		lnx_kcov_start(t, data->saved_kcov, data->saved_size,
		    data->saved_area, data->saved_mode, data->saved_sequence);
		data->saved_mode = 0;
		data->saved_size = 0;
		data->saved_area = NULL;
		data->saved_sequence = 0;
		data->saved_kcov = NULL;
	}
}

static int lp_start(uint64_t handle)
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
	/* Not twice in a background thread, not from a task with kcov on. */
	mode = READ_ONCE(t->kcov_mode);
	if (kcb_in_task() && kcov_mode_enabled(mode)) {
		kcb_fetch_add(&ps.warnings, 1);
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return 0;
	}
	/* A softirq that interrupted a softirq section: not supported. */
	if (kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);
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
	if (kcb_in_task()) {
		size = kcov->remote_size;
		area = lnx_area_get(&kcov_remote_areas, size, &ps);
	} else {
		size = KCOV_IRQ_AREA_SIZE;
		area = kcb_this_cpu_ptr(kcov_percpu_data)->irq_area;
		kcb_area_mark(area, &ps.double_use);
		kcb_preempt_point("kcov_remote_start: takes this CPU's irq_area");
	}
	kcb_spin_unlock(&kcov_remote_lock);
	/* Only in task context: allocate with the locks dropped. */
	if (!area) {
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		area = kcb_area_alloc(size, &ps.areas);
		if (!area) {
			lnx_kcov_put(kcov);
			return 0;
		}
		kcb_area_mark(area, &ps.double_use);
		kcb_local_lock_irqsave_pcpu(kcov_percpu_data, lock, flags);
	}
	WRITE_ONCE(area[0], 0);		/* reset coverage size */
	kcb_preempt_point("kcov_remote_start: area count reset to 0");
	if (kcb_in_serving_softirq()) {
		softirq_save(t);
		t->kcov_softirq = 1;
	}
	lnx_kcov_start(t, kcov, size, area, mode, sequence);
	kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
	return 1;
}

static void lp_stop(uint64_t handle)
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
	if (!kcov_mode_enabled(mode)) {
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return;
	}
	/* A softirq that found no handle: the task's own kcov is on. */
	if (kcb_in_serving_softirq() && !t->kcov_softirq) {
		kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
		return;
	}
	if (!kcb_in_serving_softirq() && t->kcov_softirq) {
		kcb_fetch_add(&ps.warnings, 1);
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
		softirq_restore(t);
	}
	kcb_spin_lock(&kcov->lock);
	if (sequence == kcov->sequence && kcov->remote)
		lnx_move_area(kcov, area);
	kcb_spin_unlock(&kcov->lock);
	if (kcb_in_task()) {
		kcb_spin_lock(&kcov_remote_lock);
		lnx_area_put(&kcov_remote_areas, area, size);
		kcb_spin_unlock(&kcov_remote_lock);
	} else {
		kcb_area_unmark(area);
	}
	kcb_local_unlock_irqrestore_pcpu(kcov_percpu_data, lock, flags);
	lnx_kcov_put(kcov);
}

KCB_REMOTE_LOOP(lp_loop, lp_start, lp_stop, kcb_lnx__plain_count_first__trace_cmp8)

/* kcov_init(): an irq area for every possible CPU. */
static int lp_init(void)
{
	int cpu;

	memset(&ps, 0, sizeof(ps));
	kcov_remote_areas = NULL;
	memset(&kcov_remote_map, 0, sizeof(kcov_remote_map));
	kcb_spin_lock_init(&kcov_remote_lock);
	kcb_lock_name(&kcov_remote_lock, "kcov_remote_lock");
	kcb_for_each_possible_cpu(cpu) {
		struct kcov_percpu_data *d = kcb_per_cpu_ptr(kcov_percpu_data, cpu);

		memset(d, 0, sizeof(*d));
		kcb_local_lock_init_pcpu(kcov_percpu_data, lock, cpu);
		kcb_lock_name(&d->lock, "kcov_percpu_data.lock");
		d->irq_area = kcb_area_alloc(KCOV_IRQ_AREA_SIZE, &ps.areas);
		if (!d->irq_area)
			return -ENOMEM;
	}
	return 0;
}

static void lp_fini(struct kcb_remote_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	kcb_for_each_possible_cpu(cpu) {
		struct kcov_percpu_data *d = kcb_per_cpu_ptr(kcov_percpu_data, cpu);

		if (d->irq_area) {
			st->areas_free += !d->irq_area[-1];
			kcb_area_free(d->irq_area);
			d->irq_area = NULL;
		}
	}
	st->areas_free += lnx_area_drain(&kcov_remote_areas);
	lnx_pool_report(st, &ps);
}

LNX_REMOTE_ENABLE_DISABLE(lp)

const struct kcb_remote_ops kcb_remote_linux_percpu = {
	.name = "linux-percpu",
	.origin = "Linux kernel/kcov.c v6.1..v6.18 kcov_remote_start/stop (per-CPU kcov_percpu_data)",
	.config = "linux",
	.lookup = "linux-hash16",
	.softirq = 1,
	.init = lp_init,
	.fini = lp_fini,
	.enable = lp_enable,
	.disable = lp_disable,
	.start = lp_start,
	.stop = lp_stop,
	.loop = lp_loop,
};
