/* SPDX-License-Identifier: MIT */
/*
 * template.h - included at the end of each fe_<id>.c: builds that front end
 * with every claim pair of claims.h.
 *
 * The front end file defines, before including this:
 *   FE			its C id (as in frontends.h)
 *   FE_NAME, FE_ORIGIN	strings for `kcovbench list`
 *   FE_SWITCH_PER_CASE	1 if trace_switch re-runs the lookup per case
 *			(Linux write_comp_data(), NetBSD/FreeBSD trace_cmp())
 *   FE_INDIRECT	1 if the hook calls the tracer through a function
 *			pointer read atomically (FreeBSD cov_trace_pc)
 *   FE_CMP_CALL	1 if the comparison hooks call an out-of-line tracer
 *			(impl_cmp) as the compiled kernel does: a tail jump
 *			from trace_cmp*, a call per trace_switch case
 *   FE_SWITCH_VAL_CONST  1 for FreeBSD's trace_switch: the tracer pointer
 *			loaded once, the const bit ORed into the value, one
 *			trace_cmp(SIZE(n), val | CONST, case) per case until
 *			one returns false (needs FE_INDIRECT)
 *   FE_PROPOSAL	1 for a front end of ours (a proposal)
 *   FE_IRQ_POLICY	required: where its OS lets records be made
 *			(enum kcb_irq_policy in variant.h); test_irq checks it
 *   FE_SWITCH_LAYOUT	required: its OS's trace_switch record per case
 *			(enum kcb_switch_layout); the cmp-layout twin checks it
 *   FE_GUARD		1 to build __sanitizer_cov_trace_pc_guard() for the
 *			unique mode; needs fe_lookup_guard(&sink), which
 *			returns the mode this context may record in
 *   fe_lookup(mode, &sink)  true if this context may record in mode; fills
 *			the sink, its writer task (sink.t) included
 *   FE_PC(ret)		optional: the PC to store for a return address
 *   FE_PC_RECORD(s, ret) optional: the trace-pc record for return address
 *			ret, given the lookup's sink s (KCOV_EXT_RECORDS'
 *			front ends tag it); FE_PC(ret) by default
 *   FE_UNIQ_HASH	1 for Jiao's unique mode: trace_pc tests
 *			FE_PC_REC(&sink, ret), which returns true if the PC
 *			is to be recorded (a combo's loop_pc_at drives it)
 *
 * Each pair gets the ten __sanitizer_cov_* hooks (trace_pc_guard too with
 * FE_GUARD) as real out-of-line functions (named kcb_<fe>__<pair>__<hook>;
 * objcopy --redefine-sym gives them the compiler's names), loops that call
 * them directly, and a move: KCB_PAIR, built from the KCB_PAIR_* below.
 */
#include "claims.h"

/* The declarations the twins check a front end against: no default, so a
 * new front end states its OS's rules instead of inheriting another's. */
#ifndef FE_IRQ_POLICY
#error "define FE_IRQ_POLICY (enum kcb_irq_policy in variants/variant.h: where the front end's OS lets records be made) before including template.h"
#endif
#ifndef FE_SWITCH_LAYOUT
#error "define FE_SWITCH_LAYOUT (enum kcb_switch_layout in variants/variant.h: the front end's OS's trace_switch record) before including template.h"
#endif

#ifndef FE_PC
#define FE_PC(ret)		(ret)
#endif
#ifndef FE_PC_RECORD
#define FE_PC_RECORD(s, ret)	FE_PC(ret)
#endif
/* trace_switch's one lookup (!FE_SWITCH_PER_CASE); a broken control
 * replaces it. */
#ifndef FE_SWITCH_LOOKUP
#define FE_SWITCH_LOOKUP(s)	fe_lookup(KCB_MODE_TRACE_CMP, (s))
#endif
#ifndef FE_SWITCH_VAL_CONST
#define FE_SWITCH_VAL_CONST	0
#endif
#ifndef FE_PROPOSAL
#define FE_PROPOSAL		0
#endif
#ifndef FE_GUARD
#define FE_GUARD		0
#endif
#ifndef FE_CMP_CALL
#define FE_CMP_CALL		0
#endif
/* the unique mode's test of a guard; a broken control replaces it */
#ifndef FE_GUARD_FIRST
#define FE_GUARD_FIRST(t, guard)	kcb_guard_first((t), (guard))
#endif
#ifndef FE_UNIQ_HASH
#define FE_UNIQ_HASH		0
#endif
/* trace_pc's test: may this context record the PC of return address ret?
 * A unique mode's front end replaces it. */
