/* SPDX-License-Identifier: MIT */
/*
 * front end "obsd-1.49": OpenBSD sys/dev/kcov.c rev 1.49, kd_curproc()
 * ("Read curcpu once in kcov code hot paths").
 * kcov_cold first; ci = curcpu() once; kd = ci->ci_curproc->p_kd; mode;
 * panicstr/db_active only after a match; inintr(ci) && !kd_intr.
 * trace_switch looks up once and passes kd to trace_cmp().
 *
 * Later revisions leave the hook path unchanged (issue 25; not diffed
 * here): rev 1.51 (2025-02-02) adds KCOV_BUF_MAX_NMEMB (512 << 10), a
 * bound on the buffer size KIOSETBUFSIZE accepts; kd_curproc() and
 * kd_claim() are as in 1.49.  What rev 1.50 changed was not found (the
 * sys/dev/kcov.c history could not be read here): unknown, but it is
 * between two revisions whose hook path is the same.
 */
#include "variant.h"

#define FE			obsd_149
#define FE_NAME			"obsd-1.49"
#define FE_ORIGIN		"OpenBSD sys/dev/kcov.c rev 1.49 kd_curproc(); the same in 1.50 and 1.51 (1.51, 2025-02-02: KCOV_BUF_MAX_NMEMB only)"
#define FE_SWITCH_PER_CASE	0
#define FE_INDIRECT		0

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_cpu *ci;
	struct kcb_task *p;
	struct kcb_dev *kd;

	if (unlikely(READ_ONCE(kcb_cold)))
		return false;
	ci = kcb_curcpu();
	p = ci->curtask;
	kd = p->kd;
	if (likely(kd == NULL) || kd->mode != mode)
		return false;
	if (unlikely(READ_ONCE(kcb_panicstr) || READ_ONCE(kcb_db_active)))
		return false;
	if (ci->idepth > 0 && kd->intr == 0)
		return false;
	*s = kcb_sink_of(kd);
	s->t = p;
	return true;
}

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): one curcpu() load per hook (rev 1.49 caches it);
 * trace_switch looks up once, before its cases. */
#define FE_SHAPE		"percpu=1 case_percpu=0"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KD_INTR
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
