/* SPDX-License-Identifier: MIT */
/*
 * front end "freebsd": FreeBSD sys/kern/kern_kcov.c (13.0+),
 * __sanitizer_cov_trace_pc() -> cov_trace_pc -> trace_pc() -> get_kinfo().
 * The hook loads the tracer pointer atomically and calls through it;
 * td = curthread; NULL check; reject in interrupt (td_intr_nesting_level > 0 or
 * td_intr_frame); info = td->td_kcov_info; acquire-load of info->state ==
 * RUNNING; then the mode.  trace_switch (sys/kern/subr_coverage.c) loads
 * cov_trace_cmp once, ORs COV_CMP_CONST into the value, not the type, and
 * calls trace_cmp(SIZE(n), val, case) per case until one returns false.
 */
#include "variant.h"

#define FE			freebsd
#define FE_NAME			"freebsd"
#define FE_ORIGIN		"FreeBSD sys/kern/kern_kcov.c (13.0+) get_kinfo()"
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		1
#define FE_SWITCH_VAL_CONST	1

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_task *td = kcb_current();
	struct kcb_dev *info;

	if (td == NULL)		/* secondary CPUs being released */
		return false;
	if (td->intr_nesting > 0 || td->intr_frame != NULL)
		return false;
	info = td->kd;
	if (info == NULL || kcb_load_acquire(&info->state) != KCB_STATE_TRACE)
		return false;
	if (info->mode != mode)
		return false;
	*s = kcb_sink_of(info);
	s->t = td;
	return true;
}

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): the hook is one indirect call through cov_trace_*;
 * the tracer loads curthread once; trace_switch calls the tracer once a
 * case, through the pointer it loaded once. */
#define FE_SHAPE		"percpu=0 indirect=1 tracer_percpu=1 case_percpu=0 case_indirect=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_ONLY
#define FE_SWITCH_LAYOUT	KCB_SWITCH_VAL_CONST_CASE

#include "template.h"