#ifndef FE_PC_REC
#define FE_PC_REC(s, ret)	fe_lookup(KCB_MODE_TRACE_PC, (s))
#endif

#define KCB_CAT_(a, b)		a##b
#define KCB_CAT(a, b)		KCB_CAT_(a, b)
#define KCB_SYM_(fe, pair, name) kcb_##fe##__##pair##__##name
#define KCB_SYM(fe, pair, name)	KCB_SYM_(fe, pair, name)
#define KCB_RET_IP()		((uintptr_t)__builtin_return_address(0))
#define KCB_HOOK		kcb_notrace kcb_noinline

#ifdef FE_SHAPE
#define KCB_FE_SHAPE		FE_SHAPE
#else
#define KCB_FE_SHAPE		NULL
#endif
#define KCB_STR_(x)		#x
#define KCB_STR(x)		KCB_STR_(x)

const struct kcb_frontend KCB_CAT(kcb_fe_, FE) = {
	FE_NAME, FE_ORIGIN, FE_PROPOSAL, FE_IRQ_POLICY, FE_SWITCH_LAYOUT,
	.id = KCB_STR(FE), .shape = KCB_FE_SHAPE,
	.switch_per_case = FE_SWITCH_PER_CASE, .indirect = FE_INDIRECT,
	.cmp_call = FE_CMP_CALL, .switch_val_const = FE_SWITCH_VAL_CONST,
	.guard = FE_GUARD, .uniq_hash = FE_UNIQ_HASH,
};

#define KCB_CMP_HOOK(P, name, T, type)					\
KCB_HOOK void KCB_SYM(FE, P, name)(T a1, T a2)				\
{										\
	KCB_SYM(FE, P, cmp)(type, a1, a2, KCB_RET_IP());			\
}

/* A claim that is not shareable moves under the owner's lock. */
#define KCB_MOVE(claim, stride) do {						\
	if (!CLAIM_##claim##_SHAREABLE)						\
		kcb_spin_lock_irqsave(&dst->lock, f);				\
	claim_##claim##_copy(d, dst, src, stride);				\
	if (!CLAIM_##claim##_SHAREABLE)						\
		kcb_spin_unlock_irqrestore(&dst->lock, f);			\
} while (0)

/* The unique mode's hook (FE_GUARD): in trace-pc mode it records as
 * trace_pc does, in the unique mode only a guard's first call. */
#define KCB_PAIR_GUARD(P, pname, pcc, cmpc, control)				\
KCB_HOOK void KCB_SYM(FE, P, trace_pc_guard)(uint32_t *guard)		\
{										\
	uintptr_t ret = KCB_RET_IP();						\
	struct kcb_sink s;							\
	unsigned int m = fe_lookup_guard(&s);					\
										\
	if (m == KCB_MODE_TRACE_UNIQUE_PC ? FE_GUARD_FIRST(s.t, guard) :	\
	    m == KCB_MODE_TRACE_PC)						\
		claim_##pcc##_rec(s, KCB_STRIDE_PC, FE_PC(ret), 0, 0, 0);	\
}										\
kcb_noinline void KCB_SYM(FE, P, loop_guard)(uint64_t n, uint32_t *guards,	\
    uint64_t mask)								\
{										\
	for (uint64_t i = 0; i < n; i++)					\
		KCB_SYM(FE, P, trace_pc_guard)(&guards[i & mask]);		\
}
#if FE_GUARD
KCB_PAIRS(KCB_PAIR_GUARD)
#define KCB_GUARD_FIELDS(P)							\
	.trace_pc_guard = KCB_SYM(FE, P, trace_pc_guard),			\
	.loop_guard = KCB_SYM(FE, P, loop_guard),
#else
#define KCB_GUARD_FIELDS(P)
#endif

/* Jiao's unique mode (FE_UNIQ_HASH): trace_pc's body (impl_pc, below)
 * for the return addresses rets[i & mask], many PCs from one loop. */
#define KCB_PAIR_PC_AT(P, pname, pcc, cmpc, control)				\
KCB_HOOK void KCB_SYM(FE, P, impl_pc)(uintptr_t ret);			\
kcb_noinline void KCB_SYM(FE, P, loop_pc_at)(uint64_t n,			\
    const uintptr_t *rets, uint64_t mask)					\
{										\
	for (uint64_t i = 0; i < n; i++)					\
		KCB_SYM(FE, P, impl_pc)(rets[i & mask]);			\
}
#if FE_UNIQ_HASH
KCB_PAIRS(KCB_PAIR_PC_AT)
#define KCB_PC_AT_FIELDS(P)	.loop_pc_at = KCB_SYM(FE, P, loop_pc_at),
#else
#define KCB_PC_AT_FIELDS(P)
#endif

/* A comparison tracer: FreeBSD's cov_trace_cmp, our impl_cmp. */
typedef bool (*kcb_cmp_tracer)(uint64_t type, uint64_t a1, uint64_t a2, uintptr_t ret);

/* trace_switch's record type for a switch on cases[1] bits; any other
 * width (no compiler emits one) records nothing. */
#define KCB_SWITCH_TYPE(bits, type) do {					\
	switch (bits) {								\
	case 8:  type = KCB_CMP_SIZE(0); break;					\
	case 16: type = KCB_CMP_SIZE(1); break;					\
	case 32: type = KCB_CMP_SIZE(2); break;					\
	case 64: type = KCB_CMP_SIZE(3); break;					\
	default: return;							\
	}									\
} while (0)

