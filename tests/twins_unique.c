/* SPDX-License-Identifier: MIT */
/*
 * twins_unique.c - the proposals' unique modes' twins (twins.h (e), (f))
 * and the broken front ends' controls: one record per guard, or per PC
 * per descriptor.  Kept apart so that a proposal's checks do not grow the
 * core twins (twins.c).
 */
#include "twins.h"

/* What a reader parses: the count, or the non-zero records of a padded
 * claim once its chunk is closed. */
static uint64_t parsed(const struct kcb_combo *c, const struct kcb_dev *kd)
{
	uint64_t n = 0, j;

	if (!c->pair->padded_pc)
		return kd->buf[0];
	kcb_chunk_close(kcb_current());
	for (j = 1; j <= kd->buf[0] && j < kd->nwords; j++)
		n += kd->buf[j] != 0;
	return n;
}

/* The j-th parsed record (1-based), or 0 if there is none. */
static uint64_t parsed_rec(const struct kcb_combo *c, const struct kcb_dev *kd, uint64_t j)
{
	for (uint64_t i = 1; i <= kd->buf[0] && i < kd->nwords; i++)
		if (kd->buf[i] || !c->pair->padded_pc)
			if (--j == 0)
				return kd->buf[i];
	return 0;
}

/* A twin's count check: logs what was wanted; mode names the twin. */
/* got is evaluated once: it may call hooks */
#define TWIN_WANT(mode, what, got, want) do {					\
	uint64_t got_ = (got), want_ = (want);					\
										\
	if (got_ != want_) {							\
		kcb_log("%s/%s: %s: %s: %llu records, want %llu\n",		\
		    c->fe->name, c->pair->name, mode, what,			\
		    (unsigned long long)got_, (unsigned long long)want_);	\
		a->errors++;							\
	}									\
} while (0)

/* ---- (e) the unique mode: one record per guard ---- */

struct unique_arg {
	const struct kcb_combo *c;
	int errors;
};

#define UNIQUE_BITS	(1u << 16)

