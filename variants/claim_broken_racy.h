/* SPDX-License-Identifier: MIT */
/*
 * claim "broken-racy": DELIBERATELY BROKEN (locktorture's lock_busted idea).
 * Linux's owner-only count-first claim, but it claims to be shareable, so
 * the harness lets several threads write one buffer through it.  Racing
 * read-increment-write loses counts and overwrites records.  The shared-
 * buffer twin must catch it on every run; nothing else may use it.
 */
#define CLAIM_broken_racy_SHAREABLE	1
#define CLAIM_broken_racy_ORIGIN	"kcovbench: broken control (non-atomic claim on a shared buffer)"

#define claim_broken_racy_rec	claim_plain_count_first_rec
#define claim_broken_racy_copy	claim_plain_count_first_copy