/* The pair's tracers: do_pc/do_cmp inline, impl_pc/impl_cmp out of line
 * (FreeBSD's cov_trace_pc/cov_trace_cmp targets, and the out-of-line
 * write_comp_data() of FE_CMP_CALL), fp_pc/fp_cmp the pointers to them. */
#define KCB_PAIR_TRACERS(P, pcc, cmpc)						\
static __always_inline void KCB_SYM(FE, P, do_pc)(uintptr_t ret)		\
{										\
	struct kcb_sink s;							\
										\
	if (FE_PC_REC(&s, ret))						\
		claim_##pcc##_rec(s, KCB_STRIDE_PC, FE_PC_RECORD(&s, ret), 0, 0, 0); \
}										\
static __always_inline bool KCB_SYM(FE, P, do_cmp)(uint64_t type,		\
    uint64_t a1, uint64_t a2, uintptr_t ret)					\
{										\
	struct kcb_sink s;							\
										\
	return fe_lookup(KCB_MODE_TRACE_CMP, &s) &&				\
	    claim_##cmpc##_rec(s, KCB_STRIDE_CMP, type, a1, a2, FE_PC(ret));	\
}										\
KCB_HOOK void KCB_SYM(FE, P, impl_pc)(uintptr_t ret)			\
{										\
	KCB_SYM(FE, P, do_pc)(ret);						\
}										\
KCB_HOOK bool KCB_SYM(FE, P, impl_cmp)(uint64_t type, uint64_t a1,	\
    uint64_t a2, uintptr_t ret)							\
{										\
	return KCB_SYM(FE, P, do_cmp)(type, a1, a2, ret);			\
}										\
void (*KCB_SYM(FE, P, fp_pc))(uintptr_t) = KCB_SYM(FE, P, impl_pc);	\
kcb_cmp_tracer KCB_SYM(FE, P, fp_cmp) = KCB_SYM(FE, P, impl_cmp);

/* trace_pc: through FreeBSD's pointer, or the tracer inline. */
#define KCB_PAIR_TRACE_PC(P)							\
KCB_HOOK void KCB_SYM(FE, P, trace_pc)(void)				\
{										\
	if (FE_INDIRECT) {							\
		void (*fn)(uintptr_t) = READ_ONCE(KCB_SYM(FE, P, fp_pc));	\
		if (fn)								\
			fn(KCB_RET_IP());					\
	} else {								\
		KCB_SYM(FE, P, do_pc)(KCB_RET_IP());				\
	}									\
}

/* How a comparison reaches the tracer (FE_INDIRECT, FE_CMP_CALL, or
 * inline), and the eight trace_cmp hooks on it. */
