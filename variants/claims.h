/* SPDX-License-Identifier: MIT */
/*
 * The claims (one claim_<id>.h each) and the pairs a front end is built
 * with: X(id, "name", pc claim, cmp claim, control), control 0 for a
 * real claim.  A pair uses one claim for trace-pc records and one for
 * trace-cmp records, because FreeBSD does.  A claim's _rec returns true
 * when it stored the record (FreeBSD's trace_cmp() does; its trace_switch
 * stops at the first false).
 */
#include "claim_cas.h"
#include "claim_plain_count_first.h"
#include "claim_plain_store_first.h"
#include "claim_write_then_cas.h"
#include "claim_fadd.h"
#include "claim_broken_racy.h"
#include "claim_planted_nops.h"
#include "claim_owner_plain.h"
#include "claim_chunk.h"

#ifdef KCB_FE_ONLY
/*
 * Not a variant: `kcovbench realprog`'s front-end-only builds (build/feonly/,
 * scripts/configure) compile each front end with this one claim, which
 * records nothing.  The front end runs whole (lookup, mode check, the
 * sink's loads); an empty asm consumes the sink and the record's first
 * word so that the compiler keeps them, and the claim itself (count load,
 * bound check, stores, atomics) is gone.
 */
#define CLAIM_fe_only_SHAREABLE	1
#define CLAIM_fe_only_PADDED	0
#define CLAIM_fe_only_ORIGIN	"kcovbench: realprog decomposition (no claim)"
#define CLAIM_fe_only_SHAPE	"atomic=0 calls=0"

static __always_inline bool claim_fe_only_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	(void)stride; (void)w1; (void)w2; (void)w3;
	asm volatile("" : : "r"(s.buf), "r"(s.nwords), "r"(w0));
	return true;
}

static __always_inline void claim_fe_only_copy(struct kcb_sink dst,
    struct kcb_dev *kd, const uint64_t *src, const int stride)
{
	(void)dst; (void)kd; (void)src; (void)stride;
}

#define KCB_PAIRS(X)	X(fe_only, "fe-only", fe_only, fe_only, 0)
#else
#define KCB_PAIRS(X)									\
	X(cas,			"cas",			cas, cas, 0)			\
	X(plain_count_first,	"plain-count-first",	plain_count_first, plain_count_first, 0) \
	/* linux's copy next to it: a page apart from its loop, a copy\
	 * measured +15% (results/ab-placement/page-crossing-copy) */	\
	X(planted_copy,		"planted-copy",		planted_copy, planted_copy, KCB_CONTROL_PLANTED) \
	X(plain_store_first,	"plain-store-first",	plain_store_first, plain_store_first, 0) \
	X(write_then_cas,	"write-then-cas",	write_then_cas, write_then_cas, 0) \
	X(fadd,			"fadd",			fadd, fadd, 0)			\
	X(store_first_wcas,	"plain-store-first+write-then-cas", plain_store_first, write_then_cas, 0) \
	X(broken_racy,		"broken-racy",		broken_racy, broken_racy, KCB_CONTROL_BROKEN) \
	X(planted_nops,		"planted-nops",		planted_nops, planted_nops, KCB_CONTROL_PLANTED) \
	X(planted_nops16,	"planted-nops16",	planted_nops16, planted_nops16, KCB_CONTROL_PLANTED) \
	X(planted_nops20,	"planted-nops20",	planted_nops20, planted_nops20, KCB_CONTROL_PLANTED) \
	X(owner_plain,		"owner-plain",		owner_plain, owner_plain, KCB_PROPOSAL) \
	X(chunk,		"chunk",		chunk, chunk, KCB_PROPOSAL)	\
	X(owner_plain_broken,	"owner-plain-broken",	owner_plain_broken, owner_plain_broken, KCB_CONTROL_BROKEN) \
	X(chunk_broken,		"chunk-broken",		chunk_broken, chunk_broken, KCB_CONTROL_BROKEN)
#endif
