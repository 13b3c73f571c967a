/* SPDX-License-Identifier: MIT */
/*
 * remote "obsd-kcov-cpu": OpenBSD sys/dev/kcov.c rev 1.49,
 * kcov_remote_enter()/kcov_remote_leave(), kd_copy(), kr_barrier(),
 * kcov_remote_register_locked()/attach, kr_free(), kd_curcpu().
 *
 * Everything under kcov_mtx, a spinning mutex at IPL_MPFLOOR (interrupts
 * are blocked while it is held: here spin_lock_irqsave).  The remote is
 * found by a list scan.  Task context: p_kd points at the owner's
 * descriptor and the hooks claim its slots with CAS.  Interrupt context:
 * the CPU's kcov_cpu (found by scanning kc_list for cpu_number()) takes
 * the records, the interrupted proc's p_kd is saved in kc_kd_save; on
 * leave p_kd is restored first, then kd_copy() claims all n records of the
 * owner's buffer with one CAS and copies them (all or nothing).
 * kr_nsections counts sections; the section that brings it to zero calls
 * wakeup(kr) (the global SCHED_LOCK and a sleep-queue walk); close sleeps
 * in kr_barrier() until none.  A would-be KASSERT is counted and the twins
 * fail on it; the code then goes on as a kernel without DIAGNOSTIC does.
 * One is upstream's own race, reproduced here and reported by the twin
 * rather than failed: KIODISABLE sets kd_mode to NONE before kr_barrier()
 * waits, so a softclock section that leaves in between reaches kd_copy()
 * with mismatched modes (a GENERIC kernel, built with DIAGNOSTIC, panics).
 * Hooks: `openbsd-1.49`; remote_obsd_owner_plain.c builds the same
 * design with the owner-plain proposal's hooks (OB_* below).
 */
#include "remote.h"
#include "claim_cas.h"

#ifndef OB_ID
#define OB_ID		obsd_kcov_cpu
#define OB_NAME		"obsd-kcov-cpu"
#define OB_ORIGIN	"OpenBSD sys/dev/kcov.c rev 1.49 kcov_remote_enter/leave, kd_copy, kr_barrier"
#define OB_CONFIG	"openbsd-1.49"
#define OB_HOOK		kcb_obsd_149__cas__trace_cmp8
#define OB_PROPOSAL	0
#endif
#define OB_CAT_(a, b)	a##b
#define OB_CAT(a, b)	OB_CAT_(a, b)
/* the measured loop is global: one name per design built from this file */
#define ob_loop		OB_CAT(ob_loop_, OB_ID)

void OB_HOOK(uint64_t, uint64_t);

struct kcov_cpu {
	struct kcb_dev		 kc_kd;
	struct kcb_dev		*kc_kd_save;	/* [M] previous kcov_dev */
	int			 kc_cpuid;	/* [I] cpu number */
	struct kcov_cpu		*kc_next;	/* [I] kc_list */
};

static KCB_DEFINE_SPINLOCK(kcov_mtx);
static struct kcb_rlist kr_list;		/* [M] */
static struct kcov_cpu *kc_list;		/* [I] */
static struct kcov_cpu *kc_array;		/* [I] */
static int kc_count;				/* [I] */
static uint64_t warnings;			/* [a] KASSERTs that would fire */
static uint64_t close_races;			/* [a] of those, in kd_copy() after
						 *     KIODISABLE cleared kd_mode */

/*
 * wakeup(9) -> wakeup_n(): SCHED_LOCK(), then walk the sleep queue bucket
 * of the wait channel, waking every proc asleep on it.  Leave calls it at
 * the end of almost every section (kr_nsections drops to 0), so its global
 * lock is part of a section's cost.  Our sleep queue holds kr_barrier()'s
 * waiter; the bucket is usually empty, as upstream's is.  [S]: under
 * sched_lock.
 */
#define SLPQUE_BUCKETS	128		/* TABLESIZE in kern_synch.c */
struct sleeper {
	const void		*wchan;		/* [S] */
	int			 woken;		/* [S] */
	struct sleeper		*next;		/* [S] */
};
static KCB_DEFINE_SPINLOCK(sched_lock);
static struct sleeper *slpque[SLPQUE_BUCKETS];	/* [S] sched_lock */

static __always_inline unsigned int slpque_lookup(const void *ident)
{
	return ((uintptr_t)ident >> 8) & (SLPQUE_BUCKETS - 1);
}

static void wakeup(const void *ident)
{
	struct sleeper *s;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&sched_lock, f);	/* SCHED_LOCK(): splsched */
	for (s = slpque[slpque_lookup(ident)]; s; s = s->next)
		if (s->wchan == ident)
			s->woken = 1;
	kcb_spin_unlock_irqrestore(&sched_lock, f);
}

static void sleeper_add(struct sleeper *me, const void *ident)
{
	kcb_irqflags_t f;

	me->wchan = ident;
	me->woken = 0;
	kcb_spin_lock_irqsave(&sched_lock, f);
	me->next = slpque[slpque_lookup(ident)];
	slpque[slpque_lookup(ident)] = me;
	kcb_spin_unlock_irqrestore(&sched_lock, f);
}

