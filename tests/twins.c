/* SPDX-License-Identifier: MIT */
/*
 * twins.c - the checks behind twins.h.  Records carry their identity
 * (trace_cmp8(thread, seq)), so a lost, duplicated or torn record shows.
 */
#include "twins.h"

#define GUARD_WORDS	8
#define CANARY		0x6b63626e63616e61ull	/* "kcbncana" */
#define CMP8_TYPE	KCB_CMP_SIZE(3)

/* A descriptor with canary words after its last word. */
static int dev_with_guard(struct kcb_dev *kd, uint64_t nwords)
{
	int err = kcb_dev_init(kd, nwords + GUARD_WORDS), i;

	if (err)
		return err;
	kd->nwords = nwords;
	kd->nmemb = nwords - 1;
	for (i = 0; i < GUARD_WORDS; i++)
		kd->buf[nwords + i] = CANARY;
	return 0;
}

static int guard_intact(const struct kcb_dev *kd)
{
	int i;

	for (i = 0; i < GUARD_WORDS; i++)
		if (kd->buf[kd->nwords + i] != CANARY)
			return 0;
	return 1;
}

struct pt_arg {
	const struct kcb_combo *c;
	uint64_t nrec;
	int errors;		/* [a] */
};

#define FAIL(a, ...) do {						\
	kcb_log(__VA_ARGS__);						\
	__atomic_fetch_add(&(a)->errors, 1, __ATOMIC_RELAXED);		\
} while (0)

/* Fill a buffer of cap records with nrec calls; check what it holds. */
static void per_thread_one(struct pt_arg *a, int idx, uint64_t cap, int mode)
{
	const struct kcb_combo *c = a->c;
	int stride = mode == KCB_MODE_TRACE_PC ? KCB_STRIDE_PC : KCB_STRIDE_CMP;
	uint64_t want = a->nrec < cap ? a->nrec : cap, i, pc;
	struct kcb_task *t = kcb_current();
	struct kcb_dev kd;

	if (dev_with_guard(&kd, cap * stride + 1)) {
		FAIL(a, "%s/%s: no memory\n", c->fe->name, c->pair->name);
		return;
	}
	kcb_task_enable(t, &kd, mode);
	for (i = 0; i < a->nrec; i++) {
		if (mode == KCB_MODE_TRACE_PC)
			c->trace_pc();
		else
			c->trace_cmp8(idx, i);
	}
	kcb_task_disable(t);
	if (kd.buf[0] != want)
		FAIL(a, "%s/%s: thread %d mode %d: count %llu, want %llu\n",
		    c->fe->name, c->pair->name, idx, mode,
		    (unsigned long long)kd.buf[0], (unsigned long long)want);
	if (!guard_intact(&kd))
		FAIL(a, "%s/%s: thread %d wrote past the end\n",
		    c->fe->name, c->pair->name, idx);
	pc = kd.buf[stride];
	for (i = 0; i < want && i < kd.buf[0]; i++) {
		uint64_t *r = &kd.buf[1 + i * stride];

		if (mode == KCB_MODE_TRACE_PC ? (r[0] != pc || pc == 0) :
		    (r[0] != CMP8_TYPE || r[1] != (uint64_t)idx || r[2] != i ||
		     r[3] != pc || pc == 0)) {
			FAIL(a, "%s/%s: thread %d record %llu is not its own\n",
			    c->fe->name, c->pair->name, idx, (unsigned long long)i);
			break;
		}
	}
	kcb_dev_fini(&kd);
}

static void per_thread_fn(int idx, void *p)
{
	struct pt_arg *a = p;

	per_thread_one(a, idx, a->nrec, KCB_MODE_TRACE_PC);
	per_thread_one(a, idx, a->nrec, KCB_MODE_TRACE_CMP);
	/* Overflow: a buffer of a third of the calls stops at its end. */
	per_thread_one(a, idx, a->nrec / 3 + 1, KCB_MODE_TRACE_PC);
	per_thread_one(a, idx, a->nrec / 3 + 1, KCB_MODE_TRACE_CMP);
}

int twin_per_thread(const struct kcb_combo *c, int nthreads, uint64_t nrec)
{
	struct pt_arg a = { .c = c, .nrec = nrec };
	int err = kcb_parallel(nthreads, per_thread_fn, &a);

	return err ? 1 : a.errors;
}

