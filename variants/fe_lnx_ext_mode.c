/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-ext-mode": PROPOSAL for Linux kernel/kcov.c with
 * KCOV_EXT_RECORDS (see fe_lnx_ext_v1.c and lnx_ext.h): admit the
 * extended mode while trace_pc keeps one load and one compare of the
 * mode, as Dmitry Vyukov asked ("as cheap as the current == kcov_mode
 * comparison").
 *
 * The encoding: t->kcov_mode's low byte is the mode (KCOV_MODE_TRACE_PC,
 * _TRACE_CMP, ...) with KCOV_IN_CTXSW moved into it (bit 7 here,
 * KCB_MODE_IN_CTXSW); record-format bits live above it, KCOV_EXT_FORMAT at
 * bit 8 (KCB_MODE_EXT_FORMAT).  The check compares the low byte with the
 * wanted mode: one 32-bit load, one byte compare (no mask, no second
 * load), and it still fails while switched out.  Both PC modes pass it;
 * the extended format is a bit of the word already in a register, tested
 * only on the path that records.  The comparison modes never carry a
 * format bit (enable refuses one), so trace_cmp's check means what
 * upstream's does.  v2 of the series (18 Mar 2026) put its flag at bit
 * 29 of the same word, which a one-compare check cannot ignore.
 * A reader sees the same records as with upstream in the legacy modes.
 */
#include "variant.h"

#define FE			lnx_ext_mode
#define FE_NAME			"linux-ext-mode"
#define FE_ORIGIN		"patch to Linux kernel/kcov.c for KCOV_EXT_RECORDS: format bits above a mode byte that holds KCOV_IN_CTXSW; one load, one byte compare"
#define FE_PROPOSAL		1
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
#define FE_CMP_CALL		1

#include "lnx_ext.h"

_Static_assert(KCB_MODE_IN_CTXSW < 0x100 && KCB_MODE_TRACE_PC < 0x80 &&
    KCB_MODE_TRACE_CMP < 0x80, "the mode byte holds every mode and KCOV_IN_CTXSW");

/* check_kcov_mode() with the byte compare, the word kept for the record */
#define LNX_MODE_MATCH(m, mode)	((uint8_t)(m) == (uint8_t)(mode))
#define LNX_SINK_MODE(m)	(m)
#include "lnx_check.h"

static __always_inline uint64_t lnx_ext_mode_record(const struct kcb_sink *s, uint64_t pc)
{
	if (unlikely(s->mode & KCB_MODE_EXT_FORMAT))
		return lnx_ext_tag(pc, KCB_REC_TYPE_BB);
	return pc;
}
#define FE_PC_RECORD(s, ret)	lnx_ext_mode_record((s), FE_PC(ret))

/* Cost shape (tests/test_shape.py): as "linux". */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3"
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
