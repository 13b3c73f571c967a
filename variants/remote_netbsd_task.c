/* SPDX-License-Identifier: MIT */
/*
 * remote "netbsd-task": NetBSD sys/kern/subr_kcov.c rev 1.17,
 * kcov_remote_enter()/kcov_remote_leave().
 *
 * Task context only (an interrupt never enters a section); remotes are
 * preallocated, registered once on a list that is scanned without a lock;
 * enter takes an atomic reference on the owner's descriptor and points
 * curlwp->l_kcov at it, leave drops it.  The hooks (`netbsd`, plain
 * store-first claim) write the owner's buffer directly, so one owner takes
 * one section at a time without losing records (max_writers = 1).
 *
 * Our reading of the facts we have (reference section 3): the reference
 * gives only "task context only; atomic refcount on enter/leave; unlocked
 * list of preallocated remotes".  Enter takes the reference before it
 * checks `enabled`, so that close, which clears `enabled` and then waits
 * for the count to drain, cannot miss a section.
 */
#include "remote.h"

void kcb_netbsd__plain_store_first__trace_cmp8(uint64_t, uint64_t);

static struct kcb_rlist kcov_remote_list;	/* [a] readers; writers below */
static KCB_DEFINE_SPINLOCK(reg_lock);		/* registration only */
static uint64_t warnings;			/* [a] */

static int nb_enter(uint64_t handle)
{
	struct kcb_task *l = kcb_current();
	struct kcb_remote *kr;
	struct kcb_dev *kd;

	if (kcb_curcpu()->nb_idepth >= 0) {	/* KASSERT(!cpu_intr_p()) */
		kcb_fetch_add(&warnings, 1);
		return 0;
	}
	kr = rlist_find(&kcov_remote_list, handle);
	if (kr == NULL)
		return 0;
	kd = READ_ONCE(kr->kd);
	if (kd == NULL)
		return 0;
	if (l->kd != NULL) {			/* KASSERT(l->l_kcov == NULL) */
		kcb_fetch_add(&warnings, 1);
		return 0;
	}
	kcb_fetch_add(&kd->refcount, 1);
	if (!READ_ONCE(kd->enabled)) {
		kcb_fetch_add(&kd->refcount, (uint64_t)-1);
		return 0;
	}
	l->kd = kd;
	return 1;
}

static void nb_leave(uint64_t handle)
{
	struct kcb_task *l = kcb_current();
	struct kcb_dev *kd = l->kd;

	(void)handle;
	if (kd == NULL)
		return;
	l->kd = NULL;
	kcb_fetch_add(&kd->refcount, (uint64_t)-1);
}

KCB_REMOTE_LOOP(nb_loop, nb_enter, nb_leave, kcb_netbsd__plain_store_first__trace_cmp8)

static int nb_init(void)
{
	warnings = 0;
	rlist_init(&kcov_remote_list);
	kcb_spin_lock_init(&reg_lock);
	return 0;
}

static void nb_fini(struct kcb_remote_stats *st)
{
	memset(st, 0, sizeof(*st));
	while (kcov_remote_list.head) {
		struct kcb_remote *kr = kcov_remote_list.head;

		rlist_remove(&kcov_remote_list, kr);
		kcb_free(kr);
	}
	st->warnings = warnings;
}

/* Register the remote if it is new (kcov_remote_register), attach kd. */
static int nb_enable(struct kcb_dev *kd, uint64_t handle, uint64_t area_words)
{
	struct kcb_remote *kr, *fresh = kcb_zalloc(sizeof(*fresh));
	int err = 0;

	(void)area_words;
	if (!fresh)
		return -ENOMEM;
	fresh->handle = handle;
	kcb_spin_lock(&reg_lock);
	kr = rlist_find(&kcov_remote_list, handle);
	if (kr == NULL) {
		rlist_insert_tail(&kcov_remote_list, fresh);
		kr = fresh;
		fresh = NULL;
	}
	if (READ_ONCE(kr->kd) != NULL) {
		err = -EBUSY;
	} else {
		kd->state = KCB_STATE_TRACE;
		WRITE_ONCE(kd->enabled, 1);
		kd->kr = kr;
		kcb_store_release(&kr->kd, kd);
	}
	kcb_spin_unlock(&reg_lock);
	kcb_free(fresh);
	return err;
}

/* Close: no new sections, then wait for the references to drain. */
static void nb_disable(struct kcb_dev *kd)
{
	struct kcb_remote *kr = kd->kr;

	kcb_xchg(&kd->enabled, 0);		/* a full barrier */
	if (kr)
		WRITE_ONCE(kr->kd, NULL);
	kd->kr = NULL;
	while (READ_ONCE(kd->refcount))
		kcb_wait_a_while();
	kd->state = KCB_STATE_READY;
}

const struct kcb_remote_ops kcb_remote_netbsd_task = {
	.name = "netbsd-task",
	.origin = "NetBSD sys/kern/subr_kcov.c rev 1.17 kcov_remote_enter/leave",
	.config = "netbsd",
	.lookup = "netbsd-list",
	.softirq = 0,
	.direct = 1,
	.max_writers = 1,
	.init = nb_init,
	.fini = nb_fini,
	.enable = nb_enable,
	.disable = nb_disable,
	.start = nb_enter,
	.stop = nb_leave,
	.loop = nb_loop,
};
