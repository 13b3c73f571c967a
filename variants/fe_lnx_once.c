/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-switch-once": PROPOSAL for Linux kernel/kcov.c
 * __sanitizer_cov_trace_switch().  The "linux" front end (lnx_check.h),
 * but trace_switch runs check_kcov_mode() once, before decoding, and then
 * writes every case with the claim alone; upstream's write_comp_data()
 * repeats the check (current, preempt_count(), kcov_mode) per case, also
 * in trace-pc mode, where every case is refused.
 *
 * Why one check is enough: what the check reads can only change under the
 * hook by (a) the task itself, which is inside the hook; (b) an interrupt
 * on its CPU, which changes preempt_count() only for its own duration and
 * restores t->kcov_mode/area/size on exit (kcov_remote_start/stop in
 * softirq save and restore them); (c) another task, which never writes
 * this task's kcov fields while it runs (kcov_task_exit() and the ioctls
 * act on current only).  A context switch in the middle is (b) for
 * KCOV_IN_CTXSW, set and cleared around it.  So each case sees the state
 * the first saw; tests/twins.c's switch twin checks the records, and
 * tests/test_irq.c checks interrupts between hooks.
 * A reader sees the same records as with upstream.
 */
#include "variant.h"

#define FE			lnx_once
#define FE_NAME			"linux-switch-once"
#define FE_ORIGIN		"patch to Linux kernel/kcov.c __sanitizer_cov_trace_switch(): one check_kcov_mode() per switch"
#define FE_PROPOSAL		1
#define FE_SWITCH_PER_CASE	0
#define FE_INDIRECT		0
/* trace_cmp* keep upstream's out-of-line write_comp_data(). */
#define FE_CMP_CALL		1

#include "lnx_check.h"

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): current and preempt_count() per hook, none per switch case. */
#define FE_SHAPE		"percpu=2 case_percpu=0 rt_percpu=3"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
