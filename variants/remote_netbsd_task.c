/* SPDX-License-Identifier: MIT */
/*
 * remote "netbsd-task": NetBSD sys/kern/subr_kcov.c rev 1.17,
 * kcov_remote_enter()/kcov_remote_leave().
 *
 * Remotes are registered once and never freed; each one's list entry is
 * added at the head (LIST_INSERT_HEAD) and scanned without a lock.  Enter
 * finds the remote, counts itself in kr->refcount with an atomic increment
 * (KASSERT(refs == 1): one section at a time), and points curlwp->l_kcov at
 * the remote's descriptor if it is enabled; leave finds the remote again,
 * decrements, and clears l_kcov.  There is no interrupt check in enter or
 * leave (the hooks refuse interrupt context themselves).  The hooks
 * (`netbsd`, plain store-first claim) write one buffer, so one section at
 * a time (max_writers = 1).
 *
 * Checked against the 1.17 text (2022/07/06 riastradh).  One difference,
 * outside the measured path: upstream's remote owns its buffer for ever and
 * disable only clears `enabled`; here the buffer is the owner's, which the
 * twin frees, so close also waits for kr->refcount to drain.  A would-be
 * panic or KASSERT is counted (stats.warnings) and the twins fail on it.
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

	kr = rlist_find(&kcov_remote_list, handle);
	if (unlikely(kr == NULL)) {		/* panic("unable to find kr") */
		kcb_fetch_add(&warnings, 1);
		return 0;
	}
	if (kcb_fetch_add(&kr->refcount, 1) + 1 != 1)	/* KASSERT(refs == 1) */
		kcb_fetch_add(&warnings, 1);
	if (l->kd != NULL)			/* KASSERT(l->l_kcov == NULL) */
		kcb_fetch_add(&warnings, 1);
	kd = READ_ONCE(kr->kd);
	if (kd == NULL || !READ_ONCE(kd->enabled))
		return 0;
	l->kd = kd;
	return 1;
}

static void nb_leave(uint64_t handle)
{
	struct kcb_task *l = kcb_current();
	struct kcb_remote *kr;

	kr = rlist_find(&kcov_remote_list, handle);
	if (unlikely(kr == NULL)) {		/* panic("unable to find kr") */
		kcb_fetch_add(&warnings, 1);
		return;
	}
	if (kcb_fetch_add(&kr->refcount, (uint64_t)-1) - 1 != 0) /* KASSERT(refs == 0) */
		kcb_fetch_add(&warnings, 1);
	l->kd = NULL;
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
		rlist_insert_head(&kcov_remote_list, fresh);
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

/* Close: kcov_remote_disable() clears `enabled`; then (ours only, see the
 * header) detach and wait until no section counts itself in the remote. */
static void nb_disable(struct kcb_dev *kd)
{
	struct kcb_remote *kr = kd->kr;

	WRITE_ONCE(kd->enabled, 0);
	if (kr) {
		(void)kcb_xchg(&kr->kd, NULL);	/* full barrier before the count */
		while (READ_ONCE(kr->refcount))
			kcb_wait_a_while();
	}
	kd->kr = NULL;
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
