/* SPDX-License-Identifier: MIT */
/*
 * claim "fadd": no upstream origin.  One fetch-add takes the slot: the
 * floor for an atomic claim, to show what cas's retries cost.  A claim that
 * overshoots the end stores nothing; the count then exceeds what fits, so
 * a reader clamps it to nmemb / stride (only under a racing overflow).
 */
#define CLAIM_fadd_SHAREABLE	1
#define CLAIM_fadd_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_fadd_ORIGIN	"none upstream: fetch-add baseline"
/* traced path: a locked RMW per record; tests/test_shape.py checks it */
#define CLAIM_fadd_SHAPE	"atomic=1 calls=0"

static __always_inline bool claim_fadd_rec(struct kcb_sink s, const int stride,
    uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	uint64_t idx;

	if (stride * (READ_ONCE(s.buf[0]) + 1) > s.nmemb)
		return false;
	idx = kcb_fetch_add(&s.buf[0], 1);
	if (stride * (idx + 1) > s.nmemb)
		return false;
	idx = idx * stride + 1;
	s.buf[idx] = w0;
	if (stride == KCB_STRIDE_CMP) {
		s.buf[idx + 1] = w1;
		s.buf[idx + 2] = w2;
		s.buf[idx + 3] = w3;
	}
	return true;
}

#define claim_fadd_copy claim_cas_copy
