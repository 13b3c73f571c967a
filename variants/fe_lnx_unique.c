/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-unique": PROPOSAL (upstream, not merged) for Linux
 * kernel/kcov.c: Alexander Potapenko's unique-coverage mode, "[PATCH v3
 * 07/10] kcov: add ioctl(KCOV_UNIQUE_ENABLE)" (28 Jul 2025) on top of
 * "[PATCH v4 05/10] kcov: x86: introduce CONFIG_KCOV_UNIQUE" (31 Jul
 * 2025, clang's -fsanitize-coverage=trace-pc-guard).  Copied from the
 * mails' descriptions, not their code: each hook gets a u32 guard, given
 * a unique index on its first call; in the unique mode the hook tests
 * the index's bit in a per-task bitmap and, if clear, appends the PC and
 * sets the bit; in trace-pc mode it records as trace_pc.  The ordering of
 * the two mode tests, and the bitmap living in the first words of the
 * mmap()ed buffer, are as the mails say; the code shape is our guess.
 * Joey Jiao's hash-table modes (Jan 2025) are not built.
 * Every other hook is the "linux" front end's (lnx_check.h).
 */
#include "variant.h"

#define FE			lnx_unique
#define FE_NAME			"linux-unique"
#define FE_ORIGIN		"patch to Linux kernel/kcov.c: Potapenko's KCOV_UNIQUE_ENABLE (v3 07/10, Jul 2025, not merged)"
#define FE_PROPOSAL		1
#define FE_GUARD		1
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_check.h"

/* Cost shape (tests/test_shape.py): the "linux" front end's, and for
 * trace_pc_guard the same two per-CPU reads and one call (the guard's
 * index, given once per guard). */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3 guard_calls=1"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
