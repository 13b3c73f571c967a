/* SPDX-License-Identifier: MIT */
/*
 * front end "linux-ext-records": UNMERGED UPSTREAM PROPOSAL.  Linux
 * kernel/kcov.c with Jann Horn's "KCOV function entry/exit records" v1
 * (3 patches, 11 Mar 2026; not merged): the "linux" front end
 * (lnx_check.h), whose trace_pc record is tagged when the task's
 * kcov_ext_format flag is set.
 *
 * Provenance, and how sure:
 * - Read (lkml.iu.edu archive, patchew): patch 2/3 turns the body of
 *   __sanitizer_cov_trace_pc() into kcov_add_pc_record(record), called by
 *   trace_pc and trace_pc_entry; patch 3/3 adds the mode KCOV_TRACE_PC_EXT
 *   and, in task_struct, "unsigned int kcov_ext_format : 1" beside
 *   kcov_softirq (which becomes a 1-bit field too); trace_pc_exit records
 *   in the extended mode only.  Dmitry Vyukov's reply (13 Mar 2026):
 *   "Setting/saving/restoring this flag is fragile ... Can we have a new
 *   kcov_mode and use some mask check on tracing fast path, so that it's
 *   as cheap as the current == kcov_mode comparison?"  Jann Horn agreed
 *   to try it for v2; v2 (18 Mar 2026, 4/4) keeps KCOV_MODE_TRACE_PC and
 *   ORs a KCOV_EXT_FORMAT bit (1 << 29) into the mode instead.
 * - Inferred (v1's kcov.c hunks were read only in part): the mode check
 *   itself is unchanged, check_kcov_mode(KCOV_MODE_TRACE_PC, t) (an
 *   extended task's kcov_mode stays KCOV_MODE_TRACE_PC, the flag being
 *   separate), and a recording trace_pc then reads t->kcov_ext_format to
 *   pick the record's format.  So per trace_pc call v1 reads what
 *   "linux" reads (current, preempt_count, kcov_mode ==, area, size)
 *   plus one more load from the task and a test of it.  Comparison
 *   records are unchanged.  The 1-bit kcov_softirq is read only in a
 *   softirq; here it stays an int (the task path never reads it).
 */
#include "variant.h"

#define FE			lnx_ext_v1
#define FE_NAME			"linux-ext-records"
#define FE_ORIGIN		"Linux kernel/kcov.c + Jann Horn's KCOV function entry/exit records v1 (11 Mar 2026, not merged): trace_pc tests task_struct::kcov_ext_format"
#define FE_PROPOSAL		KCB_FE_UNMERGED
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
/* write_comp_data() out of line, as in "linux" */
#define FE_CMP_CALL		1

#include "lnx_check.h"
#include "lnx_ext.h"

/* kcov_add_pc_record() of trace_pc: the task's flag picks the format */
static __always_inline uint64_t lnx_ext_v1_record(const struct kcb_sink *s, uint64_t pc)
{
	if (s->t->kcov_ext_format)
		return lnx_ext_tag(pc, KCB_REC_TYPE_BB);
	return pc;
}
#define FE_PC_RECORD(s, ret)	lnx_ext_v1_record((s), FE_PC(ret))

/* Cost shape (tests/test_shape.py): as "linux"; the flag is a load from
 * the task, not a per-CPU one. */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3"
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
