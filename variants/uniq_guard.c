/* SPDX-License-Identifier: MIT */
/*
 * uniq_guard.c - the unique mode's guard indices and enable (uniq_guard.h).
 */
#include "uniq_guard.h"

/* [a] the last guard index given out */
static uint32_t kcb_guard_last;

uint32_t kcb_guard_init(uint32_t *guard)
{
	uint32_t idx = (uint32_t)kcb_fetch_add_u32(&kcb_guard_last, 1) + 1;
	uint32_t was = kcb_cmpxchg_u32(guard, 0, idx);

	return was ? was : idx;		/* another CPU gave it one first */
}

/* clang's trace_pc_guard_init(start, stop), from its module constructor:
 * nothing to do, the hook gives each guard its index on its first call. */
void kcb_guard_init_range(uint32_t *start, uint32_t *stop)
{
	(void)start;
	(void)stop;
}

void kcb_task_enable_unique(struct kcb_task *t, struct kcb_dev *kd,
    uint64_t *bitmap, uint64_t bits)
{
	t->kcov_bitmap = bitmap;
	t->kcov_bitmap_bits = bits;
	kcb_task_enable(t, kd, KCB_MODE_TRACE_UNIQUE_PC);
}
