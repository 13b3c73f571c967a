/* SPDX-License-Identifier: MIT */
#ifndef KCB_BENCH_H
#define KCB_BENCH_H
#include "../variants/variant.h"
#include "modes.h"		/* MODE_*, shared with the module */

struct bench_opts {
	const struct kcb_combo **combos;	/* selected, in order */
	const char **names;			/* as the user named them */
	int ncombos;
	unsigned int modes;			/* bit per MODE_* */
	unsigned int irqs;			/* bit 0: off, bit 1: on */
	int *threads, nthreads;
	uint64_t window_ns, warmup_ns;
	uint64_t buf_words;			/* own buffers, or KCB_BUFFER_BATCH */
	int hw;					/* hardware counters work */
};

/* Where threads run (options.c): the topology and the placement class. */
struct topology;
extern const struct topology *bench_topo;
extern const char *bench_placement;

/* Register every selected benchmark with Google Benchmark. */
int bench_register(const struct bench_opts *o);
/* Parse kcovbench's own flags out of argv; 0, or 2 after a message. */
int bench_parse(int *argc, char **argv, struct bench_opts *o);

/* `kcovbench ops`: a fixed number of hook calls, for instruction counts. */
int ops_main(int argc, char **argv);
/* `kcovbench unique-shrink [CONFIG]` (shrink.c) */
int shrink_main(int argc, char **argv);

#endif
