/* SPDX-License-Identifier: MIT */
/*
 * remote_linux.h - what Linux kernel/kcov.c's remote sections share before
 * and after the v4 patch ("kcov: move kcov_remote_data to task_struct and
 * remove local_lock", May 2026): kcov_start()/kcov_stop(), kcov_get/put,
 * kcov_move_area(), the free-area list (struct kcov_remote_area overlays
 * a free area's first words), KCOV_REMOTE_ENABLE and disable.
 * Included by remote_linux_percpu.c, remote_linux_pertask_v4.c and
 * remote_linux_pertask_locallock.c (the fix as merged, 2eed77fdcb0c), each
 * with its own globals.
 *
 * Mainline 7.2's "kcov: allow simultaneous KCOV_ENABLE/KCOV_REMOTE_ENABLE"
 * (Jann Horn, posted 5 May 2026) splits task_struct::kcov into kcov and
 * kcov_remote.  Per its commit message, the task that generates coverage
 * keeps using kcov_mode, kcov_size, kcov_area, kcov, kcov_sequence and
 * kcov_softirq, and only the requesting task uses kcov_remote and
 * kcov_handle (KCOV_REMOTE_ENABLE, kcov_common_handle(), kcov_task_exit()).
 * The hooks and kcov_remote_start()/stop() read only the first set, so the
 * split changes no traced path and no section here; not modelled (from the
 * mail's description, not its diff).
 */
#ifndef KCB_REMOTE_LINUX_H
#define KCB_REMOTE_LINUX_H

#include "remote.h"
#include "claim_plain_count_first.h"

/* The hooks of the `linux` configuration. */
void kcb_lnx__plain_count_first__trace_cmp8(uint64_t, uint64_t);

#define KCOV_IRQ_AREA_SIZE	KCB_IRQ_AREA_WORDS

/* A free area: list node and size stored in the area itself. */
struct kcov_remote_area {
	struct kcov_remote_area	*next;
	unsigned int		 size;
};

/* Counters of one variant's pool (for the checks). */
struct lnx_pool_stats {
	uint64_t areas;		/* [a] */
	uint64_t double_use;	/* under kcov_remote_lock or per CPU */
	uint64_t no_area;	/* [a] */
	uint64_t warnings;	/* [a] */
};

static __always_inline bool kcov_mode_enabled(unsigned int mode)
{
	return (mode & ~KCB_MODE_IN_CTXSW) != KCB_MODE_NONE;
}

static __always_inline void lnx_kcov_start(struct kcb_task *t, struct kcb_dev *kcov,
    unsigned int size, uint64_t *area, unsigned int mode, int sequence)
{
	t->kcov = kcov;
	t->kcov_size = size;
	t->kcov_nmemb = size - 1;
	t->kcov_area = area;
	t->kcov_sequence = sequence;
	barrier();		/* the hook reads mode first */
	WRITE_ONCE(t->kcov_mode, mode);
}

static __always_inline void lnx_kcov_stop(struct kcb_task *t)
{
	WRITE_ONCE(t->kcov_mode, KCB_MODE_NONE);
	barrier();
	t->kcov = NULL;
	t->kcov_size = 0;
	t->kcov_nmemb = 0;
	t->kcov_area = NULL;
}

static __always_inline void lnx_kcov_get(struct kcb_dev *kcov)
{
	kcb_fetch_add(&kcov->refcount, 1);
}

/* The last put frees the kcov upstream; here the owner's disable waits
 * for it. */
static __always_inline void lnx_kcov_put(struct kcb_dev *kcov)
{
	kcb_fetch_add(&kcov->refcount, (uint64_t)-1);
}

/*
 * kcov_remote_softirq_start/stop() since the v4 patch, and as merged
 * (2eed77fdcb0c, mainline 7.3 and stable): the interrupted
 * task's state is saved in the task itself (kcov_saved_*), so a softirq
 * section preempted on PREEMPT_RT cannot hand it to another task.
 */
static inline void lnx_task_softirq_save(struct kcb_task *t)
{
	unsigned int mode = READ_ONCE(t->kcov_mode);

	barrier();
	if (kcov_mode_enabled(mode)) {
		t->kcov_saved_mode = mode;
		t->kcov_saved_size = t->kcov_size;
		t->kcov_saved_area = t->kcov_area;
		t->kcov_saved_sequence = t->kcov_sequence;
		t->kcov_saved_kcov = t->kcov;
		lnx_kcov_stop(t);
		kcb_preempt_point("kcov_remote_softirq_start: task state saved in the task");
	}
}

static inline void lnx_task_softirq_restore(struct kcb_task *t)
{
	kcb_preempt_point("kcov_remote_softirq_stop: restoring from the task");
	if (t->kcov_saved_kcov) {
		lnx_kcov_start(t, t->kcov_saved_kcov, t->kcov_saved_size,
		    t->kcov_saved_area, t->kcov_saved_mode,
		    t->kcov_saved_sequence);
		t->kcov_saved_mode = 0;
		t->kcov_saved_size = 0;
		t->kcov_saved_area = NULL;
		t->kcov_saved_sequence = 0;
		t->kcov_saved_kcov = NULL;
	}
}

