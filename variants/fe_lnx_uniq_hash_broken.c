/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-uniq-hash-broken": the broken control of the
 * linux-uniq-hash proposal, for the tests only (frontends.h's
 * KCB_BROKEN_FRONTENDS: never benchmarked, never in a table).  Its lookup
 * tests only the first entry of the PC's bucket, not the chain: the slip
 * of a lookup written as "if (head->ent == pc)".  A PC that shares a
 * bucket with a later one is then recorded again.  tests/twins.c's
 * uniq-hash twin (its bucket-chain step) must catch it on its first
 * attempt, in both builds.
 */
#include "variant.h"

#define FE			lnx_uniq_hash_broken
#define FE_NAME			"linux-uniq-hash-broken"
#define FE_ORIGIN		"broken on purpose: linux-uniq-hash, its lookup without the bucket chain"
#define FE_PROPOSAL		1
#define FE_UNIQ_HASH		1
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_check.h"

#define FE_PC_REC(s, ret)	lnx_uniq_hash_rec((s), (ret), false)

/* linux-uniq-hash's shape */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3 pc_calls=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
