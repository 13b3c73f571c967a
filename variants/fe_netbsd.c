/* SPDX-License-Identifier: MIT */
/*
 * front end "netbsd": NetBSD sys/kern/subr_kcov.c rev 1.17 (2022),
 * __sanitizer_cov_trace_pc() and trace_cmp().
 * Reject if cold or in interrupt (curcpu()->ci_idepth >= 0; it rests at
 * -1); kd = curlwp->l_kcov; enabled, silenced, mode.  Each switch case
 * goes through trace_cmp(), which checks again.
 */
#include "variant.h"

#define FE			netbsd
#define FE_NAME			"netbsd"
#define FE_ORIGIN		"NetBSD sys/kern/subr_kcov.c rev 1.17"
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_task *l;
	struct kcb_dev *kd;

	if (unlikely(READ_ONCE(kcb_cold)))
		return false;
	if (kcb_curcpu()->nb_idepth >= 0)
		return false;
	l = kcb_current();			/* curlwp */
	kd = l->kd;				/* curlwp->l_kcov */
	if (likely(kd == NULL))
		return false;
	if (!kd->enabled || kd->silenced || kd->mode != mode)
		return false;
	*s = kcb_sink_of(kd);
	s->t = l;
	return true;
}

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): curcpu() (ci_idepth) and curlwp per hook; per switch case
 * curcpu() again, curlwp merged (kcb_current()'s rule: whether NetBSD's
 * x86 curlwp merges the same way is not checked here). */
#define FE_SHAPE		"percpu=2 case_percpu=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_ONLY
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
