/* SPDX-License-Identifier: MIT */
/*
 * explore.h - a deterministic scheduler for one simulated CPU (userland,
 * the -DKCB_EXPLORE flavour): tasks are ucontext coroutines on one OS
 * thread; every lock, irq restore and kcb_preempt_point() of the REAL
 * variant code asks it whether to switch task or (on !RT) to run a softirq
 * on top of the current task.  explore_run() enumerates every schedule by
 * stateless DFS over those choices, re-running from scratch each time.
 */
#ifndef KCB_EXPLORE_H
#define KCB_EXPLORE_H

#include "../variants/remote.h"

#define X_MAX_TASKS	4

struct x_world {
	int ntasks;
	int rt;				/* PREEMPT_RT semantics */
	int preempt_bound;		/* task switches away from a runnable task */
	int softirq_budget;		/* !RT: softirqs that may fire per run */
	void (*setup)(void *arg);	/* before the tasks, in main context */
	void (*task)(int idx, void *arg);
	void (*softirq)(void *arg);	/* !RT: runs on top of the current task */
	/* after the tasks; returns problems (logged with x_note()) */
	int (*check)(void *arg, int deadlocked);
	void *arg;
};

struct x_result {
	uint64_t runs, failing, deadlocks;
	int truncated;			/* the run cap was hit */
};

/* Explore every schedule; print the first failing one's trace to out. */
void explore_run(const struct x_world *w, struct x_result *res, uint64_t max_runs,
    FILE *out);
/* A line in the current run's trace. */
void x_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Which task runs (-1 in main context). */
int x_current(void);

#endif
