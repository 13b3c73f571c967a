/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcb_run.h - the module as a benchmark: a run spec, the kthreads that run
 * it, and its results in Google Benchmark's JSON shape (kcb_json.c), so
 * that the tables of scripts/kcb/ show kernel and userland runs alike.
 */
#ifndef KCB_RUN_H
#define KCB_RUN_H

#include "../bench/modes.h"
#include "../variants/remote.h"

#define KCB_SPEC_MAX		512	/* bytes of one spec */
#define KCB_CONFIG_MAX		64
#define KCB_WINDOW_MS_MAX	10000
#define KCB_WARMUP_MS_MAX	10000
#define KCB_REPS_MAX		100
/*
 * A run holds the CPU hotplug lock (its threads must stay on their CPUs),
 * and a hotplug writer waiting longer than the hung-task timeout (120 s)
 * would warn: keep a whole run well below it.
 */
#define KCB_RUN_MS_MAX		60000

/* records= at most, as userland's --remote-records. */
#define KCB_REMOTE_RECORDS_MAX	256

/* What to run: parsed from "key=value ..." (kcb_spec.c). */
struct kcb_spec {
	char config[KCB_CONFIG_MAX];	/* as named: config, fe/pair, "empty" */
	const struct kcb_combo *c;	/* NULL for "empty" */
	int mode;			/* MODE_* */
	int irq;			/* always 0: see kcb_spec.c */
	int nthreads;
	int *cpus;			/* [nthreads] thread i's CPU */
	u64 window_ns, warmup_ns;
	int reps;
	u64 buf_words;			/* own buffers, 0: one batch's room */
	const struct kcb_remote_ops *remote;	/* a remote-section run, or NULL */
	int remote_soft;		/* ... its sections in softirq */
	int remote_records;		/* ... hooks per section (records=) */
	int remote_request;		/* ... records= given: a request-rate run */
	char ab[KCB_CONFIG_MAX];	/* B of a paired run (kcb_ab.c), or "" */
	const struct kcb_combo *cb;	/* ... its combo, NULL for "empty" */
};

/* The mode's name, or a remote run's context ("task", "softirq"). */
static inline const char *kcb_spec_mode_name(const struct kcb_spec *spec)
{
	if (spec->remote)
		return spec->remote_soft ? "softirq" : "task";
	return kcb_mode_names[spec->mode];
}

/*
 * Remote-section runs (kcb_remote_run.c): the design's pools for the whole
 * run, and per thread an owner of its own with a handle of its own, so the
 * threads share only what the design shares.  A batch is SECTIONS
 * sections, each start + stop with no hooks between, in task context or
 * in a softirq of this CPU (a tasklet its local_bh_enable() runs).
 */
struct kcb_remote_thread;
int  kcb_remote_run_init(const struct kcb_spec *spec);
int  kcb_remote_run_fini(const struct kcb_spec *spec);
struct kcb_remote_thread *kcb_remote_thread_init(const struct kcb_spec *spec, int idx);
u64  kcb_remote_batch(struct kcb_remote_thread *t);
void kcb_remote_thread_fini(struct kcb_remote_thread *t);

/*
 * A paired run (spec ab=B, kcb_ab.c): per thread, rounds of one window of
 * A and one of B in a seeded random order, every thread in the same window
 * at once.  A pair is kept only if neither window was switched out or
 * migrated.  No floating point in the kernel: integers, fixed point.
 */
#define KCB_AB_WINDOW_NS	(200 * NSEC_PER_USEC)

struct kcb_ab_thr {
	u64 rounds;			/* measured rounds, as every thread's */
	u64 batches[2];			/* per window of A, B: thread 0's */
	u64 seed;			/* the rounds' order, as every thread's */
	u64 pairs, dropped;		/* kept pairs; dropped rounds, ... */
	u64 preempted, migrated;	/* ... and their windows, by cause */
	u64 a_fs, b_fs;			/* medians over kept pairs: fs per op,
					 * i.e. ns per op with six decimals */
	s64 lr_ppm;			/* median over kept pairs of ln(B/A),
					 * in parts per million */
};

/* One thread's part of one repetition. */
struct kcb_thr_result {
	u64 ops;			/* batches' ops in the window (ab: A's
					 * kept windows) */
	u64 ns;				/* the window, as this thread saw it */
	u64 cpu_ns;			/* its CPU time, warm-up included */
	int cpu;			/* where it ran (-1: never attached) */
	int pinned;			/* on its CPU at start and at the end */
	struct kcb_ab_thr ab;		/* a paired run's summary */
};

/* Every repetition of a run, as kcb_json.c prints it. */
struct kcb_results {
	const struct kcb_spec *spec;
	struct kcb_thr_result *thr;	/* [reps][nthreads] */
	int *rep_err;			/* [reps] 0, or why it has no numbers */
};

/*
 * A paired run's repetition (kcb_ab.c): kcb_ab_alloc() before its threads
 * start, kcb_ab_thread_init() then kcb_ab_thread() in each (attached, its
 * mode_thread set up), kcb_ab_free() after.  mr[2] are A's and B's;
 * *abort stops every thread at its next window.  kcb_ab_side(): the side
 * whose mode_thread_init() sets up the one buffer both sides use.
 */
struct kcb_ab;
struct kcb_ab *kcb_ab_alloc(const struct kcb_spec *spec, struct mode_run *mr,
			    const bool *abort);
void kcb_ab_free(struct kcb_ab *ab);
/* In the thread before the start barrier: its room for pairs; -ENOMEM. */
int  kcb_ab_thread_init(struct kcb_ab *ab, int idx);
void kcb_ab_thread(struct kcb_ab *ab, int idx, struct mode_thread *mt,
		   struct kcb_thr_result *res);
int  kcb_ab_side(const struct kcb_spec *spec);

/*
 * Parse text (modified in place) into spec.  The caller holds
 * cpus_read_lock(), so the CPUs checked online stay so for the run.
 * Returns 0 or -EINVAL; kcb_spec_free() either way.
 */
int  kcb_spec_parse(char *text, struct kcb_spec *spec);
void kcb_spec_free(struct kcb_spec *spec);
/* The canonical spec: every key, defaults filled in. */
int  kcb_spec_print(const struct kcb_spec *spec, char *buf, size_t size);

/*
 * Run every repetition of spec (cpus_read_lock() held) into res.  A
 * signal to the caller stops it within one batch: -EINTR.
 */
int  kcb_run(const struct kcb_spec *spec, struct kcb_results *res);
int  kcb_results_alloc(struct kcb_results *res, const struct kcb_spec *spec);
void kcb_results_free(struct kcb_results *res);

/* The results as JSON in a kvmalloc()ed string (*len bytes); -errno. */
int  kcb_json(const struct kcb_results *res, char **out, size_t *len);
/* One dmesg line per repetition. */
void kcb_results_log(const struct kcb_results *res);

/* The debugfs control files and the load-time run (kcb_ctl.c). */
int  kcb_ctl_init(const char *run_at_load);
void kcb_ctl_exit(void);

#endif
