/* SPDX-License-Identifier: MIT */
/*
 * claim "cas": OpenBSD sys/dev/kcov.c rev 1.49, kd_claim().
 * Load the count, then CAS it forward; retry on a lost race.  Safe on a
 * buffer shared by remote sections.  Bound: stride * (idx + n) > kd_nmemb.
 */
#define CLAIM_cas_SHAREABLE	1
#define CLAIM_cas_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_cas_ORIGIN	"OpenBSD sys/dev/kcov.c rev 1.49 kd_claim()"
/* traced path: a locked RMW per record; tests/test_shape.py checks it */
#define CLAIM_cas_SHAPE	"atomic=1 calls=0"

/* Index of the first claimed word, or 0 when it does not fit. */
static __always_inline uint64_t cas_claim(struct kcb_sink s, int stride, uint64_t n)
{
	uint64_t idx = READ_ONCE(s.buf[0]), was;

	for (;;) {
		if (stride * (idx + n) > s.nmemb)
			return 0;
		was = kcb_cmpxchg(&s.buf[0], idx, idx + n);
		if (was == idx)
			return idx * stride + 1;
		idx = was;
	}
}

static __always_inline bool claim_cas_rec(struct kcb_sink s, const int stride,
    uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	uint64_t idx = cas_claim(s, stride, 1);

	if (!idx)
		return false;
	s.buf[idx] = w0;
	if (stride == KCB_STRIDE_CMP) {
		s.buf[idx + 1] = w1;
		s.buf[idx + 2] = w2;
		s.buf[idx + 3] = w3;
	}
	return true;
}

/* kd_copy(): claim all n records at once, then copy; all or nothing. */
static __always_inline void claim_cas_copy(struct kcb_sink dst, struct kcb_dev *kd,
    const uint64_t *src, const int stride)
{
	uint64_t n = src[0], idx;

	if (n == 0)
		return;
	idx = cas_claim(dst, stride, n);
	if (!idx) {
		kcb_fetch_add(&kd->lost, n);
		return;
	}
	memcpy(&dst.buf[idx], &src[1], stride * n * sizeof(uint64_t));
}