/* ---- (b) shared buffer ---- */

struct sh_arg {
	const struct kcb_combo *c;
	struct kcb_dev *owner;
	uint64_t nrec;
	int errors;
};

#define SECTION_RECORDS	64
/* A writer of a shared buffer yields this often, so that an oversubscribed
 * run preempts writers inside a chunk, and leaves and re-enters its
 * section this often, closing a part-filled chunk (both prime to K). */
#define YIELD_RECORDS	97
#define REENTER_RECORDS	1009

static void shared_fn(int idx, void *p)
{
	struct sh_arg *a = p;
	const struct kcb_combo *c = a->c;
	struct kcb_task *t = kcb_current();
	struct kcb_dev own;
	uint64_t i;

	if (c->pair->shareable_cmp) {
		/* OpenBSD remote in task context: write the owner's buffer. */
		kcb_task_attach(t, a->owner);
		for (i = 0; i < a->nrec; i++) {
			c->trace_cmp8(idx, i);
			if (i % YIELD_RECORDS == YIELD_RECORDS - 1)
				kcb_yield();
			if (i % REENTER_RECORDS == REENTER_RECORDS - 1) {
				kcb_task_disable(t);
				kcb_task_attach(t, a->owner);
			}
		}
		kcb_task_disable(t);
		return;
	}
	/* Linux remote sections: a private area, moved under the owner's lock. */
	if (kcb_dev_init(&own, SECTION_RECORDS * KCB_STRIDE_CMP + 1)) {
		FAIL(a, "no memory\n");
		return;
	}
	kcb_task_enable(t, &own, KCB_MODE_TRACE_CMP);
	for (i = 0; i < a->nrec; i++) {
		c->trace_cmp8(idx, i);
		if (own.buf[0] == SECTION_RECORDS || i + 1 == a->nrec) {
			c->move(a->owner, own.buf, KCB_STRIDE_CMP);
			WRITE_ONCE(own.buf[0], 0);
		}
	}
	kcb_task_disable(t);
	kcb_dev_fini(&own);
}

/* The shared twin; *badp gets the records the identity check found lost,
 * duplicated or torn, the check the broken control must fail. */
static int shared_run(const struct kcb_combo *c, int nthreads, uint64_t nrec,
    uint64_t *badp)
{
	struct sh_arg a = { .c = c, .nrec = nrec };
	uint64_t total = (uint64_t)nthreads * nrec, i, pc, bad = 0, zero = 0;
	/* A padded claim (chunk) may leave K - 1 slots unfilled per section. */
	uint64_t slack = c->pair->padded_cmp ? (uint64_t)nthreads *
	    (nrec / REENTER_RECORDS + 1) * kcb_chunk_records : 0;
	uint8_t *seen;
	struct kcb_dev owner;
	int err;

	seen = kcb_zalloc(total);
	if (!seen || dev_with_guard(&owner, (total + slack) * KCB_STRIDE_CMP + 1)) {
		kcb_free(seen);
		kcb_log("twin_shared: no memory\n");
		return 1;
	}
	/* A remote attached before tracing starts (KIOREMOTEATTACH in READY),
	 * so a claim that asks (owner-plain) knows other threads write. */
	if (kcb_dev_share(&owner)) {
		a.errors++;
		goto out;
	}
	owner.mode = KCB_MODE_TRACE_CMP;
	owner.state = KCB_STATE_TRACE;
	owner.enabled = 1;
	a.owner = &owner;
	err = kcb_parallel(nthreads, shared_fn, &a);
	if (err) {
		a.errors++;
		goto out;
	}
	if (owner.buf[0] < total || owner.buf[0] > total + slack) {
		kcb_log("%s/%s: shared count %llu, want %llu..%llu\n", c->fe->name,
		    c->pair->name, (unsigned long long)owner.buf[0],
		    (unsigned long long)total, (unsigned long long)(total + slack));
		a.errors++;
	}
	if (owner.lost) {
		kcb_log("%s/%s: %llu records lost in moves\n", c->fe->name,
		    c->pair->name, (unsigned long long)owner.lost);
		a.errors++;
	}
	if (!guard_intact(&owner)) {
		kcb_log("%s/%s: shared buffer overrun\n", c->fe->name, c->pair->name);
		a.errors++;
	}
	pc = 0;
	for (i = 0; i < owner.buf[0] && i < total + slack; i++) {
		uint64_t *r = &owner.buf[1 + i * KCB_STRIDE_CMP];

		if (slack && !r[0] && !r[1] && !r[2] && !r[3]) {
			zero++;	/* a closed chunk's unfilled slot */
			continue;
		}
		if (!pc)
			pc = r[3];
		if (r[0] != CMP8_TYPE || r[1] >= (uint64_t)nthreads ||
		    r[2] >= nrec || r[3] != pc) {
			bad++;	/* torn or never written */
			continue;
		}
		if (seen[r[1] * nrec + r[2]]++)
			bad++;	/* duplicated */
	}
	for (i = 0; i < total; i++)
		if (!seen[i])
			bad++;	/* lost */
	if (owner.buf[0] > total && owner.buf[0] - zero != total)
		bad++;		/* the count covers slots that are neither */
	if (bad) {
		kcb_log("%s/%s: %llu records lost, duplicated or torn\n",
		    c->fe->name, c->pair->name, (unsigned long long)bad);
		a.errors++;
	}
	*badp = bad;
out:
	kcb_dev_fini(&owner);
	kcb_free(seen);
	return a.errors;
}

