/* SPDX-License-Identifier: MIT */
/*
 * uniq_guard.h - Potapenko's unique mode (KCOV_UNIQUE_ENABLE, v3 07/10,
 * Jul 2025, not merged): __sanitizer_cov_trace_pc_guard() records a
 * guard's PC only the first time its bit in the task's bitmap is clear.
 * Used by fe_lnx_unique.c (FE_GUARD) and its broken control.
 */
#ifndef KCB_UNIQ_GUARD_H
#define KCB_UNIQ_GUARD_H

#include "../hotpath/kcb.h"

/* kcov's mode for it (the value is ours) */
#define KCB_MODE_TRACE_UNIQUE_PC	4

/* t traces into kd, recording a guard's PC only the first time its bit in
 * bitmap (bits long, zeroed by the caller) is clear. */
void kcb_task_enable_unique(struct kcb_task *t, struct kcb_dev *kd,
    uint64_t *bitmap, uint64_t bits);
/* Give an unset guard its index (1, 2, ...; 0 means unset), once. */
uint32_t kcb_guard_init(uint32_t *guard);
void kcb_guard_init_range(uint32_t *start, uint32_t *stop);

/*
 * __sanitizer_cov_trace_pc_guard()'s test in the unique mode: true if this
 * guard's PC is to be recorded.  The test-and-set is not atomic: only t
 * and interrupts on its CPU touch t's bitmap, and an interrupt between
 * the test and the set records the PC twice, never loses it.  An index
 * past the bitmap records every time.
 */
static __always_inline bool kcb_guard_test(struct kcb_task *t, uint32_t *guard, bool set)
{
	uint32_t idx = READ_ONCE(*guard);
	uint64_t *w, bit;

	if (unlikely(!idx))
		idx = kcb_guard_init(guard);
	if (unlikely(idx >= t->kcov_bitmap_bits))
		return true;
	w = &t->kcov_bitmap[idx / 64];
	bit = 1ull << (idx % 64);
	if (*w & bit)
		return false;
	if (set)		/* false: the broken control's test without the set */
		*w |= bit;
	return true;
}

static __always_inline bool kcb_guard_first(struct kcb_task *t, uint32_t *guard)
{
	return kcb_guard_test(t, guard, true);
}

#endif