#define KCB_PAIR_CMP_HOOKS(P)							\
static __always_inline void KCB_SYM(FE, P, cmp)(uint64_t type,		\
    uint64_t a1, uint64_t a2, uintptr_t ret)					\
{										\
	if (FE_INDIRECT) {							\
		kcb_cmp_tracer fn = READ_ONCE(KCB_SYM(FE, P, fp_cmp));	\
		if (fn)								\
			fn(type, a1, a2, ret);					\
	} else if (FE_CMP_CALL) {						\
		KCB_SYM(FE, P, impl_cmp)(type, a1, a2, ret);			\
	} else {								\
		KCB_SYM(FE, P, do_cmp)(type, a1, a2, ret);			\
	}									\
}										\
KCB_CMP_HOOK(P, trace_cmp1, uint8_t, KCB_CMP_SIZE(0))			\
KCB_CMP_HOOK(P, trace_cmp2, uint16_t, KCB_CMP_SIZE(1))			\
KCB_CMP_HOOK(P, trace_cmp4, uint32_t, KCB_CMP_SIZE(2))			\
KCB_CMP_HOOK(P, trace_cmp8, uint64_t, KCB_CMP_SIZE(3))			\
KCB_CMP_HOOK(P, trace_const_cmp1, uint8_t, KCB_CMP_SIZE(0) | KCB_CMP_CONST)	\
KCB_CMP_HOOK(P, trace_const_cmp2, uint16_t, KCB_CMP_SIZE(1) | KCB_CMP_CONST) \
KCB_CMP_HOOK(P, trace_const_cmp4, uint32_t, KCB_CMP_SIZE(2) | KCB_CMP_CONST) \
KCB_CMP_HOOK(P, trace_const_cmp8, uint64_t, KCB_CMP_SIZE(3) | KCB_CMP_CONST)

/*
 * trace_switch, cases[] = {n, bits, case...}: a record per case, {SIZE(n)
 * | CONST, case, val}, through the pair's cmp (the lookup and record per
 * case) or its claim alone into the one lookup's sink; FreeBSD's form
 * calls its tracer pointer with {SIZE(n), val | CONST, case}.  A macro,
 * not an inline function taking the claim: GCC inlines a claim passed by
 * pointer only after its always_inline pass, which changes the once-lookup
 * front ends' code (scripts/hooks-dis-same).
 */
#define KCB_PAIR_SWITCH(P, cmpc)						\
KCB_HOOK void KCB_SYM(FE, P, trace_switch)(uint64_t val, uint64_t *cases)	\
{										\
	uintptr_t ret = KCB_RET_IP();						\
	uint64_t i, ncases, type;						\
	struct kcb_sink s = { 0 };						\
	kcb_cmp_tracer fn = NULL;						\
										\
	/* OpenBSD looks the descriptor up once, before decoding; FreeBSD	\
	 * loads cov_trace_cmp once, before decoding. */			\
	if (!FE_SWITCH_PER_CASE && !FE_SWITCH_LOOKUP(&s))			\
		return;								\
	if (FE_SWITCH_VAL_CONST && !(fn = READ_ONCE(KCB_SYM(FE, P, fp_cmp)))) \
		return;								\
	ncases = cases[0];							\
	KCB_SWITCH_TYPE(cases[1], type);					\
	if (FE_SWITCH_VAL_CONST) {						\
		val |= KCB_CMP_CONST;						\
		for (i = 0; i < ncases; i++)					\
			if (!fn(type, val, cases[i + 2], ret))			\
				return;						\
		return;								\
	}									\
	type |= KCB_CMP_CONST;							\
	for (i = 0; i < ncases; i++) {						\
		if (FE_SWITCH_PER_CASE)						\
			KCB_SYM(FE, P, cmp)(type, cases[i + 2], val, ret);	\
		else								\
			claim_##cmpc##_rec(s, KCB_STRIDE_CMP, type,		\
			    cases[i + 2], val, FE_PC(ret));			\
	}									\
}

/* The loops that call the hooks directly, from one call site each. */
#define KCB_PAIR_LOOPS(P)							\
kcb_noinline void KCB_SYM(FE, P, loop_pc)(uint64_t n)			\
{										\
	for (uint64_t i = 0; i < n; i++)					\
		KCB_SYM(FE, P, trace_pc)();					\
}										\
kcb_noinline void KCB_SYM(FE, P, loop_cmp)(uint64_t n, uint64_t tag)	\
{										\
	for (uint64_t i = 0; i < n; i++)					\
		KCB_SYM(FE, P, trace_cmp8)(tag, i);				\
}										\
kcb_noinline void KCB_SYM(FE, P, loop_switch)(uint64_t n, uint64_t *cases) \
{										\
	for (uint64_t i = 0; i < n; i++)					\
		KCB_SYM(FE, P, trace_switch)(i, cases);			\
}

