/* SPDX-License-Identifier: MIT */
/*
 * front end "obsd-1.48": OpenBSD sys/dev/kcov.c rev 1.48, kd_curproc().
 *
 * Order: kcov_cold; curproc->p_kd (curcpu() read #1) and its mode;
 * panicstr/db_active only after a match; then inintr() reads curcpu()
 * again (#2) for ci_idepth and rejects unless kd_intr.  trace_cmp takes kd
 * (the TRACE_CMP macro), so trace_switch looks up once.
 *
 * How sure: the 1.48 text itself was not reachable (no OpenBSD CVS mirror
 * fits this project's fetch limit).  Rev 1.49 (seed) is this order with
 * `ci = curcpu()` read once; its commit message is only "Read curcpu once
 * in kcov code hot paths" (+25 -20), which leaves no room for a reorder.
 * Rev 1.23 (2020) had panicstr, cold, inintr(), curproc, mode; the check of
 * kd_intr must follow the kd lookup once softclock remote sections exist,
 * so 1.23's order cannot be 1.48's.  Inferred, not read.
 *
 * Current OpenBSD runs the 1.49 shape (fe_obsd_149.c): revs 1.50 and 1.51
 * (2025-02-02, KCOV_BUF_MAX_NMEMB) leave the hook path as 1.49 has it;
 * 1.50's change itself is unknown here.
 */
#include "variant.h"

#define FE			obsd_148
#define FE_NAME			"obsd-1.48"
#define FE_ORIGIN		"OpenBSD sys/dev/kcov.c rev 1.48 kd_curproc() (inferred from 1.49 and its log)"
#define FE_SWITCH_PER_CASE	0
#define FE_INDIRECT		0

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_task *p;
	struct kcb_dev *kd;

	if (unlikely(READ_ONCE(kcb_cold)))
		return false;
	p = kcb_curcpu()->curtask;		/* curproc */
	kd = p->kd;				/* p->p_kd */
	if (likely(kd == NULL) || kd->mode != mode)
		return false;
	if (unlikely(READ_ONCE(kcb_panicstr) || READ_ONCE(kcb_db_active)))
		return false;
	if (kcb_curcpu()->idepth > 0 && kd->intr == 0)	/* inintr() */
		return false;
	*s = kcb_sink_of(kd);
	s->t = p;
	return true;
}

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): two curcpu() loads per hook (inintr(ci), then ci_curproc);
 * trace_switch looks up once, before its cases. */
#define FE_SHAPE		"percpu=2 case_percpu=0"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KD_INTR
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
