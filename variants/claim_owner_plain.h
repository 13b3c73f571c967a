/* SPDX-License-Identifier: MIT */
/*
 * claim "owner-plain": PROPOSAL for OpenBSD sys/dev/kcov.c kd_claim()
 * (rev 1.49).  Linux's count-first plain claim while the descriptor has no
 * remote attached, OpenBSD's CAS claim while one is.
 *
 * Why the choice cannot change under a hook: only a remote section writes
 * a descriptor that is not its owner's, and KIOREMOTEATTACH refuses unless
 * kd_state == KCOV_STATE_READY, i.e. before KIOENABLE (seed: kcov.c rev
 * 1.49, kcov_remote_attach()).  kd->shared (kd_kr != NULL upstream) is
 * therefore immutable while the descriptor traces, and the unshared
 * descriptor's only writers are its owner and interrupts on the owner's
 * CPU, against which count-first suffices (Linux's argument).
 * A reader sees the same buffer as with kd_claim(): nothing changes for it.
 * Patch: kd_claim() gains `if (kd->kd_kr == NULL) { plain } else { CAS }`.
 */
#define CLAIM_owner_plain_SHAREABLE	1
#define CLAIM_owner_plain_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_owner_plain_ORIGIN	"patch to OpenBSD sys/dev/kcov.c rev 1.49 kd_claim(): plain unless a remote is attached"
/* traced path, counted as the costliest branch: the CAS one while shared;
 * tests/test_shape.py checks it */
#define CLAIM_owner_plain_SHAPE	"atomic=1 calls=0"

static __always_inline bool claim_owner_plain_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	if (likely(!s.shared))
		return claim_plain_count_first_rec(s, stride, w0, w1, w2, w3);
	return claim_cas_rec(s, stride, w0, w1, w2, w3);
}

/* kd_copy() only runs for a descriptor with a remote attached. */
#define claim_owner_plain_copy claim_cas_copy

/*
 * claim "owner-plain-broken": DELIBERATELY BROKEN owner-plain, plain even
 * while a remote is attached (through broken-racy's held-open window, so
 * the shared twin catches it on its first attempt).
 */
#define CLAIM_owner_plain_broken_SHAREABLE	1
#define CLAIM_owner_plain_broken_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_owner_plain_broken_ORIGIN	"kcovbench: broken control (owner-plain, plain while a remote is attached)"
#define CLAIM_owner_plain_broken_SHAPE	"atomic=1 calls=1"

static __always_inline bool claim_owner_plain_broken_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	if (likely(!s.shared))
		return claim_plain_count_first_rec(s, stride, w0, w1, w2, w3);
	return claim_broken_racy_rec(s, stride, w0, w1, w2, w3);
}

#define claim_owner_plain_broken_copy claim_cas_copy
