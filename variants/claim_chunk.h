/* SPDX-License-Identifier: MIT */
/*
 * claim "chunk": PROPOSAL for buffers several threads share, OpenBSD
 * sys/dev/kcov.c rev 1.49 kd_claim() (which already takes nmemb).
 * A writer reserves kcb_chunk_records records with one CAS on the count
 * word and fills them with plain stores from a cursor in its own task
 * (p_kd_chunk upstream).  Leaving a section or disabling closes the part-
 * filled chunk (kcb_chunk_close(): its unfilled slots become zero).
 *
 * What a reader sees, differently from kd_claim():
 *  - The count covers reserved slots.  After every writer has left (the
 *    point at which a reader reads today: KIODISABLE, remote leave), each
 *    unfilled slot is a zero record: PC 0, or a cmp record {0, 0, 0, 0}
 *    (type 0 with PC 0); no hook writes PC 0, so a reader skips them.
 *    While a writer is still inside, its unfilled slots hold what the
 *    buffer held before (zero in a fresh buffer, an old record after a
 *    reset): a reader must not parse a buffer live, and must not reset
 *    the count while a writer holds a chunk (its slots would be claimed
 *    twice).
 *  - Order: records are in time order within a chunk, not across threads;
 *    a run of up to K records of one thread sits between other threads'.
 *  - Overflow: the last reservation takes what fits, so the buffer fills
 *    to its end; but a thread still holding slots keeps recording after
 *    other threads' claims fail, so the kept records are not the earliest
 *    ones across threads.
 * The cursor is count-first like Linux's claim: an interrupt on the same
 * task takes the next slot, never this one.
 */
#define CLAIM_chunk_SHAREABLE	1
#define CLAIM_chunk_ORIGIN	"patch to OpenBSD sys/dev/kcov.c rev 1.49 kd_claim(): K records per CAS, plain stores"
/* traced path: no atomic; one call, to the refill, once per K records;
 * tests/test_shape.py checks it */
#define CLAIM_chunk_SHAPE	"atomic=0 calls=1"
/* A reader skips zero records (kcb_chunk_close()). */
#define CLAIM_chunk_PADDED	1

/* Reserve up to kcb_chunk_records records of stride words; false when
 * none fit.  Out of line: the hook's common path stays free of the CAS. */
static kcb_notrace kcb_noinline bool claim_chunk_refill(struct kcb_task *t,
    uint64_t *buf, uint64_t nmemb, int stride)
{
	uint64_t idx, was, take, fits = nmemb / stride;
	/* Interrupts off: one on this task must not refill the cursor while
	 * this refill has it half set (cost: once per chunk). */
	kcb_irqflags_t f = kcb_local_irq_save();

	kcb_chunk_close(t);
	for (idx = READ_ONCE(buf[0]);; idx = was) {
		if (idx >= fits) {
			kcb_local_irq_restore(f);
			return false;
		}
		take = fits - idx < kcb_chunk_records ? fits - idx : kcb_chunk_records;
		was = kcb_cmpxchg(&buf[0], idx, idx + take);
		if (was == idx)
			break;
	}
	t->ck_pos = 1 + idx * stride;
	t->ck_end = t->ck_pos + take * stride;
	t->ck_buf = buf;
	kcb_local_irq_restore(f);
	return true;
}

static kcb_notrace kcb_noinline bool claim_chunk_broken_refill(struct kcb_task *t,
    struct kcb_sink s, const int stride);

/* The record path of chunk and of its broken control (broken: a constant,
 * so each gets only its own refill). */
static __always_inline bool chunk_rec(struct kcb_sink s, const int stride,
    uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, const int broken)
{
	struct kcb_task *t = s.t;
	uint64_t pos = READ_ONCE(t->ck_pos);

	if (unlikely(READ_ONCE(t->ck_buf) != s.buf || pos >= t->ck_end)) {
		/* scalars, not the sink: the common path stores nothing */
		if (!(broken ? claim_chunk_broken_refill(t, s, stride) :
		    claim_chunk_refill(t, s.buf, s.nmemb, stride)))
			return false;
		pos = READ_ONCE(t->ck_pos);
	}
	WRITE_ONCE(t->ck_pos, pos + stride);
	barrier();
	s.buf[pos] = w0;
	if (stride == KCB_STRIDE_CMP) {
		s.buf[pos + 1] = w1;
		s.buf[pos + 2] = w2;
		s.buf[pos + 3] = w3;
	}
	return true;
}

static __always_inline bool claim_chunk_rec(struct kcb_sink s, const int stride,
    uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	return chunk_rec(s, stride, w0, w1, w2, w3, 0);
}

/* kd_copy(): one CAS for the whole per-CPU buffer, as kd_claim(nmemb). */
#define claim_chunk_copy	claim_cas_copy

/*
 * claim "chunk-broken": DELIBERATELY BROKEN chunk, its reservation a plain
 * read and write of the count instead of a CAS (through broken-racy's
 * held-open window, so that two writers reserve the same first chunk and
 * the shared twin catches it on its first attempt).
 */
#define CLAIM_chunk_broken_SHAREABLE	1
#define CLAIM_chunk_broken_PADDED	1
#define CLAIM_chunk_broken_ORIGIN	"kcovbench: broken control (chunk, reserved without an atomic)"
#define CLAIM_chunk_broken_SHAPE	"atomic=0 calls=1"

static kcb_notrace kcb_noinline bool claim_chunk_broken_refill(struct kcb_task *t,
    struct kcb_sink s, const int stride)
{
	uint64_t idx = READ_ONCE(s.buf[0]), take, fits = s.nmemb / stride;

	kcb_chunk_close(t);
	claim_broken_racy_window(s, idx);
	if (idx >= fits)
		return false;
	take = fits - idx < kcb_chunk_records ? fits - idx : kcb_chunk_records;
	WRITE_ONCE(s.buf[0], idx + take);
	t->ck_pos = 1 + idx * stride;
	t->ck_end = t->ck_pos + take * stride;
	t->ck_buf = s.buf;
	return true;
}

static __always_inline bool claim_chunk_broken_rec(struct kcb_sink s,
    const int stride, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	return chunk_rec(s, stride, w0, w1, w2, w3, 1);
}

#define claim_chunk_broken_copy	claim_cas_copy
