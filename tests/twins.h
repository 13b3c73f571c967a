/* SPDX-License-Identifier: MIT */
/*
 * twins.h - correctness twins of every combo, written against the contract
 * so that the same checks run in userland and inside the module.
 * Each returns 0 on success or the number of problems found, and logs them.
 */
#ifndef KCB_TWINS_H
#define KCB_TWINS_H

#include "../variants/variant.h"

/* (a) per-thread buffers: own sequence, exact count, clean overflow. */
int twin_per_thread(const struct kcb_combo *c, int nthreads, uint64_t nrec);
/* (b) one shared buffer: nothing lost, duplicated or torn; exact count. */
int twin_shared(const struct kcb_combo *c, int nthreads, uint64_t nrec);
/* The broken control, one attempt: 1 iff the identity check of (b) fired. */
int twin_broken_caught(const struct kcb_combo *c, int nthreads, uint64_t nrec);
/* (d) a move into a buffer whose count word is past capacity. */
int twin_move_bad_count(const struct kcb_combo *c);
/* (c) trace-cmp record layout and type encoding, switch included. */
int twin_cmp_layout(const struct kcb_combo *c);
/* (e) The unique mode (combos with trace_pc_guard only): one record per
 * guard, every call in trace-pc mode, none in trace-cmp mode. */
int twin_unique(const struct kcb_combo *c);
/* (f) Jiao's unique mode (combos with loop_pc_at only): one record per PC
 * per descriptor, bucket chains, overflow, the other modes. */
int twin_uniq_hash(const struct kcb_combo *c);
/* A broken front end's control (kcb_broken_fe_combos): its proposal's twin
 * (unique for one with trace_pc_guard, uniq-hash for one with loop_pc_at,
 * else cmp-layout); non-zero if caught. */
int twin_broken_fe(const struct kcb_combo *c);

#endif
