/* SPDX-License-Identifier: MIT */
/*
 * claim "plain-count-first": Linux kernel/kcov.c since 2022 (v6.0,
 * __sanitizer_cov_trace_pc() and write_comp_data()).
 * No atomics: one task owns the buffer.  Publish the count first, then a
 * compiler barrier, then the record, so an interrupt that recurses into the
 * hook after the count is published cannot overwrite this record.
 * Bound: pos < t->kcov_size (words, count word included).
 */
#define CLAIM_plain_count_first_SHAREABLE	0
#define CLAIM_plain_count_first_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_plain_count_first_ORIGIN	"Linux kernel/kcov.c v6.0+ __sanitizer_cov_trace_pc()/write_comp_data()"
/* traced path: no atomic; tests/test_shape.py checks it */
#define CLAIM_plain_count_first_SHAPE	"atomic=0 calls=0"

static __always_inline bool claim_plain_count_first_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	if (stride == KCB_STRIDE_PC) {
		uint64_t pos = READ_ONCE(s.buf[0]) + 1;

		if (likely(pos < s.nwords)) {
			WRITE_ONCE(s.buf[0], pos);
			barrier();
			s.buf[pos] = w0;
			return true;
		}
	} else {
		uint64_t count = READ_ONCE(s.buf[0]);
		uint64_t start = 1 + count * KCB_STRIDE_CMP;
		uint64_t end_pos = (start + KCB_STRIDE_CMP) * sizeof(uint64_t);

		if (likely(end_pos <= s.nwords * sizeof(uint64_t))) {
			WRITE_ONCE(s.buf[0], count + 1);
			barrier();
			s.buf[start] = w0;
			s.buf[start + 1] = w1;
			s.buf[start + 2] = w2;
			s.buf[start + 3] = w3;
			return true;
		}
	}
	return false;
}

/*
 * kcov_move_area(): append what fits, truncating the rest; the caller holds
 * the owner's lock (kcov->lock), since nothing here is atomic.  The count
 * word is in the owner's mmap()ed buffer, so userspace can write anything
 * there: upstream returns without copying when it is past capacity
 * (dst_len > (size - count) >> entry_size_log), else room underflows.
 *
 * wmb: since v6.18 (commit c2fe368b6eb2, Soham Bagchi's patch mailed
 * 28 July 2025, taken by akpm; the version is issue 25's) an smp_wmb()
 * sits between the memcpy() and the count's WRITE_ONCE(), so that a
 * reader that loads the count with acquire (kcov.rst's example since the
 * companion commit "kcov: load acquire coverage count in user-space code")
 * sees the records it counts.  v5.5 .. v6.17 have none.  On x86 smp_wmb()
 * is barrier(): no instruction, and the move compiles to the same code
 * (tests/test_shape.py, MoveAreaBarrier).
 */
static __always_inline void lnx_move_area_copy(struct kcb_sink dst,
    struct kcb_dev *kd, const uint64_t *src, const int stride, const bool wmb)
{
	uint64_t used = READ_ONCE(dst.buf[0]);
	uint64_t cap = (dst.nwords - 1) / stride;
	uint64_t room, n = src[0], take;

	if (used > cap) {
		kd->lost += n;		/* kcovbench's count; upstream drops silently */
		return;
	}
	room = cap - used;
	take = n < room ? n : room;

	memcpy(&dst.buf[1 + used * stride], &src[1], take * stride * sizeof(uint64_t));
	if (wmb)
		kcb_smp_wmb();
	WRITE_ONCE(dst.buf[0], used + take);
	kd->lost += n - take;
}

/* v6.18+ (and every 2026 tree the remote designs copy): with the smp_wmb() */
static __always_inline void claim_plain_count_first_copy(struct kcb_sink dst,
    struct kcb_dev *kd, const uint64_t *src, const int stride)
{
	lnx_move_area_copy(dst, kd, src, stride, true);
}

/* v5.5 .. v6.17 (Debian's 6.1 and 6.12 among them): without it */
static __always_inline void claim_plain_count_first_copy_pre618(struct kcb_sink dst,
    struct kcb_dev *kd, const uint64_t *src, const int stride)
{
	lnx_move_area_copy(dst, kd, src, stride, false);
}
