/* SPDX-License-Identifier: MIT */
/*
 * window.h - one time-windowed run of a Google Benchmark registration, for
 * any batch function: threads attach as CPUs (pinned), start together,
 * warm up; thread 0 opens and closes the window through a phase word all
 * threads poll between batches, closing it only once every thread has run a
 * batch inside it (as the module's, kmod/kcb_run.c); each thread reports
 * ops and ns from its own slot.  A thread whose set-up fails aborts the
 * window for all, and the repetition ends with an error.  bench.c and
 * remote_bench.c both run on it.
 */
#ifndef KCB_WINDOW_H
#define KCB_WINDOW_H
#include "gb_shim.h"
#include "../variants/variant.h"

struct kcb_window_ops {
	/* Thread 0, before the threads start (each repetition); 0, or -1
	 * after a message. */
	int (*reset)(void *arg, int nthreads);
	/* In the thread, attached: set-up, one batch (returns ops), tear-down. */
	int (*thread_init)(void *arg, int idx);
	uint64_t (*batch)(void *arg, int idx);
	void (*thread_fini)(void *arg, int idx);
};

struct kcb_window {
	const struct kcb_window_ops *ops;
	void *arg;
	uint64_t window_ns, warmup_ns;
	int hw;
	const char *label;		/* appended to the label, or NULL */
	/* private */
	int phase __attribute__((aligned(128)));
	int batched;			/* threads with a batch in the window */
	int closed;			/* threads whose window has closed */
	int aborted;			/* a thread could not set up */
	struct kcb_window_slot *slots;
	int nslots, nthreads;
};

/* The kcb_gb_fn to register with arg = struct kcb_window *. */
void kcb_window_run(kcb_gb_state *st, void *w);

#endif
