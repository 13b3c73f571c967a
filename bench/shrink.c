/* SPDX-License-Identifier: MIT */
/*
 * shrink.c - `kcovbench unique-shrink`: how much the unique mode would
 * shrink the buffer of one workload round.  The workload is built by GCC,
 * which has no trace-pc-guard, so it runs in trace-pc mode and the records
 * are counted twice: all of them (what trace-pc keeps) and one per distinct
 * PC (what the unique mode keeps: one guard per call site, one record per
 * guard per task).  Prints one line: records, distinct, ratio.
 *
 * Then the same round built by clang with -fsanitize-coverage=trace-pc-guard
 * (kcb_workload__clang_guard, linked to proposed-linux-unique's hook) runs
 * twice with the unique mode's real hook: once in trace-pc mode (every
 * call recorded) and once in unique mode (a guard's first call only).
 * Prints a second line: both counts and their ratio.
 *
 * Last, the GCC round once more through proposed-linux-uniq-hash's hook in
 * Jiao's unique mode (a hash table of PCs): a third line with its records,
 * which must equal the distinct PCs of the first line.
 */
#include <stdlib.h>
#include "bench.h"
#include "../workload/workload.h"

uint64_t kcb_workload__clang_guard(uint64_t seed, void *scratch);

/* One clang round, traced in mode (unique: with a fresh bitmap). */
static uint64_t clang_round(struct kcb_dev *kd, void *scratch, int unique)
{
	uint64_t *bitmap = kcb_zalloc(KCB_GUARD_BITS / 8), n;

	if (!bitmap)
		return 0;
	kcb_dev_reset(kd);
	if (unique)
		kcb_task_enable_unique(kcb_current(), kd, bitmap, KCB_GUARD_BITS);
	else
		kcb_task_enable(kcb_current(), kd, KCB_MODE_TRACE_PC);
	kcb_workload__clang_guard(KCB_WORKLOAD_SEED, scratch);
	kcb_task_disable(kcb_current());
	n = kd->buf[0];
	kcb_free(bitmap);
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int shrink_main(int argc, char **argv)
{
	const char *config = argc >= 2 ? argv[1] : "proposed-linux-unique";
	const struct kcb_combo *c = kcb_find(config);
	kcb_workload_fn run = c ? kcb_workload_of(c) : NULL;
	void *scratch = kcb_zalloc(KCB_WORKLOAD_SCRATCH);
	uint64_t n, distinct = 0, i;
	struct kcb_dev kd;

	if (!run) {
		fprintf(stderr, "kcovbench unique-shrink: %s has no workload copy "
		    "(see `kcovbench list`)\n", config);
		return 2;
	}
	if (!scratch || kcb_thread_attach(0, true) < 0 || kcb_dev_init(&kd, KCB_WORKLOAD_WORDS))
		return 1;
	kcb_task_enable(kcb_current(), &kd, KCB_MODE_TRACE_PC);
	run(KCB_WORKLOAD_SEED, scratch);
	kcb_task_disable(kcb_current());
	n = kd.buf[0];
	if (n == 0 || n >= kd.nmemb) {
		fprintf(stderr, "kcovbench unique-shrink: %llu records: empty or full buffer\n",
		    (unsigned long long)n);
		return 1;
	}
	qsort(&kd.buf[1], n, sizeof(uint64_t), cmp_u64);
	for (i = 1; i <= n; i++)
		distinct += i == 1 || kd.buf[i] != kd.buf[i - 1];
	printf("config=%s records=%llu distinct_pcs=%llu shrink=%.1fx\n", config,
	    (unsigned long long)n, (unsigned long long)distinct, (double)n / distinct);
	{
		uint64_t all = clang_round(&kd, scratch, 0), first = clang_round(&kd, scratch, 1);

		if (!all || !first || all >= kd.nmemb) {
			fprintf(stderr, "kcovbench unique-shrink: clang copy: %llu and %llu records\n",
			    (unsigned long long)all, (unsigned long long)first);
			return 1;
		}
		printf("clang trace-pc-guard copy, proposed-linux-unique's hook: trace-pc mode "
		    "records=%llu unique mode records=%llu shrink=%.1fx\n",
		    (unsigned long long)all, (unsigned long long)first, (double)all / first);
	}
	{
		const struct kcb_combo *h = kcb_find("proposed-linux-uniq-hash");
		kcb_workload_fn hrun = h ? kcb_workload_of(h) : NULL;
		struct kcb_dev hd;
		uint64_t m;

		if (!hrun || kcb_dev_init(&hd, KCB_WORKLOAD_WORDS) || kcb_uniq_map_init(&hd))
			return 1;
		kcb_task_enable_uniq_hash(kcb_current(), &hd);
		hrun(KCB_WORKLOAD_SEED, scratch);
		kcb_task_disable(kcb_current());
		m = hd.buf[0];
		printf("GCC trace-pc copy, proposed-linux-uniq-hash's hook: unique mode "
		    "records=%llu distinct_pcs=%llu shrink=%.1fx\n", (unsigned long long)m,
		    (unsigned long long)distinct, m ? (double)n / m : 0.0);
		kcb_dev_fini(&hd);
		if (m != distinct) {
			fprintf(stderr, "kcovbench unique-shrink: the hash-table mode kept %llu "
			    "records, not one per distinct PC (%llu)\n", (unsigned long long)m,
			    (unsigned long long)distinct);
			return 1;
		}
	}
	kcb_dev_fini(&kd);
	kcb_free(scratch);
	return 0;
}
