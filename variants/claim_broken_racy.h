/* SPDX-License-Identifier: MIT */
/*
 * claim "broken-racy": DELIBERATELY BROKEN (locktorture's lock_busted idea).
 * Linux's owner-only count-first claim, but it claims to be shareable, so
 * the harness lets several threads write one buffer through it.  Racing
 * read-increment-write loses counts and overwrites records.  The shared-
 * buffer twin must catch it on its first attempt, on a busy machine too;
 * nothing else may use it.
 *
 * A race that is left to chance escaped single attempts (3 of 50 caught at
 * 5,000 records), so the first write into an empty buffer holds its window
 * open: it has read count 0 and waits, yielding, until a second writer has
 * read count 0 of the same buffer too.  Both then write slot 1, and the
 * later one undoes the other's count.  A writer that finds no partner within
 * BROKEN_RACY_SPINS gives up, so a single thread is only slowed down.
 */
#define CLAIM_broken_racy_SHAREABLE	1
#define CLAIM_broken_racy_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_broken_racy_ORIGIN	"kcovbench: broken control (non-atomic claim on a shared buffer)"
/* traced path: a locked RMW per record; tests/test_shape.py checks it */
#define CLAIM_broken_racy_SHAPE	"atomic=1 calls=1"

#define BROKEN_RACY_SPINS	(1ul << 20)

/* [a] the buffer whose first claim is holding its window open, or 0 */
static uint64_t claim_broken_racy_holder;

static __always_inline void claim_broken_racy_window(struct kcb_sink s,
    uint64_t count)
{
	uint64_t key = (uint64_t)(uintptr_t)s.buf, held;
	unsigned long spins;

	if (count != 0)
		return;
	held = kcb_cmpxchg(&claim_broken_racy_holder, 0, key);
	if (held == key) {
		/* The partner: release the holder; both write slot 1. */
		kcb_cmpxchg(&claim_broken_racy_holder, key, 0);
		return;
	}
	if (held != 0)
		return;		/* another buffer holds the window */
	for (spins = 0; spins < BROKEN_RACY_SPINS &&
	    READ_ONCE(claim_broken_racy_holder) == key; spins++)
		kcb_relax();
	kcb_cmpxchg(&claim_broken_racy_holder, key, 0);
}

static __always_inline bool claim_broken_racy_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	uint64_t count = READ_ONCE(s.buf[0]);
	uint64_t start = 1 + count * stride;

	claim_broken_racy_window(s, count);
	if (likely(start + stride <= s.nwords)) {
		WRITE_ONCE(s.buf[0], count + 1);
		barrier();
		s.buf[start] = w0;
		if (stride == KCB_STRIDE_CMP) {
			s.buf[start + 1] = w1;
			s.buf[start + 2] = w2;
			s.buf[start + 3] = w3;
		}
		return true;
	}
	return false;
}

#define claim_broken_racy_copy	claim_plain_count_first_copy
