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
		for (i = 0; i < a->nrec; i++)
			c->trace_cmp8(idx, i);
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
	uint64_t total = (uint64_t)nthreads * nrec, i, pc, bad = 0;
	uint8_t *seen;
	struct kcb_dev owner;
	int err;

	seen = kcb_zalloc(total);
	if (!seen || dev_with_guard(&owner, total * KCB_STRIDE_CMP + 1)) {
		kcb_free(seen);
		kcb_log("twin_shared: no memory\n");
		return 1;
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
	if (owner.buf[0] != total) {
		kcb_log("%s/%s: shared count %llu, want %llu\n", c->fe->name,
		    c->pair->name, (unsigned long long)owner.buf[0],
		    (unsigned long long)total);
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
	pc = owner.buf[4];
	for (i = 0; i < owner.buf[0] && i < total; i++) {
		uint64_t *r = &owner.buf[1 + i * KCB_STRIDE_CMP];

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

/* ---- (c) trace-cmp layout ---- */

struct want {
	uint64_t type, a1, a2;
};

static int check_records(const struct kcb_combo *c, const char *what,
    const struct kcb_dev *kd, const struct want *w, uint64_t n)
{
	uint64_t i;

	if (kd->buf[0] != n) {
		kcb_log("%s/%s: %s: %llu records, want %llu\n", c->fe->name,
		    c->pair->name, what, (unsigned long long)kd->buf[0],
		    (unsigned long long)n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		const uint64_t *r = &kd->buf[1 + i * 4];

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
	uint64_t sw16[] = { 1, 16, 0x1234 }, sw32[] = { 1, 32, 0x12345678 };
	const struct want sws[] = {
		{ KCB_CMP_SIZE(0) | KCB_CMP_CONST, 0x11, 0xaa },
		{ KCB_CMP_SIZE(0) | KCB_CMP_CONST, 0x22, 0xaa },
		{ KCB_CMP_SIZE(1) | KCB_CMP_CONST, 0x1234, 0xbb },
		{ KCB_CMP_SIZE(2) | KCB_CMP_CONST, 0x12345678, 0xcc },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 5, 0xdd },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 6, 0xdd },
		{ KCB_CMP_SIZE(3) | KCB_CMP_CONST, 7, 0xdd },
	};
	struct kcb_dev kd;

	if (idx != 0)
		return;
	if (kcb_dev_init(&kd, 64 * 4 + 1)) {
		a->errors++;
		return;
	}
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->trace_cmp1(0xfe, 0x01);
	c->trace_cmp2(0xfffe, 0x0102);
	c->trace_cmp4(0xfffffffe, 0x01020304);
	c->trace_cmp8(0xfffffffffffffffeull, 0x0102030405060708ull);
	c->trace_const_cmp1(0x7f, 0x80);
	c->trace_const_cmp2(0x7fff, 0x8000);
	c->trace_const_cmp4(0x7fffffff, 0x80000000);
	c->trace_const_cmp8(1, 2);
	a->errors += check_records(c, "cmp", &kd, cmps, 8);

	WRITE_ONCE(kd.buf[0], 0);
	c->trace_switch(0xaa, sw8);
	c->trace_switch(0xee, sw7);
	c->trace_switch(0xbb, sw16);
	c->trace_switch(0xee, sw128);
	c->trace_switch(0xcc, sw32);
	c->trace_switch(0xdd, sw64);
	a->errors += check_records(c, "switch", &kd, sws, 7);

	/* A trace-pc descriptor records no comparisons, and vice versa. */
	WRITE_ONCE(kd.buf[0], 0);
	kd.mode = KCB_MODE_TRACE_PC;
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	c->trace_cmp8(1, 2);
	c->trace_switch(1, sw64);
	a->errors += check_records(c, "cmp in pc mode", &kd, NULL, 0);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->trace_pc();
	a->errors += check_records(c, "pc in cmp mode", &kd, NULL, 0);
	kcb_task_disable(t);
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
