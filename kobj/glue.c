/* SPDX-License-Identifier: MIT */
/*
 * glue.c - one real kernel object's configuration: compiled once per
 * kernel by scripts/kobj-bundle with -include facts.h place.h kobj_id.h
 * (KOBJ_P, the object's symbol prefix; the facts; its per-CPU page).  The
 * loops call the renamed hooks directly, as template.h's loops call a
 * variant's: no indirect call per hook call.
 */
#include "kobj.h"

#define CAT_(a, b)	a##b
#define CAT(a, b)	CAT_(a, b)
#define SYM(x)		CAT(KOBJ_P, x)
#define HOOK(x)		SYM(CAT(__sanitizer_cov_, x))

void HOOK(trace_pc)(void);
void HOOK(trace_cmp1)(uint8_t, uint8_t);
void HOOK(trace_cmp2)(uint16_t, uint16_t);
void HOOK(trace_cmp4)(uint32_t, uint32_t);
void HOOK(trace_cmp8)(uint64_t, uint64_t);
void HOOK(trace_const_cmp1)(uint8_t, uint8_t);
void HOOK(trace_const_cmp2)(uint16_t, uint16_t);
void HOOK(trace_const_cmp4)(uint32_t, uint32_t);
void HOOK(trace_const_cmp8)(uint64_t, uint64_t);
void HOOK(trace_switch)(uint64_t, uint64_t *);
extern char CAT(__start_, KOBJ_TEXT)[];
#if KOBJ_WORKLOAD
/* workload/workload.c instrumented, its hooks this object's (kobj-bundle) */
uint64_t SYM(kcb_workload)(uint64_t seed, void *scratch);
#define KOBJ_WORKLOAD_FN	SYM(kcb_workload)
#else
#define KOBJ_WORKLOAD_FN	NULL
#endif

/* Each loop at the offset in its 64-byte line of the hook it calls in
 * this copy (scripts/kobj-bundle: KOBJ_LOOP_*_PAD), as a replica's loop
 * and hooks share their layout's offset: padding before the entry. */
#define PAD(n)	__attribute__((patchable_function_entry(n, n)))

PAD(KOBJ_LOOP_PC_PAD) kcb_noinline void SYM(kobj_loop_pc)(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		HOOK(trace_pc)();
}

PAD(KOBJ_LOOP_CMP_PAD) kcb_noinline void SYM(kobj_loop_cmp)(uint64_t n, uint64_t tag)
{
	for (uint64_t i = 0; i < n; i++)
		HOOK(trace_cmp8)(tag, i);
}

PAD(KOBJ_LOOP_SWITCH_PAD) kcb_noinline void SYM(kobj_loop_switch)(uint64_t n, uint64_t *cases)
{
	for (uint64_t i = 0; i < n; i++)
		HOOK(trace_switch)(i, cases);
}

/* The kernel's preempt count for the contract's: PREEMPT_ENABLED (the
 * inverted need-resched bit: a task with nothing pending) plus each count
 * at the kernel's offsets. */
static uint32_t kernel_preempt(unsigned int pc)
{
	return (uint32_t)KOBJ_PREEMPT_ENABLED +
	    (pc & 0xffu) * (uint32_t)KOBJ_PREEMPT_OFFSET +
	    (pc & KCB_SOFTIRQ_MASK) / KCB_SOFTIRQ_OFFSET * (uint32_t)KOBJ_SOFTIRQ_OFFSET +
	    (pc & KCB_HARDIRQ_MASK) / KCB_HARDIRQ_OFFSET * (uint32_t)KOBJ_HARDIRQ_OFFSET +
	    (pc & KCB_NMI_MASK) / (KCB_NMI_MASK & -KCB_NMI_MASK) * (uint32_t)KOBJ_NMI_OFFSET;
}

static uint32_t kernel_mode(unsigned int mode)
{
	uint32_t m;

	switch (mode & ~KCB_MODE_IN_CTXSW) {
	case KCB_MODE_TRACE_PC:
		m = KOBJ_KCOV_MODE_TRACE_PC;
		break;
	case KCB_MODE_TRACE_CMP:
		m = KOBJ_KCOV_MODE_TRACE_CMP;
		break;
	default:	/* the proposals' modes: not this kernel's */
		m = KOBJ_KCOV_MODE_DISABLED;
		break;
	}
	return m | (mode & KCB_MODE_IN_CTXSW ? (uint32_t)KOBJ_KCOV_IN_CTXSW : 0);
}

