/* SPDX-License-Identifier: MIT */
/*
 * variant.h - what the rest of kcovbench sees of a variant: the registry of
 * front ends, claim pairs, their combinations and upstream configurations.
 */
#ifndef KCB_VARIANT_H
#define KCB_VARIANT_H

#include "../hotpath/kcb.h"
/* the proposals' mechanisms, beside their variants */
#include "uniq_guard.h"
#include "uniq_hash.h"
#include "chunk.h"

/*
 * A front end's declarations that the twins check it against (FE_IRQ_POLICY
 * and FE_SWITCH_LAYOUT in its fe_<id>.c), each named after the OS rule it
 * copies: the tests know rules, never front-end names.
 */
enum kcb_irq_policy {
	/* OpenBSD kd_curproc(): in a task, or in an interrupt when the
	 * descriptor's remote runs there (inintr(ci) && !kd_intr rejects) */
	KCB_IRQ_TASK_OR_KD_INTR = 1,
	/* Linux check_kcov_mode(): in a task, or in a softirq whose remote
	 * section set t->kcov_softirq */
	KCB_IRQ_TASK_OR_KCOV_SOFTIRQ,
	/* FreeBSD get_kinfo() (td_intr_nesting_level, td_intr_frame), NetBSD
	 * (ci_idepth >= 0): never in an interrupt */
	KCB_IRQ_TASK_ONLY,
};
enum kcb_switch_layout {
	/* Linux write_comp_data(), NetBSD trace_cmp(), OpenBSD kcov_cmp(): one record
	 * {SIZE(n) | CONST, case, val, pc} per case */
	KCB_SWITCH_CASE_VAL = 1,
	/* FreeBSD subr_coverage.c: {SIZE(n), val | CONST, case, pc} per case */
	KCB_SWITCH_VAL_CONST_CASE,
};

struct kcb_frontend {
	const char *name;		/* "obsd-1.49" */
	const char *origin;		/* OS, file, revision */
	int proposal;			/* ours (1), or KCB_FE_UNMERGED */
	enum kcb_irq_policy irq_policy;	/* where records may be made */
	enum kcb_switch_layout switch_layout;	/* trace_switch's records */
	/* The rest of its fe_<id>.c's declarations, for `list --json`. */
	const char *id;			/* its C id: fe_<id>.c, X(<id>) */
	const char *shape;		/* FE_SHAPE (tests/shape.py), or NULL */
	unsigned char switch_per_case, indirect, cmp_call, switch_val_const;
	unsigned char guard, uniq_hash;	/* FE_GUARD, FE_UNIQ_HASH */
	int real_kernel;		/* a real kernel/kcov.o (kobj/), not a replica */
};

struct kcb_pair {
	const char *name;		/* "cas", or "pc-claim+cmp-claim" */
	const char *pc_origin, *cmp_origin;
	int shareable_pc, shareable_cmp; /* safe for many writers on one buffer */
	int broken;			/* the deliberately broken control */
	int planted;			/* the planted-effect control */
	int proposal;			/* ours, not upstream's */
	int padded_pc, padded_cmp;	/* a reader skips zero records */
	const char *id;			/* its C id in claims.h */
	const char *pc_claim, *cmp_claim;	/* the claims' ids */
	const char *pc_shape, *cmp_shape;	/* CLAIM_<id>_SHAPE */
};

/* A front end's FE_PROPOSAL for an upstream patch that was mailed but not
 * merged: kept out of the upstream rows as a proposal is, but marked as
 * upstream's in `list`, not as ours. */
#define KCB_FE_UNMERGED		2

/* claims.h's last column: a control, never a design. */
#define KCB_CONTROL_BROKEN	1
#define KCB_CONTROL_PLANTED	2
/* ... or a proposal: a design of ours, never mixed with upstream rows. */
#define KCB_PROPOSAL		3

/* One front end with one claim pair: the hooks, as the compiler calls them,
 * and the loops that call them directly (refscale-style). */
struct kcb_combo {
	const struct kcb_frontend *fe;
	const struct kcb_pair *pair;
	void (*trace_pc)(void);
	void (*trace_cmp1)(uint8_t, uint8_t);
	void (*trace_cmp2)(uint16_t, uint16_t);
	void (*trace_cmp4)(uint32_t, uint32_t);
	void (*trace_cmp8)(uint64_t, uint64_t);
	void (*trace_const_cmp1)(uint8_t, uint8_t);
	void (*trace_const_cmp2)(uint16_t, uint16_t);
	void (*trace_const_cmp4)(uint32_t, uint32_t);
	void (*trace_const_cmp8)(uint64_t, uint64_t);
	void (*trace_switch)(uint64_t, uint64_t *);
	/* n calls of trace_pc from one call site */
	void (*loop_pc)(uint64_t n);
	/* n calls of trace_cmp8(tag, i) for i in 0..n-1 */
	void (*loop_cmp)(uint64_t n, uint64_t tag);
	/* n calls of trace_switch(i, cases) */
	void (*loop_switch)(uint64_t n, uint64_t *cases);
	/* Append src's records to dst as this claim's origin does (OpenBSD
	 * kd_copy, Linux kcov_move_area), taking dst->lock if the claim needs
	 * it.  Overflow is added to dst->lost. */
	void (*move)(struct kcb_dev *dst, const uint64_t *src, int stride);
	/* The unique mode (front ends with FE_GUARD only, else NULL):
	 * __sanitizer_cov_trace_pc_guard(), and n calls of it with guard
	 * guards[i & mask]. */
	void (*trace_pc_guard)(uint32_t *guard);
	void (*loop_guard)(uint64_t n, uint32_t *guards, uint64_t mask);
	/* Jiao's unique mode (front ends with FE_UNIQ_HASH only, else NULL):
	 * n calls of trace_pc's body with return address rets[i & mask]. */
	void (*loop_pc_at)(uint64_t n, const uintptr_t *rets, uint64_t mask);
};

struct kcb_config {
	const char *name;		/* upstream configuration, or proposed-* */
	const struct kcb_combo *combo;
	int proposal;			/* a proposal's configuration */
};

extern const int kcb_ncombos;
const struct kcb_combo *kcb_combo(int i);	/* 0 .. kcb_ncombos-1 */
const struct kcb_pair *kcb_pair(int i);		/* 0 .. kcb_npairs-1 */
extern const struct kcb_config kcb_configs[];
extern const int kcb_nconfigs;
extern const struct kcb_frontend *const kcb_frontends[];
extern const int kcb_nfrontends;
/* The broken front ends' controls (frontends.h KCB_BROKEN_FRONTENDS): each
 * must fail the cmp-layout twin. */
extern const struct kcb_combo *const kcb_broken_fe_combos[];
extern const int kcb_nbroken_fe;
extern const int kcb_npairs;

/* True if any part of c is a proposal. */
static inline int kcb_combo_proposal(const struct kcb_combo *c)
{
	return c->fe->proposal || c->pair->proposal;
}

/* Look up "config" or "frontend/pair" (e.g. "netbsd/cas"); NULL if none. */
const struct kcb_combo *kcb_find(const char *name);
/* The empty hook: the harness's own cost per call. */
void kcb_empty_trace_pc(void);
void kcb_empty_loop_pc(uint64_t n);
void kcb_empty_trace_switch(uint64_t val, uint64_t *cases);
void kcb_empty_loop_switch(uint64_t n, uint64_t *cases);

#endif