static void sleeper_del(struct sleeper *me)
{
	struct sleeper **pp;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&sched_lock, f);
	for (pp = &slpque[slpque_lookup(me->wchan)]; *pp; pp = &(*pp)->next)
		if (*pp == me) {
			*pp = me->next;
			break;
		}
	kcb_spin_unlock_irqrestore(&sched_lock, f);
}

#define mtx_enter(f)	kcb_spin_lock_irqsave(&kcov_mtx, f)
#define mtx_leave(f)	kcb_spin_unlock_irqrestore(&kcov_mtx, f)

static __always_inline int inintr(struct kcb_cpu *ci)
{
	return ci->idepth > 0;
}

static struct kcov_cpu *kd_curcpu(void)
{
	struct kcov_cpu *kc;
	int cpuid = kcb_smp_processor_id();

	for (kc = kc_list; kc; kc = kc->kc_next)
		if (kc->kc_cpuid == cpuid)
			return kc;
	return NULL;
}

/* kd_copy(): one claim of all src records, or none (counted lost). */
static void kd_copy(struct kcb_dev *dst, struct kcb_dev *src)
{
	struct kcb_sink d = kcb_sink_of(dst);
	int stride;

	if (dst->mode != src->mode) {		/* KASSERT: counted, then */
		kcb_fetch_add(&warnings, 1);	/* copied, as without DIAGNOSTIC */
		if (dst->mode == KCB_MODE_NONE)
			kcb_fetch_add(&close_races, 1);
	}
	stride = src->mode == KCB_MODE_TRACE_CMP ? KCB_STRIDE_CMP : KCB_STRIDE_PC;
	if (stride == KCB_STRIDE_CMP)
		claim_cas_copy(d, dst, src->buf, KCB_STRIDE_CMP);
	else
		claim_cas_copy(d, dst, src->buf, KCB_STRIDE_PC);
}

static int ob_enter(uint64_t handle)
{
	struct kcb_cpu *ci;
	struct kcov_cpu *kc;
	struct kcb_dev *kd;
	struct kcb_remote *kr;
	struct kcb_task *p;
	kcb_irqflags_t f;
	int opened = 0;

	mtx_enter(f);
	kr = rlist_find(&kr_list, handle);
	if (kr == NULL || kr->state != KCB_STATE_READY)
		goto out;
	kd = kr->kd;
	if (kd == NULL || kd->state != KCB_STATE_TRACE)
		goto out;
	ci = kcb_curcpu();
	p = ci->curtask;
	if (inintr(ci)) {
		kc = kd_curcpu();
		if (kc == NULL || kc->kc_kd.intr == 1)
			goto out;
		kc->kc_kd.state = KCB_STATE_TRACE;
		kc->kc_kd.mode = kd->mode;
		kc->kc_kd.intr = 1;
		kc->kc_kd_save = p->kd;
		kd = &kc->kc_kd;
		WRITE_ONCE(kd->buf[0], 0);	/* reset coverage buffer */
		kcb_preempt_point("kcov_remote_enter: p_kd saved in kc_kd_save");
	} else if (p->kd != NULL) {		/* KASSERT(p->p_kd == NULL) */
		kcb_fetch_add(&warnings, 1);	/* counted; upstream goes on */
	}
	kr->nsections++;
	WRITE_ONCE(p->kd, kd);
	opened = 1;
out:
	mtx_leave(f);
	return opened;
}

static void ob_leave(uint64_t handle)
{
	struct kcb_cpu *ci;
	struct kcov_cpu *kc;
	struct kcb_remote *kr;
	struct kcb_task *p;
	kcb_irqflags_t f;

	mtx_enter(f);
	ci = kcb_curcpu();
	p = ci->curtask;
	if (p->kd == NULL)
		goto out;
	kr = rlist_find(&kr_list, handle);
	if (kr == NULL)
		goto out;
	if (inintr(ci)) {
		kc = kd_curcpu();
		if (kc == NULL || kc->kc_kd.intr == 0)
			goto out;
		/* Stop writing to the CPU's buffer before copying it. */
		WRITE_ONCE(p->kd, kc->kc_kd_save);
		kc->kc_kd_save = NULL;
		kd_copy(kr->kd, &kc->kc_kd);
		kc->kc_kd.state = KCB_STATE_READY;
		kc->kc_kd.mode = KCB_MODE_NONE;
		kc->kc_kd.intr = 0;
	} else {
		if (p->kd != kr->kd)		/* KASSERT */
			kcb_fetch_add(&warnings, 1);
		WRITE_ONCE(p->kd, NULL);
	}
	if (--kr->nsections == 0)
		wakeup(kr);
out:
	mtx_leave(f);
}

KCB_REMOTE_LOOP(ob_loop, ob_enter, ob_leave, OB_HOOK)