int twin_shared(const struct kcb_combo *c, int nthreads, uint64_t nrec)
{
	uint64_t bad = 0;

	return shared_run(c, nthreads, nrec, &bad);
}

int twin_broken_caught(const struct kcb_combo *c, int nthreads, uint64_t nrec)
{
	uint64_t bad = 0;

	shared_run(c, nthreads, nrec, &bad);
	kcb_log("%s/%s: broken control: %llu records lost, duplicated or torn in one attempt\n",
	    c->fe->name, c->pair->name, (unsigned long long)bad);
	return bad != 0;
}

/* ---- (d) a move into a buffer whose count word userspace broke ---- */

#define BAD_DST_WORDS	(8 * KCB_STRIDE_CMP + 1)
#define BAD_PATTERN	0x5a5a5a5a5a5a5a5aull

/* The owner's count word is in its mmap()ed buffer: a move must neither
 * write outside the buffer nor change a record when the count is past
 * capacity (Linux's kcov_move_area() returns; OpenBSD's kd_claim() bound
 * fails).  Counts past capacity by one, and far past. */
int twin_move_bad_count(const struct kcb_combo *c)
{
	static const int strides[] = { KCB_STRIDE_PC, KCB_STRIDE_CMP };
	uint64_t src[1 + 3 * KCB_STRIDE_CMP], i;
	int errors = 0, s, k;

	for (i = 1; i < sizeof(src) / sizeof(src[0]); i++)
		src[i] = i;
	for (s = 0; s < 2; s++) {
		const int stride = strides[s];
		const uint64_t cap = (BAD_DST_WORDS - 1) / stride;
		const uint64_t counts[] = { cap + 1, cap + 2, 1ull << 40 };

		for (k = 0; k < 3; k++) {
			struct kcb_dev dst;
			int wrote = 0;

			if (dev_with_guard(&dst, BAD_DST_WORDS)) {
				kcb_log("twin_move_bad_count: no memory\n");
				return errors + 1;
			}
			for (i = 1; i < BAD_DST_WORDS; i++)
				dst.buf[i] = BAD_PATTERN;
			dst.buf[0] = counts[k];
			src[0] = 3;
			c->move(&dst, src, stride);
			for (i = 1; i < BAD_DST_WORDS; i++)
				wrote |= dst.buf[i] != BAD_PATTERN;
			if (wrote || !guard_intact(&dst)) {
				kcb_log("%s/%s: move with count word %llu past capacity %llu "
				    "(stride %d) wrote %s\n", c->fe->name, c->pair->name,
				    (unsigned long long)counts[k], (unsigned long long)cap,
				    stride, wrote ? "a record" : "past the buffer");
				errors++;
			}
			kcb_dev_fini(&dst);
		}
	}
	return errors;
}

/* ---- (c) trace-cmp layout ---- */

