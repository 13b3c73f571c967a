/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-uniq-hash": PROPOSAL (upstream, not merged) for Linux
 * kernel/kcov.c: Joey Jiao's KCOV_TRACE_UNIQ_PC mode, "[PATCH 1/7] kcov:
 * introduce new kcov KCOV_TRACE_UNIQ_PC mode" (14 Jan 2025, series "kcov:
 * Introduce New Unique PC|EDGE|CMP Modes", v1).  Written from the mail's
 * diff, not copied: __sanitizer_cov_trace_pc() runs check_kcov_mode() for
 * trace-pc or unique mode, reads t->kcov_mode again, and in the unique
 * mode calls kcov_map_add(t->kcov->map, ...): jhash of the PC, a walk of
 * one hash_min() bucket of 2^15, and on a miss gen_pool_alloc() of a
 * 32-byte entry, hash_add_rcu(), then the count-first append
 * (kcb_uniq_test() in variants/uniq_hash.h).  How sure: the hook's code is the
 * mail's; the pool is one gen_pool chunk with first fit, as
 * kcov_map_init() sets it up, replicated in uniq_hash.c (rcu_read_lock()
 * and the chunk list walk left out).  Differences: v1's modes are bits and
 * check_kcov_mode() tests mode & needed, so a KCOV_IN_CTXSW task in the
 * unique mode still passes its test; ours are values compared for
 * equality (the 2024 linux front end's), which rejects it.  The EDGE and
 * CMP modes (patches 2-4) are not built.  A reader sees each PC once per
 * descriptor: nothing in 1/7 empties the table before the descriptor is
 * freed, so a second KCOV_ENABLE records none of the first's PCs again.
 * Every other hook is the "linux" front end's (lnx_check.h).
 */
#include "variant.h"

#define FE			lnx_uniq_hash
#define FE_NAME			"linux-uniq-hash"
#define FE_ORIGIN		"patch to Linux kernel/kcov.c: Jiao's KCOV_TRACE_UNIQ_PC hash table (1/7, Jan 2025, not merged)"
#define FE_PROPOSAL		1
#define FE_UNIQ_HASH		1
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_check.h"

#define FE_PC_REC(s, ret)	lnx_uniq_hash_rec((s), (ret), true)

/* Cost shape (tests/test_shape.py): the "linux" front end's, and for
 * trace_pc one call, to the pool allocator on a PC's first time. */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3 pc_calls=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
