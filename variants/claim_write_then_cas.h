/* SPDX-License-Identifier: MIT */
/*
 * claim "write-then-cas": FreeBSD sys/kern/kern_kcov.c trace_cmp()
 * (13.0+, trace_cmp() behind cov_register_cmp()).
 * Read the count and check the bound once; write the whole record at that
 * slot, then CAS the count; if the CAS fails, store the old count back and
 * rewrite the same slot.  Bound: index * 4 + 4 + 1 > info->entries (words,
 * count word included).
 */
/*
 * Not shareable: a loser of the CAS resets the count under a winner and
 * two writers fill one slot.  It only orders a task against interrupts on
 * its own CPU.
 */
#define CLAIM_write_then_cas_SHAREABLE	0
#define CLAIM_write_then_cas_PADDED	0	/* every slot in [1, count] holds a record */
#define CLAIM_write_then_cas_ORIGIN	"FreeBSD sys/kern/kern_kcov.c trace_cmp()"
/* traced path: a locked RMW per record; tests/test_shape.py checks it */
#define CLAIM_write_then_cas_SHAPE	"atomic=1 calls=0"

static __always_inline bool claim_write_then_cas_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	uint64_t index = READ_ONCE(s.buf[0]);

	if (index * stride + stride + 1 > s.nwords)
		return false;
	for (;;) {
		s.buf[index * stride + 1] = w0;
		if (stride == KCB_STRIDE_CMP) {
			s.buf[index * stride + 2] = w1;
			s.buf[index * stride + 3] = w2;
			s.buf[index * stride + 4] = w3;
		}
		if (kcb_cmpxchg(&s.buf[0], index, index + 1) == index)
			break;
		/* FreeBSD forces the count back and rewrites the same slot. */
		WRITE_ONCE(s.buf[0], index);
	}
	return true;
}

/* FreeBSD has no remote sections; a CAS claim of n records then a copy. */
#define claim_write_then_cas_copy claim_cas_copy
