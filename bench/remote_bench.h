/* SPDX-License-Identifier: MIT */
#ifndef KCB_REMOTE_BENCH_H
#define KCB_REMOTE_BENCH_H
#include "bench.h"
#include "../variants/remote.h"

/*
 * kcovbench bench's remote-section and lookup benchmarks:
 *   --remote=all|none|A,B		remote variants (default all)
 *   --lookups=all|none|A,B		lookup flavours (default all)
 *   --remote-records=N			hooks per section (default 0: enter+leave;
 *					with remote-request: 1, 16 and 256)
 *   --modes=...,remote-request,...	the request-rate mode (taken out of
 *					--modes here; bench_parse sees the rest)
 * Names: remote/<variant>/<task|softirq>/irq:0/recs:N and
 *        lookup/<flavour>/handles:<1|16|1024>/irq:0, threads 1..CPUs;
 *        with remote-request instead of those two:
 *        remote-request/<variant|hooks-only>/recs:N/<task|softirq>/irq:0.
 */
struct remote_bench_opts {
	char *remotes, *lookups;
	uint64_t records;
	int records_given, remotes_given;
	int request;		/* --modes named remote-request */
	int request_only;	/* ... and nothing else: no hook modes */
};

/* Take the flags above out of argv; 0, or 2 after a message. */
int remote_bench_parse(int *argc, char **argv, struct remote_bench_opts *ro);
/* Register with Google Benchmark; window, warm-up, threads from o. */
int remote_bench_register(const struct remote_bench_opts *ro, const struct bench_opts *o);

#endif
