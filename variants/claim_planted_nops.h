/* SPDX-License-Identifier: MIT */
/*
 * claims "planted-nops*" and "planted-copy": PLANTED-EFFECT CONTROLS, not
 * designs.  Linux's count-first claim (claim_plain_count_first.h) with N
 * nops ahead of it on every traced call: a small fixed cost that nothing
 * else changes, so that the power of `kcovbench ab` (how often it calls
 * one slower than linux, and from what size on) and its false alarms can
 * be measured on the same machine (scripts/planted-effect); nothing else
 * may use them.  The nops are an asm block the compiler cannot drop or
 * move out of the hook.  N is graded: the hook's front end absorbs the
 * first nops, so the cost grows with N only past that slack.
 * "planted-copy" has no asm at all: linux's hooks byte for byte, at
 * another address (an A/A control for placement).
 */
#define PLANTED_NOPS_CLAIM(id, n)						\
static __always_inline bool claim_##id##_rec(struct kcb_sink s,		\
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)	\
{										\
	asm volatile(".rept " #n "\n\tnop\n\t.endr" : : : "memory");		\
	return claim_plain_count_first_rec(s, stride, w0, w1, w2, w3);		\
}
/* traced path: no atomic; tests/test_shape.py checks it */

/* Measured with `kcovbench ab` on the 2-vCPU EPYC VM (results/ab-study):
 * 8 nops cost ~0.06%, 16 ~0.13%, 20 ~0.18%, 22 ~0.2%, 24 ~5.5%: the hook
 * runs at the front end's width from 24 nops on, so nothing in between
 * costs 0.5-2% here. */
#define CLAIM_planted_nops_SHAREABLE	0
#define CLAIM_planted_nops_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_planted_nops_ORIGIN	"kcovbench: planted-effect control (Linux count-first claim + 24 nops)"
#define CLAIM_planted_nops_SHAPE	"atomic=0 calls=0"
PLANTED_NOPS_CLAIM(planted_nops, 24)
#define claim_planted_nops_copy	claim_plain_count_first_copy

#define CLAIM_planted_nops16_SHAREABLE	0
#define CLAIM_planted_nops16_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_planted_nops16_ORIGIN	"kcovbench: planted-effect control (Linux count-first claim + 16 nops)"
#define CLAIM_planted_nops16_SHAPE	"atomic=0 calls=0"
PLANTED_NOPS_CLAIM(planted_nops16, 16)
#define claim_planted_nops16_copy	claim_plain_count_first_copy

#define CLAIM_planted_nops20_SHAREABLE	0
#define CLAIM_planted_nops20_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_planted_nops20_ORIGIN	"kcovbench: planted-effect control (Linux count-first claim + 20 nops)"
#define CLAIM_planted_nops20_SHAPE	"atomic=0 calls=0"
PLANTED_NOPS_CLAIM(planted_nops20, 20)
#define claim_planted_nops20_copy	claim_plain_count_first_copy

#define CLAIM_planted_copy_SHAREABLE	0
#define CLAIM_planted_copy_PADDED	0
#define CLAIM_planted_copy_ORIGIN	"kcovbench: placement control (Linux count-first claim, byte-identical copy)"
#define CLAIM_planted_copy_SHAPE	"atomic=0 calls=0"
#define claim_planted_copy_rec		claim_plain_count_first_rec
#define claim_planted_copy_copy		claim_plain_count_first_copy
