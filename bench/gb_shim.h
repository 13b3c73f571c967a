/* SPDX-License-Identifier: MIT */
/*
 * gb_shim.h - a C face on Google Benchmark (Debian 12: 1.7.1), which has
 * no C API.  Only what kcovbench uses: register a C function with thread
 * counts, run one timed iteration per repetition with manual time, set
 * counters, labels and context, and run with Google Benchmark's own flags.
 */
#ifndef KCB_GB_SHIM_H
#define KCB_GB_SHIM_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kcb_gb_state kcb_gb_state;	/* a benchmark::State */
typedef void (*kcb_gb_fn)(kcb_gb_state *st, void *arg);

enum {
	KCB_GB_SUM = 0,		/* summed over threads (Google Benchmark's default) */
	KCB_GB_AVG = 1,		/* averaged over threads */
};

/* Register fn(arg) as `name`, run by each of nthreads[0..n-1] threads. */
void kcb_gb_register(const char *name, kcb_gb_fn fn, void *arg,
    const int *nthreads, int n);
/* Parse and strip Google Benchmark's flags; 0, or 2 on an unknown flag. */
int  kcb_gb_init(int *argc, char **argv);
void kcb_gb_context(const char *key, const char *value);
int  kcb_gb_run(void);			/* number of benchmarks run */
int  kcb_gb_errors(void);		/* kcb_gb_error() calls so far */

/* Inside a benchmark function. */
int  kcb_gb_thread_index(kcb_gb_state *st);
int  kcb_gb_threads(kcb_gb_state *st);
bool kcb_gb_keep_running(kcb_gb_state *st);	/* true once: Iterations(1) */
void kcb_gb_set_time(kcb_gb_state *st, double seconds);
void kcb_gb_counter(kcb_gb_state *st, const char *name, double v, int how);
void kcb_gb_label(kcb_gb_state *st, const char *label);
void kcb_gb_error(kcb_gb_state *st, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