static uint64_t unique_calls(const struct kcb_combo *c, struct kcb_dev *kd,
    uint32_t *guards)
{
	static const int sites[] = { 0, 1, 2, 0, 1, 3, 3, 0 };
	unsigned int i;

	for (i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
		c->trace_pc_guard(&guards[sites[i]]);
	return parsed(c, kd);
}

static void unique_fn(int idx, void *p)
{
	struct unique_arg *a = p;
	const struct kcb_combo *c = a->c;
	struct kcb_task *t = kcb_current();
	uint32_t guards[4] = { 0 };
	uint64_t *bitmap = kcb_zalloc(UNIQUE_BITS / 8), n, i;
	struct kcb_dev kd;

	if (idx != 0)
		return;
	if (!bitmap || kcb_dev_init(&kd, 64)) {
		kcb_free(bitmap);
		a->errors++;
		return;
	}
#define UNIQUE_WANT(what, got, want) TWIN_WANT("unique mode", what, got, want)
	kcb_task_enable_unique(t, &kd, bitmap, UNIQUE_BITS);
	n = unique_calls(c, &kd, guards);
	UNIQUE_WANT("4 guards, 8 calls", n, 4);
	for (i = 0; i < 4; i++)
		if (!guards[i] || guards[i] >= UNIQUE_BITS ||
		    (i && guards[i] == guards[i - 1])) {
			kcb_log("%s/%s: unique mode: guard %llu has index %u\n",
			    c->fe->name, c->pair->name, (unsigned long long)i, guards[i]);
			a->errors++;
		}
	for (i = 1; i <= n && i < kd.nwords; i++)
		if ((kd.buf[i] == 0 && !c->pair->padded_pc) || kd.buf[i] != kd.buf[1]) {
			kcb_log("%s/%s: unique mode: record %llu is not the call site's PC\n",
			    c->fe->name, c->pair->name, (unsigned long long)i);
			a->errors++;
		}
	UNIQUE_WANT("the same guards again", unique_calls(c, &kd, guards), 4);
	memset(bitmap, 0, UNIQUE_BITS / 8);
	UNIQUE_WANT("after clearing the bitmap", unique_calls(c, &kd, guards), 8);
	kcb_task_disable(t);
	/* An index past the bitmap records every call. */
	kcb_dev_reset(&kd);
	kcb_task_enable_unique(t, &kd, bitmap, 1);
	UNIQUE_WANT("bitmap too small", unique_calls(c, &kd, guards), 8);
	/* Trace-pc mode: every call, as trace_pc; trace-cmp mode: none. */
	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	UNIQUE_WANT("trace-pc mode", unique_calls(c, &kd, guards), 8);
	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	UNIQUE_WANT("trace-cmp mode", unique_calls(c, &kd, guards), 0);
	kcb_task_disable(t);
	UNIQUE_WANT("disabled", unique_calls(c, &kd, guards), 0);
#undef UNIQUE_WANT
	kcb_dev_fini(&kd);
	kcb_free(bitmap);
}

int twin_unique(const struct kcb_combo *c)
{
	struct unique_arg a = { .c = c };

	if (!c->trace_pc_guard) {
		kcb_log("%s/%s: no trace_pc_guard: not a unique-mode front end\n",
		    c->fe->name, c->pair->name);
		return 1;
	}
	return kcb_parallel(1, unique_fn, &a) ? 1 : a.errors;
}

/* ---- (f) Jiao's unique mode: one record per PC per descriptor ---- */

#define UH_SITES	8
#define UH_OVER		100	/* distinct PCs for the overflow check */

static void uniq_hash_fn(int idx, void *p)
{
	struct unique_arg *a = p;
	const struct kcb_combo *c = a->c;
	struct kcb_task *t = kcb_current();
	static const int seq[] = { 0, 1, 2, 0, 1, 3, 3, 0 };
	uintptr_t rets[UH_SITES], over[UH_OVER], r, base;
	uint64_t pc[UH_SITES], off, i, n, found = 0;
	struct kcb_dev kd, big;

	if (idx != 0)
		return;
	/* room for several chunks of the chunk claim */
	if (kcb_dev_init(&kd, 1024) || kcb_uniq_map_init(&kd)) {
		kcb_dev_fini(&kd);
		a->errors++;
		return;
	}
#define UH_WANT(what, got, want) TWIN_WANT("uniq-hash mode", what, got, want)
	/* The PC a return address becomes, from one trace-pc-mode call. */
	base = (uintptr_t)&uniq_hash_fn;
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	c->loop_pc_at(1, &base, 0);
	off = (uint64_t)base - parsed_rec(c, &kd, 1);
	kcb_task_disable(t);
	kcb_dev_reset(&kd);
	/* Sites 4..6 share one bucket (a chain), 7 is another. */
	rets[0] = base;
	for (r = base + 1; found < 3 && r < base + (1u << 22); r++)
		if (kcb_uniq_bucket(kcb_jhash_u64(r - off)) ==
		    kcb_uniq_bucket(kcb_jhash_u64(rets[0] - off)))
			rets[4 + found++] = r;
	if (found < 3) {
		kcb_log("%s/%s: uniq-hash mode: no three PCs share a bucket\n",
		    c->fe->name, c->pair->name);
		a->errors++;
		found = 0;
	}
	rets[1] = base + 1, rets[2] = base + 2, rets[3] = base + 3;
	rets[7] = base + 4;
	for (i = 0; i < UH_SITES; i++)
		pc[i] = rets[i] - off;

	kcb_task_enable_uniq_hash(t, &kd);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		c->loop_pc_at(1, &rets[seq[i]], 0);
	n = parsed(c, &kd);
	UH_WANT("4 PCs, 8 calls", n, 4);
	for (i = 0; i < 4 && i < n; i++)
		if (parsed_rec(c, &kd, i + 1) != pc[i]) {
			kcb_log("%s/%s: uniq-hash mode: record %llu is not the %lluth new PC\n",
			    c->fe->name, c->pair->name, (unsigned long long)i + 1,
			    (unsigned long long)i + 1);
			a->errors++;
		}
	/* One bucket's chain: 0, 4, 5, 6, in and out of order. */
	if (found == 3) {
		static const int chain[] = { 4, 0, 5, 4, 6, 5, 0, 6 };

		for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++)
			c->loop_pc_at(1, &rets[chain[i]], 0);
		UH_WANT("three more PCs in a seen PC's bucket", parsed(c, &kd), 7);
		for (i = 0; i < 3; i++)
			if (parsed_rec(c, &kd, 5 + i) != pc[4 + i]) {
				kcb_log("%s/%s: uniq-hash mode: chained PC %llu recorded wrong\n",
				    c->fe->name, c->pair->name, (unsigned long long)i);
				a->errors++;
			}
	}
	n = parsed(c, &kd);
	c->loop_pc_at(UH_SITES, rets, UH_SITES - 1);
	UH_WANT("the same PCs again, and one new", parsed(c, &kd), n + 1);
	/* Nothing empties the table but the descriptor's end. */
	kcb_task_disable(t);
	kcb_dev_reset(&kd);
	kcb_task_enable_uniq_hash(t, &kd);
	c->loop_pc_at(UH_SITES, rets, UH_SITES - 1);
	UH_WANT("re-enabled, the same descriptor", parsed(c, &kd), 0);
	kcb_task_disable(t);
	kcb_uniq_map_clear(kd.map);
	kcb_dev_reset(&kd);
	kcb_task_enable_uniq_hash(t, &kd);
	c->loop_pc_at(UH_SITES, rets, UH_SITES - 1);
	UH_WANT("after emptying the table", parsed(c, &kd), found == 3 ? 8 : 5);
	/* Trace-pc mode records every call; trace-cmp mode none. */
	kcb_task_disable(t);
	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		c->loop_pc_at(1, &rets[seq[i]], 0);
	UH_WANT("trace-pc mode", parsed(c, &kd), 8);
	kcb_dev_reset(&kd);
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
	c->loop_pc_at(UH_SITES, rets, UH_SITES - 1);
	UH_WANT("trace-cmp mode", parsed(c, &kd), 0);
	kcb_task_disable(t);
	c->loop_pc_at(UH_SITES, rets, UH_SITES - 1);
	UH_WANT("disabled", parsed(c, &kd), 0);
	kcb_dev_fini(&kd);

	/* Overflow: 100 new PCs into 63 slots and a pool of 64 entries. The
	 * first 63 are recorded once each, in order; the rest are dropped. */
	if (kcb_dev_init(&big, 64) || kcb_uniq_map_init(&big)) {
		kcb_dev_fini(&big);
		a->errors++;
		return;
	}
	for (i = 0; i < UH_OVER; i++)
		over[i] = base + 16 + i;
	kcb_task_enable_uniq_hash(t, &big);
	c->loop_pc_at(UH_OVER, over, ~0ull);
	c->loop_pc_at(UH_OVER, over, ~0ull);
	n = parsed(c, &big);
	UH_WANT("100 new PCs, 63 slots", n, c->pair->padded_pc ? n : 63);
	if (n > 63 || n == 0) {
		kcb_log("%s/%s: uniq-hash mode: overflow parsed %llu records\n",
		    c->fe->name, c->pair->name, (unsigned long long)n);
		a->errors++;
	}
	for (i = 1; i <= n && i <= 63; i++)
		if (parsed_rec(c, &big, i) != over[i - 1] - off) {
			kcb_log("%s/%s: uniq-hash mode: overflow record %llu wrong\n",
			    c->fe->name, c->pair->name, (unsigned long long)i);
			a->errors++;
			break;
		}
	kcb_task_disable(t);
#undef UH_WANT
	kcb_dev_fini(&big);
}

int twin_uniq_hash(const struct kcb_combo *c)
{
	struct unique_arg a = { .c = c };

	if (!c->loop_pc_at) {
		kcb_log("%s/%s: no loop_pc_at: not a uniq-hash front end\n",
		    c->fe->name, c->pair->name);
		return 1;
	}
	return kcb_parallel(1, uniq_hash_fn, &a) ? 1 : a.errors;
}

int twin_broken_fe(const struct kcb_combo *c)
{
	if (c->trace_pc_guard)
		return twin_unique(c);
	return c->loop_pc_at ? twin_uniq_hash(c) : twin_cmp_layout(c);
}