#define FIELD(task, off, type)	(*(volatile type *)((task) + (off)))

static void sync(char *block, char *task, const struct kcb_task *t, unsigned int pc)
{
	char *pcpu = block + KOBJ_PAGE * 4096ul;
	uint32_t mode = t ? kernel_mode(READ_ONCE(t->kcov_mode)) : KOBJ_KCOV_MODE_DISABLED;

#ifdef KOBJ_PCPU_HOT
	FIELD(pcpu, KOBJ_PAGE_OFF_PCPU_HOT + KOBJ_PCPU_HOT_CURRENT, char *) = task;
	FIELD(pcpu, KOBJ_PAGE_OFF_PCPU_HOT + KOBJ_PCPU_HOT_PREEMPT, uint32_t) =
	    kernel_preempt(pc);
#else
	FIELD(pcpu, KOBJ_PAGE_OFF_CURRENT_TASK, char *) = task;
	FIELD(pcpu, KOBJ_PAGE_OFF_PREEMPT_COUNT, uint32_t) = kernel_preempt(pc);
#endif
	if (!t || mode == KOBJ_KCOV_MODE_DISABLED)
		FIELD(task, KOBJ_TASK_KCOV_MODE, uint32_t) = mode;
	FIELD(task, KOBJ_TASK_KCOV_AREA, uint64_t *) = t ? t->kcov_area : NULL;
	FIELD(task, KOBJ_TASK_KCOV_SIZE, uint32_t) = t ? t->kcov_size : 0;
	FIELD(task, KOBJ_TASK_KCOV, void *) = t ? (void *)t->kcov : NULL;
	FIELD(task, KOBJ_TASK_KCOV_SEQUENCE, int) = t ? t->kcov_sequence : 0;
	FIELD(task, KOBJ_TASK_KCOV_SOFTIRQ, int) = t ? t->kcov_softirq : 0;
	barrier();
	FIELD(task, KOBJ_TASK_KCOV_MODE, uint32_t) = mode;
}

static const uint32_t ret_sites[] = KOBJ_RET_SITES;

const struct kobj_kernel SYM(kernel) = {
	.name = KOBJ_NAME,
	.key = KOBJ_KEY,
	.control = KOBJ_CONTROL,
	/* Linux's rules, from the object itself: the twins hold it to them */
	.fe = { .name = KOBJ_NAME,
		.origin = "real kernel/kcov.o (unmodified): " KOBJ_KEY,
		.irq_policy = KCB_IRQ_TASK_OR_KCOV_SOFTIRQ,
		.switch_layout = KCB_SWITCH_CASE_VAL, .id = "kobj", .real_kernel = 1 },
	.pair = { "kcov.o", "kernel/kcov.o", "kernel/kcov.o", 0, 0,
		  KOBJ_CONTROL, 0, 0, 0, 0 },
	.combo = {
		.fe = &SYM(kernel).fe,
		.pair = &SYM(kernel).pair,
		.trace_pc = HOOK(trace_pc),
		.trace_cmp1 = HOOK(trace_cmp1),
		.trace_cmp2 = HOOK(trace_cmp2),
		.trace_cmp4 = HOOK(trace_cmp4),
		.trace_cmp8 = HOOK(trace_cmp8),
		.trace_const_cmp1 = HOOK(trace_const_cmp1),
		.trace_const_cmp2 = HOOK(trace_const_cmp2),
		.trace_const_cmp4 = HOOK(trace_const_cmp4),
		.trace_const_cmp8 = HOOK(trace_const_cmp8),
		.trace_switch = HOOK(trace_switch),
		.loop_pc = SYM(kobj_loop_pc),
		.loop_cmp = SYM(kobj_loop_cmp),
		.loop_switch = SYM(kobj_loop_switch),
		/* kcov_move_area() is no hook: modes that move are refused */
		.move = NULL,
	},
	.task_size = KOBJ_TASK_SIZE,
	.sync = sync,
	.text = CAT(__start_, KOBJ_TEXT) + KOBJ_SHIFT,	/* after the pad */
	.shift = KOBJ_SHIFT,
	.workload = KOBJ_WORKLOAD_FN,
	.ret_sites = ret_sites,
	.nret = KOBJ_NRET,
};