struct want {
	uint64_t type, a1, a2;
};

static int check_records(const struct kcb_combo *c, const char *what,
    const struct kcb_dev *kd, const struct want *w, uint64_t n)
{
	uint64_t i, j = 0, got = 0;

	/* A padded claim's reader skips zero records (claim_chunk.h). */
	for (i = 0; i < kd->buf[0] && i < kd->nmemb / 4; i++) {
		const uint64_t *r = &kd->buf[1 + i * 4];

		got += !(c->pair->padded_cmp && !r[0] && !r[1] && !r[2] && !r[3]);
	}
	if (got != n || (!c->pair->padded_cmp && kd->buf[0] != n)) {
		kcb_log("%s/%s: %s: %llu records (count %llu), want %llu\n",
		    c->fe->name, c->pair->name, what, (unsigned long long)got,
		    (unsigned long long)kd->buf[0], (unsigned long long)n);
		return 1;
	}
	for (i = 0; i < n; i++, j++) {
		const uint64_t *r;

		while (c->pair->padded_cmp && !kd->buf[1 + j * 4] &&
		    !kd->buf[4 + j * 4])
			j++;
		r = &kd->buf[1 + j * 4];

		if (r[0] != w[i].type || r[1] != w[i].a1 || r[2] != w[i].a2 ||
		    r[3] == 0) {
			kcb_log("%s/%s: %s: record %llu is {%llx %llx %llx}, want {%llx %llx %llx}\n",
			    c->fe->name, c->pair->name, what,
			    (unsigned long long)i, (unsigned long long)r[0],
			    (unsigned long long)r[1], (unsigned long long)r[2],
			    (unsigned long long)w[i].type,
			    (unsigned long long)w[i].a1,
			    (unsigned long long)w[i].a2);
			return 1;
		}
	}
	return 0;
}

/* The switch records of the front end's declared layout (FE_SWITCH_LAYOUT);
 * NULL for a layout this twin does not know. */
static const struct want *switch_records_of(enum kcb_switch_layout layout,
    const struct want *case_val, const struct want *val_const_case)
{
	switch (layout) {
	case KCB_SWITCH_CASE_VAL:
		return case_val;
	case KCB_SWITCH_VAL_CONST_CASE:
		return val_const_case;
	}
	return NULL;
}

struct layout_arg {
	const struct kcb_combo *c;
	int errors;
};

