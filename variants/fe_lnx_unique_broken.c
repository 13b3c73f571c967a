/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-unique-broken": the broken control of the linux-unique
 * proposal, for the tests only (frontends.h's KCB_BROKEN_FRONTENDS: never
 * benchmarked, never in a table).  Its guard test reads the bitmap and
 * never sets the bit: a test_bit() whose __set_bit() was lost.  Every
 * call of a guard is then recorded, as in trace-pc mode.  tests/twins.c's
 * unique twin ("4 guards, 8 calls") must catch it on its first attempt,
 * in both builds.
 */
#include "variant.h"

#define FE			lnx_unique_broken
#define FE_NAME			"linux-unique-broken"
#define FE_ORIGIN		"broken on purpose: linux-unique, its guard test without the set"
#define FE_PROPOSAL		1
#define FE_GUARD		1
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_check.h"

#define FE_GUARD_FIRST(t, guard)	kcb_guard_test((t), (guard), false)

/* linux-unique's shape */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3 guard_calls=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
