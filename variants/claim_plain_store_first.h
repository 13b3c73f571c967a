/* SPDX-License-Identifier: MIT */
/*
 * claim "plain-store-first": Linux kernel/kcov.c before v6.0 (v5.x
 * __sanitizer_cov_trace_pc()/write_comp_data()); NetBSD subr_kcov.c and
 * FreeBSD kern_kcov.c trace_pc() have the same shape.
 * Store the record, then publish the count.  An interrupt that recurses
 * into the hook between the two overwrites the record: the bug the 2022
 * Linux change fixed.  Bound: pos < t->kcov_size.
 */
#define CLAIM_plain_store_first_SHAREABLE	0
#define CLAIM_plain_store_first_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_plain_store_first_ORIGIN	"Linux kernel/kcov.c v5.x; NetBSD subr_kcov.c; FreeBSD kern_kcov.c trace_pc()"
/* traced path: no atomic; tests/test_shape.py checks it */
#define CLAIM_plain_store_first_SHAPE	"atomic=0 calls=0"

static __always_inline bool claim_plain_store_first_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	if (stride == KCB_STRIDE_PC) {
		uint64_t pos = READ_ONCE(s.buf[0]) + 1;

		if (likely(pos < s.nwords)) {
			s.buf[pos] = w0;
			WRITE_ONCE(s.buf[0], pos);
			return true;
		}
	} else {
		uint64_t count = READ_ONCE(s.buf[0]);
		uint64_t start = 1 + count * KCB_STRIDE_CMP;
		uint64_t end_pos = (start + KCB_STRIDE_CMP) * sizeof(uint64_t);

		if (likely(end_pos <= s.nwords * sizeof(uint64_t))) {
			s.buf[start] = w0;
			s.buf[start + 1] = w1;
			s.buf[start + 2] = w2;
			s.buf[start + 3] = w3;
			WRITE_ONCE(s.buf[0], count + 1);
			return true;
		}
	}
	return false;
}

/* The move of plain-count-first, under the owner's lock, as v5.x had it:
 * no smp_wmb() (that came in v6.18). */
#define claim_plain_store_first_copy claim_plain_count_first_copy_pre618