static void layout_fn(int idx, void *p)
{
	struct layout_arg *a = p;
	const struct kcb_combo *c = a->c;
	struct kcb_task *t = kcb_current();
	static const struct want cmps[] = {
		{ KCB_CMP_SIZE(0), 0xfe, 0x01 },
		{ KCB_CMP_SIZE(1), 0xfffe, 0x0102 },
		{ KCB_CMP_SIZE(2), 0xfffffffe, 0x01020304 },
		{ KCB_CMP_SIZE(3), 0xfffffffffffffffeull, 0x0102030405060708ull },
		{ KCB_CMP_SIZE(0) | KCB_CMP_CONST, 0x7f, 0x80 },
		{ KCB_CMP_SIZE(1) | KCB_CMP_CONST, 0x7fff, 0x8000 },
		{ KCB_CMP_SIZE(2) | KCB_CMP_CONST, 0x7fffffff, 0x80000000 },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 1, 2 },
	};
	/* {ncases, bits, cases...}; widths other than 8..64 are ignored. */
	uint64_t sw8[] = { 2, 8, 0x11, 0x22 }, sw64[] = { 3, 64, 5, 6, 7 };
	uint64_t sw7[] = { 2, 7, 1, 2 }, sw128[] = { 1, 128, 9 };
	uint64_t sw16[] = { 3, 16, 0x1234, 0x5678, 0x9abc }, sw32[] = { 1, 32, 0x12345678 };
	/* Each OS's switch record, from its source, not from the replica:
	 * Linux write_comp_data(), NetBSD trace_cmp(), OpenBSD kcov_cmp():
	 * {SIZE(n) | CONST, case, val}; FreeBSD subr_coverage.c:
	 * {SIZE(n), val | CONST, case}. */
	const struct want sws_case_val[] = {
		{ KCB_CMP_SIZE(0) | KCB_CMP_CONST, 0x11, 0xaa },
		{ KCB_CMP_SIZE(0) | KCB_CMP_CONST, 0x22, 0xaa },
		{ KCB_CMP_SIZE(1) | KCB_CMP_CONST, 0x1234, 0xbb },
		{ KCB_CMP_SIZE(1) | KCB_CMP_CONST, 0x5678, 0xbb },
		{ KCB_CMP_SIZE(1) | KCB_CMP_CONST, 0x9abc, 0xbb },
		{ KCB_CMP_SIZE(2) | KCB_CMP_CONST, 0x12345678, 0xcc },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 5, 0xdd },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 6, 0xdd },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 7, 0xdd },
	}, sws_freebsd[] = {
		{ KCB_CMP_SIZE(0), 0xaa | KCB_CMP_CONST, 0x11 },
		{ KCB_CMP_SIZE(0), 0xaa | KCB_CMP_CONST, 0x22 },
		{ KCB_CMP_SIZE(1), 0xbb | KCB_CMP_CONST, 0x1234 },
		{ KCB_CMP_SIZE(1), 0xbb | KCB_CMP_CONST, 0x5678 },
		{ KCB_CMP_SIZE(1), 0xbb | KCB_CMP_CONST, 0x9abc },
		{ KCB_CMP_SIZE(2), 0xcc | KCB_CMP_CONST, 0x12345678 },
		{ KCB_CMP_SIZE(3), 0xdd | KCB_CMP_CONST, 5 },
		{ KCB_CMP_SIZE(3), 0xdd | KCB_CMP_CONST, 6 },
		{ KCB_CMP_SIZE(3), 0xdd | KCB_CMP_CONST, 7 },
	};
	const struct want *sws = switch_records_of(c->fe->switch_layout,
	    sws_case_val, sws_freebsd);
	struct kcb_dev kd;

	if (idx != 0)
		return;
	if (!sws) {
		kcb_log("%s: trace_switch layout %d unknown: define FE_SWITCH_LAYOUT in "
		    "its fe_<id>.c as one of enum kcb_switch_layout (variants/variant.h)\n",
		    c->fe->name, (int)c->fe->switch_layout);
		a->errors++;
		return;
	}
	if (kcb_dev_init(&kd, 64 * 4 + 1)) {
		a->errors++;
		return;
	}
	/* Each check reads the buffer after its section ends and resets it
	 * between sections, as a reader must for a padded claim. */
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->trace_cmp1(0xfe, 0x01);
	c->trace_cmp2(0xfffe, 0x0102);
	c->trace_cmp4(0xfffffffe, 0x01020304);
	c->trace_cmp8(0xfffffffffffffffeull, 0x0102030405060708ull);
	c->trace_const_cmp1(0x7f, 0x80);
	c->trace_const_cmp2(0x7fff, 0x8000);
	c->trace_const_cmp4(0x7fffffff, 0x80000000);
	c->trace_const_cmp8(1, 2);
	kcb_task_disable(t);
	a->errors += check_records(c, "cmp", &kd, cmps, 8);

	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->trace_switch(0xaa, sw8);
	c->trace_switch(0xee, sw7);
	c->trace_switch(0xbb, sw16);
	c->trace_switch(0xee, sw128);
	c->trace_switch(0xcc, sw32);
	c->trace_switch(0xdd, sw64);
	kcb_task_disable(t);
	a->errors += check_records(c, "switch", &kd, sws, 9);

	/* A trace-pc descriptor records no comparisons, and vice versa. */
	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	c->trace_cmp8(1, 2);
	c->trace_switch(1, sw64);
	kcb_task_disable(t);
	a->errors += check_records(c, "cmp in pc mode", &kd, NULL, 0);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->trace_pc();
	kcb_task_disable(t);
	a->errors += check_records(c, "pc in cmp mode", &kd, NULL, 0);
	c->trace_cmp8(1, 2);
	c->trace_pc();
	a->errors += check_records(c, "disabled", &kd, NULL, 0);
	kcb_dev_fini(&kd);
}

int twin_cmp_layout(const struct kcb_combo *c)
{
	struct layout_arg a = { .c = c };
	int err = kcb_parallel(1, layout_fn, &a);

	return err ? 1 : a.errors;
}