#define KCB_PAIR_MOVE(P, pcc, cmpc)						\
kcb_noinline void KCB_SYM(FE, P, move)(struct kcb_dev *dst,		\
    const uint64_t *src, int stride)						\
{										\
	struct kcb_sink d = kcb_sink_of(dst);					\
	kcb_irqflags_t f = 0;							\
										\
	if (stride == KCB_STRIDE_PC)						\
		KCB_MOVE(pcc, KCB_STRIDE_PC);					\
	else									\
		KCB_MOVE(cmpc, KCB_STRIDE_CMP);					\
}

/* What registry.c and the rest see: the pair's description and the combo. */
#define KCB_PAIR_DESC(P, pname, pcc, cmpc, control)				\
static const struct kcb_pair KCB_SYM(FE, P, pairdesc) = {			\
	pname, CLAIM_##pcc##_ORIGIN, CLAIM_##cmpc##_ORIGIN,			\
	CLAIM_##pcc##_SHAREABLE, CLAIM_##cmpc##_SHAREABLE,			\
	control == KCB_CONTROL_BROKEN, control == KCB_CONTROL_PLANTED,	\
	control == KCB_PROPOSAL, CLAIM_##pcc##_PADDED, CLAIM_##cmpc##_PADDED,	\
	#P, #pcc, #cmpc, CLAIM_##pcc##_SHAPE, CLAIM_##cmpc##_SHAPE		\
};										\
const struct kcb_combo KCB_SYM(FE, P, combo) = {				\
	.fe = &KCB_CAT(kcb_fe_, FE),						\
	.pair = &KCB_SYM(FE, P, pairdesc),					\
	.trace_pc = KCB_SYM(FE, P, trace_pc),				\
	.trace_cmp1 = KCB_SYM(FE, P, trace_cmp1),				\
	.trace_cmp2 = KCB_SYM(FE, P, trace_cmp2),				\
	.trace_cmp4 = KCB_SYM(FE, P, trace_cmp4),				\
	.trace_cmp8 = KCB_SYM(FE, P, trace_cmp8),				\
	.trace_const_cmp1 = KCB_SYM(FE, P, trace_const_cmp1),		\
	.trace_const_cmp2 = KCB_SYM(FE, P, trace_const_cmp2),		\
	.trace_const_cmp4 = KCB_SYM(FE, P, trace_const_cmp4),		\
	.trace_const_cmp8 = KCB_SYM(FE, P, trace_const_cmp8),		\
	.trace_switch = KCB_SYM(FE, P, trace_switch),			\
	.loop_pc = KCB_SYM(FE, P, loop_pc),					\
	.loop_cmp = KCB_SYM(FE, P, loop_cmp),				\
	.loop_switch = KCB_SYM(FE, P, loop_switch),				\
	.move = KCB_SYM(FE, P, move),					\
	KCB_GUARD_FIELDS(P)							\
	KCB_PC_AT_FIELDS(P)							\
};

/* One claim pair with this front end, in the order the functions have
 * always been emitted (build/hooks.dis compares addresses). */
#define KCB_PAIR(P, pname, pcc, cmpc, control)				\
	KCB_PAIR_TRACERS(P, pcc, cmpc)						\
	KCB_PAIR_TRACE_PC(P)							\
	KCB_PAIR_CMP_HOOKS(P)							\
	KCB_PAIR_SWITCH(P, cmpc)						\
	KCB_PAIR_LOOPS(P)							\
	KCB_PAIR_MOVE(P, pcc, cmpc)						\
	KCB_PAIR_DESC(P, pname, pcc, cmpc, control)

KCB_PAIRS(KCB_PAIR)

/* This front end's combos, in claims.h order, for registry.c. */
#define KCB_REF_COMBO(P, pname, pcc, cmpc, control) &KCB_SYM(FE, P, combo),
const struct kcb_combo *const KCB_CAT(kcb_combos_, FE)[] = { KCB_PAIRS(KCB_REF_COMBO) };

