/* SPDX-License-Identifier: MIT */
/*
 * workload.h - an instrumented workload of kcovbench's own: an interpreter,
 * a hash table, sorts, an expression parser and checksums, freestanding
 * (no libc, no floating point) so the module can run it too.  Built with
 * -fsanitize-coverage=trace-pc,trace-cmp and linked once per variant with
 * the hooks renamed, it measures each variant on real instrumented code.
 */
#ifndef KCB_WORKLOAD_H
#define KCB_WORKLOAD_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define KCB_WORKLOAD_SCRATCH	(64 * 1024)	/* bytes the caller provides */

/* One round of every part; returns a checksum that depends on all of it. */
uint64_t kcb_workload(uint64_t seed, void *scratch);

#endif
