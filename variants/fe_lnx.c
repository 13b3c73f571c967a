/* SPDX-License-Identifier: MIT */
/*
 * front end "linux": Linux kernel/kcov.c check_kcov_mode() and
 * canonicalize_ip() in their 2024 form: the in_softirq_really() test came
 * with "kcov: properly check for softirq context" (July 2024, marked for
 * stable); before it, 5.x and early 6.x tested in_serving_softirq().  How
 * sure: the code shape is from the 6.x source; which stable releases carry
 * the 2024 test is not checked here.
 * t = current; reject unless in_task() or (in_softirq_really() and
 * t->kcov_softirq); READ_ONCE(t->kcov_mode), barrier(), equality with the
 * wanted mode (a KCOV_IN_CTXSW bit makes it fail); area and size from the
 * task.  PC = _RET_IP_ - kaslr_offset().  write_comp_data() re-runs the
 * check for every switch case.
 *
 * Kernel version tracked: 6.1 (Debian's 6.1.192 kernel/kcov.o, held to it
 * statically in results/fidelity/table.md and measured beside it as
 * configuration kernel-6.1).  6.12 (Debian's 6.12.118, kernel-6.12) reads
 * current and preempt_count from pcpu_hot (RIP-relative %gs loads of
 * const_pcpu_hot.current_task and pcpu_hot.preempt_count) instead of
 * current_task and __preempt_count: on the traced path the same two %gs
 * loads, the same branches (the hardirq and NMI tests of the non-task path
 * merged into one: one branch fewer there, none on the task path), the
 * same out-of-line write_comp_data() call per cmp hook and switch case;
 * +1 instruction per hook entry (endbr64: Debian 6.12 builds with IBT),
 * +3 on the cmp hooks' path and +2 per switch case (register moves).  The
 * cost structure is the same, so this replica stands for both; the
 * differences are in docs/kernel-configs.md ("6.12 against 6.1").
 */
#include "variant.h"

#define FE			lnx
#define FE_NAME			"linux"
#define FE_ORIGIN		"Linux kernel/kcov.c check_kcov_mode(), 2024 in_softirq_really() form; tracks 6.1 (Debian 6.1.192's kcov.o: kernel-6.1); 6.12's pcpu_hot path has the same cost shape"
#define FE_SWITCH_PER_CASE	1
#define FE_INDIRECT		0
/* Debian's GCC keeps write_comp_data() out of line in kernel/kcov.o: the
 * trace_cmp* hooks tail-jump to it and trace_switch calls it per case,
 * each call re-reading current and preempt_count (results/fidelity). */
#define FE_CMP_CALL		1

#include "lnx_check.h"

/* Cost shape of the traced path (tests/test_shape.py holds both builds to
 * it): current and preempt_count() per hook; trace_switch calls the
 * out-of-line tracer per case, which reads both again (as kcov.o's
 * write_comp_data() does).  On PREEMPT_RT in_task() also reads the
 * kernel's current, which the module's simulated current is not: one load
 * more there than real kcov.c pays. */
#define FE_SHAPE		"percpu=2 case_percpu=2 case_calls=1 rt_percpu=3 rt_case_percpu=3"
/* What the twins expect (variant.h): where records may be made, and
 * trace_switch's record per case. */
#define FE_IRQ_POLICY		KCB_IRQ_TASK_OR_KCOV_SOFTIRQ
#define FE_SWITCH_LAYOUT	KCB_SWITCH_CASE_VAL

#include "template.h"
