/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-switch-once-broken": the broken control of the
 * linux-switch-once proposal, for the tests only (frontends.h's
 * KCB_BROKEN_FRONTENDS: never benchmarked, never in a table).  Its one
 * check per trace_switch asks only whether tracing is on, in any mode and
 * any context: the slip a hurried patch makes when it hoists
 * check_kcov_mode() out of write_comp_data().  A trace-pc descriptor then
 * gets every case as a comparison record, and an interrupt's switch lands
 * in the task's buffer.  tests/twins.c's cmp-layout twin ("cmp in pc
 * mode") must catch it on its first attempt, in both builds.
 */
#include "variant.h"

#define FE			lnx_once_broken
#define FE_NAME			"linux-switch-once-broken"
#define FE_ORIGIN		"broken on purpose: linux-switch-once, its check without the mode and context tests"
#define FE_PROPOSAL		1
#define FE_SWITCH_PER_CASE	0
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_check.h"

static __always_inline bool lnx_once_broken_lookup(struct kcb_sink *s)
{
	struct kcb_task *t = kcb_current();

	if (!READ_ONCE(t->kcov_mode))
		return false;
	lnx_sink(t, s);
	return true;
}
#define FE_SWITCH_LOOKUP(s)	lnx_once_broken_lookup(s)

/* The other hooks are linux-switch-once's: current and preempt_count();
 * trace_switch's lookup reads current alone. */
#define FE_SHAPE		"percpu=2 case_percpu=0 rt_percpu=3 switch_percpu=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
