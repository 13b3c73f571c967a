/* SPDX-License-Identifier: MIT */
/*
 * test_twins.c - runs every correctness twin on every combo in userland and
 * asserts that the broken control is caught.  Prints one line per check and
 * a closing "N passed, N failed".  Exit 1 on any failure.
 *
 *   test_twins [-s] [filter]   -s: skip the broken controls (TSan); filter:
 *   only combos whose "frontend/pair" contains it (test_twins mine)
 */
#include <stdlib.h>
#include <unistd.h>
#include "test_irq.h"

static int passed, failed;

static void report(const char *what, const struct kcb_combo *c, int ok)
{
	printf("%s %s %s/%s\n", ok ? "ok" : "not ok", what, c->fe->name,
	    c->pair->name);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

int main(int argc, char **argv)
{
	int ncpu = kcb_ncpus(), nthreads = ncpu < 2 ? 2 : ncpu, i, opt;
	int skip_broken = 0, unique = 0, uniq_hash = 0;
	const char *filter = NULL;
	/* Sanitizer builds run 5-20x slower: fewer records, same checks. */
	uint64_t nrec = getenv("KCB_TEST_RECORDS") ?
	    strtoull(getenv("KCB_TEST_RECORDS"), NULL, 0) : 200000;

	while ((opt = getopt(argc, argv, "s")) != -1) {
		if (opt == 's') {
			skip_broken = 1;
		} else {
			fprintf(stderr, "usage: %s [-s] [FILTER]  (-s: skip the broken "
			    "controls; FILTER: only combos whose front end/pair contains "
			    "it, e.g. %s linux/cas)\n", argv[0], argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		filter = argv[optind];
	for (i = 0; i < kcb_ncombos; i++) {
		const struct kcb_combo *c = kcb_combo(i);
		char name[128];

		snprintf(name, sizeof(name), "%s/%s", c->fe->name, c->pair->name);
		if (filter && !strstr(name, filter))
			continue;
		if (c->pair->broken) {
			if (skip_broken)
				continue;
			/* One attempt, and only the record check counts. */
			report("broken-control-caught-first-attempt", c,
			    twin_broken_caught(c, nthreads, nrec));
			continue;
		}
		report("per-thread", c, twin_per_thread(c, nthreads, nrec / 10) == 0);
		report("shared", c, twin_shared(c, nthreads, nrec) == 0);
		report("shared-oversubscribed", c,
		    twin_shared(c, nthreads * 2, nrec / 4) == 0);
		report("cmp-layout", c, twin_cmp_layout(c) == 0);
		report("move-bad-count", c, twin_move_bad_count(c) == 0);
		report("irq", c, twin_irq(c) == 0);
		if (c->trace_pc_guard) {
			report("unique", c, twin_unique(c) == 0);
			unique++;
		}
		if (c->loop_pc_at) {
			report("uniq-hash", c, twin_uniq_hash(c) == 0);
			uniq_hash++;
		}
	}
	/* Broken front ends: their proposal's twin must fail, first try. */
	for (i = 0; i < kcb_nbroken_fe && !skip_broken; i++) {
		const struct kcb_combo *c = kcb_broken_fe_combos[i];
		char name[128];

		snprintf(name, sizeof(name), "%s/%s", c->fe->name, c->pair->name);
		if (!filter || strstr(name, filter))
			report("broken-control-caught-first-attempt", c, twin_broken_fe(c) != 0);
	}
	/* The unique mode's twin must have run where the list has it. */
	if (!filter && !unique) {
		fprintf(stderr, "%s: no combo has trace_pc_guard: the unique twin checked nothing\n",
		    __FILE__);
		failed++;
	}
	if (!filter && !uniq_hash) {
		fprintf(stderr, "%s: no combo has loop_pc_at: the uniq-hash twin checked nothing\n",
		    __FILE__);
		failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	/* Nothing checked (an empty filter or list) is a failure, not a pass. */
	if (passed + failed == 0) {
		fprintf(stderr, "%s: no test ran: 0 passed is a failure\n",
		    __FILE__);
		return 1;
	}
	return failed ? 1 : 0;
}