/* kr_barrier(): msleep on kcov_mtx until no section is in flight. */
static void kr_barrier(struct kcb_remote *kr, kcb_irqflags_t *f)
{
	struct sleeper me;

	while (kr->nsections > 0) {
		sleeper_add(&me, kr);		/* msleep_nsec(kr, &kcov_mtx) */
		mtx_leave(*f);
		kcb_wait_a_while();
		mtx_enter(*f);
		sleeper_del(&me);
	}
}

/* kcovattach(): a kcov_cpu with a full buffer for every CPU. */
static int ob_init(void)
{
	int i, n = kcb_possible_cpus();

	warnings = close_races = 0;
	memset(slpque, 0, sizeof(slpque));
	kcb_spin_lock_init(&sched_lock);
	kcb_lock_name(&sched_lock, "sched_lock");
	rlist_init(&kr_list);
	kcb_spin_lock_init(&kcov_mtx);
	kcb_lock_name(&kcov_mtx, "kcov_mtx");
	kc_array = kcb_zalloc(n * sizeof(*kc_array));
	if (!kc_array)
		return -ENOMEM;
	kc_count = n;
	kc_list = NULL;
	for (i = n - 1; i >= 0; i--) {
		kc_array[i].kc_cpuid = i;
		if (kcb_dev_init(&kc_array[i].kc_kd, KCB_IRQ_AREA_WORDS))
			return -ENOMEM;
		kc_array[i].kc_next = kc_list;
		kc_list = &kc_array[i];
	}
	return 0;
}

static void ob_fini(struct kcb_remote_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; kc_array && i < kc_count; i++) {
		st->areas++;
		st->areas_free += kc_array[i].kc_kd.intr == 0;
		kcb_dev_fini(&kc_array[i].kc_kd);
	}
	kcb_free(kc_array);
	kc_array = NULL;
	kc_list = NULL;
	while (kr_list.head) {
		struct kcb_remote *kr = kr_list.head;

		rlist_remove(&kr_list, kr);
		kcb_free(kr);
	}
	st->warnings = warnings;
	st->close_races = close_races;
	st->close_race = "KIODISABLE clears kd_mode, then kr_barrier() sleeps; a softclock "
	    "section leaving meanwhile trips kd_copy()'s KASSERT(dst->kd_mode == src->kd_mode)";
}

/* KIOREMOTEATTACH (kcov_remote_register_locked + attach), then KIOENABLE. */
static int ob_enable(struct kcb_dev *kd, uint64_t handle, uint64_t area_words)
{
	struct kcb_remote *kr, *tmp;
	kcb_irqflags_t f;
	int err = 0;

	(void)area_words;
	kr = kcb_zalloc(sizeof(*kr));		/* pool_get(PR_WAITOK) */
	if (!kr)
		return -ENOMEM;
	kr->handle = handle;
	kr->state = KCB_STATE_NONE;
	mtx_enter(f);
	if (kd->state != KCB_STATE_READY) {
		err = -ENXIO;
		goto out;
	}
	for (;;) {
		tmp = rlist_find(&kr_list, handle);
		if (tmp == NULL)
			break;
		if (tmp->state != KCB_STATE_DYING) {
			err = -EBUSY;
			goto out;
		}
		mtx_leave(f);			/* msleep_nsec(tmp, &kcov_mtx) */
		kcb_wait_a_while();
		mtx_enter(f);
	}
	rlist_insert_tail(&kr_list, kr);
	kr->state = KCB_STATE_READY;
	kr->kd = kd;
	kd->kr = kr;
	kd->shared = 1;				/* still READY: kcb_dev_share() */
	kd->state = KCB_STATE_TRACE;		/* KIOENABLE; kd->mode is set */
	kr = NULL;
out:
	mtx_leave(f);
	kcb_free(kr);
	return err;
}

/* KIODISABLE then close: kd_free() -> kcov_remote_detach() -> kr_free(). */
static void ob_disable(struct kcb_dev *kd)
{
	struct kcb_remote *kr;
	kcb_irqflags_t f;

	mtx_enter(f);
	kd->state = KCB_STATE_READY;
	kd->mode = KCB_MODE_NONE;
	kr = kd->kr;
	if (kr) {
		kr_barrier(kr, &f);
		kr->state = KCB_STATE_DYING;
		kr_barrier(kr, &f);
		kd->kr = NULL;
		kr->kd = NULL;
		rlist_remove(&kr_list, kr);
	}
	mtx_leave(f);
	kcb_free(kr);				/* pool_put */
}

const struct kcb_remote_ops OB_CAT(kcb_remote_, OB_ID) = {
	.name = OB_NAME,
	.origin = OB_ORIGIN,
	.config = OB_CONFIG,
	.proposal = OB_PROPOSAL,
	.lookup = "obsd-list",
	.softirq = 1,
	.direct = 1,
	.init = ob_init,
	.fini = ob_fini,
	.enable = ob_enable,
	.disable = ob_disable,
	.start = ob_enter,
	.stop = ob_leave,
	.loop = ob_loop,
};
