/* SPDX-License-Identifier: MIT */
/*
 * claim "write-then-cas": FreeBSD sys/kern/kern_kcov.c trace_cmp()
 * (stable/13, stable/14).
 * Read the count, write the whole record at that slot, then CAS the count;
 * on a lost race, rewrite at the new slot.  Bound: index * 4 + 4 + 1 >
 * info->entries (words, count word included).
 */
/*
 * Not shareable: two writers that read the same index both fill that slot,
 * the winner's CAS publishes whichever record landed last, and the loser
 * writes again one slot on.  Safe only against same-CPU interrupts.
 */
#define CLAIM_write_then_cas_SHAREABLE	0
#define CLAIM_write_then_cas_ORIGIN	"FreeBSD sys/kern/kern_kcov.c trace_cmp()"

static __always_inline void claim_write_then_cas_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	uint64_t index;

	do {
		index = READ_ONCE(s.buf[0]);
		if (index * stride + stride + 1 > s.nwords)
			return;
		s.buf[index * stride + 1] = w0;
		if (stride == KCB_STRIDE_CMP) {
			s.buf[index * stride + 2] = w1;
			s.buf[index * stride + 3] = w2;
			s.buf[index * stride + 4] = w3;
		}
	} while (kcb_cmpxchg(&s.buf[0], index, index + 1) != index);
}

/* FreeBSD has no remote sections; a CAS claim of n records then a copy. */
#define claim_write_then_cas_copy claim_cas_copy
