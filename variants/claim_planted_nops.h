/* SPDX-License-Identifier: MIT */
/*
 * claim "planted-nops": a PLANTED-EFFECT CONTROL, not a design.  Linux's
 * count-first claim (claim_plain_count_first.h) with PLANTED_NOPS nops
 * ahead of it on every traced call: a small fixed cost that nothing else
 * changes, so that compare's power (how often it calls this slower than
 * linux) and its false alarms (linux against itself) can be measured on
 * the same machine.  scripts/planted-effect does that; nothing else may
 * use it.  The nops are an asm block the compiler cannot drop or move out
 * of the hook.
 */
#define CLAIM_planted_nops_SHAREABLE	0
#define CLAIM_planted_nops_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_planted_nops_ORIGIN	"kcovbench: planted-effect control (Linux count-first claim + nops)"
/* traced path: no atomic; tests/test_shape.py checks it */
#define CLAIM_planted_nops_SHAPE	"atomic=0 calls=0"

#ifndef PLANTED_NOPS
#define PLANTED_NOPS	8
#endif

static __always_inline bool claim_planted_nops_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	asm volatile(".rept %c0\n\tnop\n\t.endr" : : "i"(PLANTED_NOPS) : "memory");
	return claim_plain_count_first_rec(s, stride, w0, w1, w2, w3);
}

#define claim_planted_nops_copy	claim_plain_count_first_copy