/* kcov_move_area(): append what fits in the owner's buffer, under
 * kcov->lock; the rest is counted in owner->lost. */
static __always_inline void lnx_move_area(struct kcb_dev *kcov, const uint64_t *area)
{
	struct kcb_sink d = kcb_sink_of(kcov);

	if (kcov->mode == KCB_MODE_TRACE_CMP)
		claim_plain_count_first_copy(d, kcov, area, KCB_STRIDE_CMP);
	else
		claim_plain_count_first_copy(d, kcov, area, KCB_STRIDE_PC);
}

/* kcov_remote_area_get(): first area of this size on the list. */
static __always_inline uint64_t *lnx_area_get(struct kcov_remote_area **list,
    unsigned int size, struct lnx_pool_stats *ps)
{
	struct kcov_remote_area **pp, *a;

	for (pp = list; (a = *pp) != NULL; pp = &a->next) {
		if (a->size == size) {
			*pp = a->next;
			kcb_area_mark((uint64_t *)a, &ps->double_use);
			return (uint64_t *)a;
		}
	}
	return NULL;
}

static __always_inline void lnx_area_put(struct kcov_remote_area **list,
    uint64_t *area, unsigned int size)
{
	struct kcov_remote_area *a = (struct kcov_remote_area *)area;

	kcb_area_unmark(area);
	a->size = size;
	a->next = *list;
	*list = a;
}

/* Count and free a list at fini. */
static inline uint64_t lnx_area_drain(struct kcov_remote_area **list)
{
	uint64_t n = 0;

	while (*list) {
		struct kcov_remote_area *a = *list;

		*list = a->next;
		kcb_area_free((uint64_t *)a);
		n++;
	}
	return n;
}

/*
 * KCOV_REMOTE_ENABLE for one handle: under kcov->lock (the ioctl takes it
 * with irqs off), kcov_remote_add() under kcov_remote_lock.
 */
static inline int lnx_remote_enable(kcb_spinlock_t *remote_lock, struct kcb_rhash *map,
    struct kcb_dev *kcov, uint64_t handle, uint64_t area_words)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;
	int err = 0;

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
	kcov->remote = 1;
	kcov->remote_size = (unsigned int)area_words;
	kcb_spin_lock(remote_lock);
	if (rhash_find(map, handle))
		err = -EEXIST;
	else
		rhash_add(map, r);
	kcb_spin_unlock(remote_lock);
	kcb_spin_unlock_irqrestore(&kcov->lock, f);
	if (err)
		kcb_free(r);
	return err;
}

/*
 * Disable and close: kcov_remote_reset() drops the handles, kcov_reset()
 * bumps the sequence so that sections in flight move nothing, and the
 * file's reference goes.  Upstream the last kcov_put() frees the kcov;
 * here the owner waits for it.
 */
static inline void lnx_remote_disable(kcb_spinlock_t *remote_lock, struct kcb_rhash *map,
    struct kcb_dev *kcov)
{
	struct kcb_remote *gone = NULL, *r, *next;
	kcb_irqflags_t f;
	unsigned int b;

	kcb_spin_lock_irqsave(&kcov->lock, f);
	kcb_spin_lock(remote_lock);
	for (b = 0; b < KCB_HASH_SIZE; b++) {
		for (r = map->bucket[b]; r; r = next) {
			next = r->next;
			if (r->kd != kcov)
				continue;
			rhash_del(map, r);
			r->next = gone;
			gone = r;
		}
	}
	kcb_spin_unlock(remote_lock);
	kcov->mode = KCB_MODE_NONE;
	kcov->remote = 0;
	kcov->sequence++;
	kcb_spin_unlock_irqrestore(&kcov->lock, f);
	for (r = gone; r; r = next) {
		next = r->next;
		kcb_free(r);
	}
	lnx_kcov_put(kcov);
	while (READ_ONCE(kcov->refcount))
		kcb_wait_a_while();
}

/* The pool counters both Linux designs report at fini. */
static inline void lnx_pool_report(struct kcb_remote_stats *st,
    const struct lnx_pool_stats *ps)
{
	st->areas = ps->areas;
	st->double_use = ps->double_use;
	st->no_area = ps->no_area;
	st->warnings = ps->warnings;
}

/*
 * KCOV_REMOTE_ENABLE and close are the same in both designs (the patch
 * left them alone): prefix_enable/prefix_disable on the including file's
 * kcov_remote_lock and kcov_remote_map.
 */
#define LNX_REMOTE_ENABLE_DISABLE(prefix)					\
static int prefix##_enable(struct kcb_dev *owner, uint64_t handle,		\
    uint64_t area_words)							\
{										\
	kcb_lock_name(&owner->lock, "kcov->lock");				\
	return lnx_remote_enable(&kcov_remote_lock, &kcov_remote_map, owner,	\
	    handle, area_words);						\
}										\
static void prefix##_disable(struct kcb_dev *owner)				\
{										\
	lnx_remote_disable(&kcov_remote_lock, &kcov_remote_map, owner);		\
}

#endif
