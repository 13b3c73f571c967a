// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_ab.c - a paired run (spec key ab=B): the same kthreads measure A
 * and B in alternating windows, so that whatever drifts (the host, or
 * under qemu the emulator) hits both alike.  bench/ab.c's design, for one
 * layout; the statistics stay in userland, the module gives a summary.
 *
 * A window is a fixed number of batches, calibrated once per side by
 * thread 0 to about KCB_AB_WINDOW_NS, one count for both when they are
 * within 4x (bench/ab.c says why).  A round is one window of A and one of
 * B, the order drawn from the run's seed and the round's number, so that
 * every thread draws the same; a barrier before each window keeps the
 * threads in lockstep.  Both sides point the task's tracing at the one
 * mode_thread before their window (mode_thread_enable()).
 *
 * A window counts only if the kthread was not switched out during it (its
 * nvcsw + nivcsw unchanged: the scheduler counts every switch, preemption
 * or not, on every preemption model, and it needs no notifier to register
 * and unregister) and is on the same CPU (bound kthreads under the hotplug
 * lock cannot move: a check, not an expected cause).  Interrupts are not
 * seen; they land in windows of both sides alike.  A round with a window
 * that does not count is dropped.
 *
 * Kept pairs are summarised per thread in integers: the medians of A's
 * and B's fs per op and of ln(B/A) in ppm.  The pairs stay here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/math64.h>
#include <linux/random.h>
#include <linux/ktime.h>
#include <linux/overflow.h>
#include "kcb_run.h"

#define AB_CAL		17	/* single-batch timings per side: a median */
#define FS_PER_NS	1000000ull
#define LN2_PPM		693147	/* ln 2 x 10^6 (693147.18) */

/* One thread's kept pairs. */
struct ab_thread {
	u64 *fs[2];			/* A's and B's fs per op */
	s64 *lr;			/* ln(B/A) in ppm */
	u64 n;
};

/* One repetition, shared by its threads. */
struct kcb_ab {
	const struct kcb_spec *spec;	/* [I] */
	struct mode_run *mr;		/* [I] A's and B's */
	const bool *abort;		/* [a] the writer was signalled */
	u64 seed;			/* [I] the rounds' order */
	u64 cap;			/* [I] most rounds measured: pairs' room */
	u64 batches[2];			/* [a] per window of A, B: thread 0's */
	int measuring, stop;		/* [a] set by thread 0 between rounds */
	atomic_t waiting;		/* [a] barrier: threads not in yet */
	int sense;			/* [a] ... flipped by the last one in */
	struct ab_thread t[];		/* [nthreads] each its own */
};

/* One window's measure. */
struct ab_win {
	u64 ops, ns;
	bool switched, migrated;
};

static u64 cpu_time(void)
{
	/* Tick-granular, but all a module can read of its own runtime. */
	return READ_ONCE(current->se.sum_exec_runtime);
}

static unsigned long switches(void)
{
	return READ_ONCE(current->nvcsw) + READ_ONCE(current->nivcsw);
}

/*
 * All threads meet (sense-reversing); false once the run is aborted.
 * cond_resched() first, outside any window: a !PREEMPT kernel must still
 * schedule and pass RCU quiescent states.
 */
static bool ab_barrier(struct kcb_ab *ab, int *sense)
{
	cond_resched();
	*sense = !*sense;
	if (atomic_dec_and_test(&ab->waiting)) {
		atomic_set(&ab->waiting, ab->spec->nthreads);
		smp_store_release(&ab->sense, *sense);
	} else {
		while (smp_load_acquire(&ab->sense) != *sense &&
		       !READ_ONCE(*ab->abort))
			cond_resched();
	}
	return !READ_ONCE(*ab->abort);
}

static u64 splitmix(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Round r's first side, 0 (A) or 1 (B): the same in every thread. */
static int round_first(u64 seed, u64 r)
{
	u64 x = seed ^ (r * 0xd1342543de82ef95ull);

	return splitmix(&x) & 1;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[n], n > 0 (sorted here): the middle two's mean if even. */
static u64 median_u64(u64 *v, u64 n)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	if (n & 1)
		return v[n / 2];
	return v[n / 2 - 1] / 2 + v[n / 2] / 2 + (v[n / 2 - 1] & v[n / 2] & 1);
}

static s64 median_s64(s64 *v, u64 n)
{
	sort(v, n, sizeof(*v), cmp_s64, NULL);
	/* |v| < 2^40 (see ln_ppm()): the sum cannot overflow */
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * ln(num / den) in ppm, both above 0: the ratio in Q30, its log2 bit by
 * bit (square the mantissa in [1, 2), a bit per doubling), times ln 2.
 * Ratios are clamped to 2^-30 .. 2^33 (two sides' fs per op are never
 * that far apart): |log2| < 34 in Q30, the products stay within s64, and
 * the Q30 quotient fits (x86's divq would trap otherwise).
 */
static s64 ln_ppm(u64 num, u64 den)
{
	u64 x, m;
	s64 lg;
	int e, i;

	x = div64_u64(num, den) >= 1ull << 33 ? 1ull << 63 :
	    mul_u64_u64_div_u64(num, 1ull << 30, den);
	x = max(x, 1ull);
	e = fls64(x) - 31;		/* x / 2^e in [2^30, 2^31) */
	m = e >= 0 ? x >> e : x << -e;
	lg = (s64)e << 30;
	for (i = 29; i >= 0; i--) {
		m = (m * m) >> 30;
		if (m >= 2ull << 30) {
			m >>= 1;
			lg += 1ll << i;
		}
	}
	return div_s64(lg * LN2_PPM, 1 << 30);
}

/* fs per op of a window. */
static u64 fs_per_op(const struct ab_win *w)
{
	return w->ops ? mul_u64_u64_div_u64(w->ns, FS_PER_NS, w->ops) : 0;
}

/* One window of side s: batches of the benchmark's own loop. */
static void ab_window(struct kcb_ab *ab, int idx, int s,
		      struct mode_thread *mt, struct ab_win *w)
{
	struct mode_run *mr = &ab->mr[s];
	u64 k = READ_ONCE(ab->batches[s]), i, t0;
	unsigned long sw;
	int cpu;

	mode_thread_enable(mr, mt);
	w->ops = 0;
	sw = switches();
	cpu = raw_smp_processor_id();
	t0 = ktime_get_ns();
	for (i = 0; i < k; i++)
		w->ops += mode_batch(mr, mt, idx);
	w->ns = ktime_get_ns() - t0;
	w->migrated = raw_smp_processor_id() != cpu;
	w->switched = switches() != sw;
	kcb_task_disable(kcb_current());
}

/*
 * Batches per window of side s: the median of single-batch times after a
 * warm-up, scaled to the window.  Every thread warms up; thread 0's count
 * is the one.
 */
static void ab_calibrate(struct kcb_ab *ab, int idx, int s,
			 struct mode_thread *mt)
{
	struct mode_run *mr = &ab->mr[s];
	u64 d[AB_CAL], t0 = ktime_get_ns(), b;
	int i;

	mode_thread_enable(mr, mt);
	while (ktime_get_ns() - t0 < ab->spec->warmup_ns / 4 &&
	       !READ_ONCE(*ab->abort)) {
		mode_batch(mr, mt, idx);
		cond_resched();
	}
	for (i = 0; i < AB_CAL; i++) {
		cond_resched();
		b = ktime_get_ns();
		mode_batch(mr, mt, idx);
		d[i] = ktime_get_ns() - b;
	}
	kcb_task_disable(kcb_current());
	b = median_u64(d, AB_CAL);
	b = b ? div64_u64(KCB_AB_WINDOW_NS + b / 2, b) : 1;
	if (idx == 0)
		WRITE_ONCE(ab->batches[s], max(b, 1ull));
}

/*
 * Sides within 4x of each other share one batch count (the slower side's),
 * so a window's fixed costs spread over the same work on both; beyond 4x
 * each keeps its own, or the slower one's windows would be preempted.
 */
static void ab_common_window(struct kcb_ab *ab)
{
	u64 lo = min(ab->batches[0], ab->batches[1]);
	u64 hi = max(ab->batches[0], ab->batches[1]);

	if (hi <= 4 * lo) {
		WRITE_ONCE(ab->batches[0], lo);
		WRITE_ONCE(ab->batches[1], lo);
	}
}

/* A measured round: its pair kept, or dropped and why counted. */
static void ab_keep(struct ab_thread *t, const struct ab_win *w,
		    struct kcb_thr_result *res)
{
	struct kcb_ab_thr *s = &res->ab;
	u64 a = fs_per_op(&w[0]), b = fs_per_op(&w[1]);
	int i;

	s->rounds++;
	if (w[0].switched || w[1].switched || w[0].migrated ||
	    w[1].migrated || !a || !b) {
		s->dropped++;
		for (i = 0; i < 2; i++) {
			s->preempted += w[i].switched;
			s->migrated += w[i].migrated;
		}
		return;
	}
	t->fs[0][t->n] = a;
	t->fs[1][t->n] = b;
	t->lr[t->n] = ln_ppm(b, a);
	t->n++;
	/* The usual fields, A's: its kept windows. */
	res->ops += w[0].ops;
	res->ns += w[0].ns;
}

/* Thread 0, between rounds: start measuring after the warm-up, stop
 * after window_ns of measured rounds or when the pairs' room is full. */
static void ab_decide(struct kcb_ab *ab, u64 warm_end, u64 *start,
		      u64 rounds)
{
	u64 now = ktime_get_ns();

	if (!READ_ONCE(ab->measuring)) {
		if (now >= warm_end) {
			*start = now;
			WRITE_ONCE(ab->measuring, 1);
		}
	} else if (now - *start >= ab->spec->window_ns || rounds >= ab->cap) {
		WRITE_ONCE(ab->stop, 1);
	}
}

static void ab_summary(struct ab_thread *t, struct kcb_ab_thr *s)
{
	s->pairs = t->n;
	if (!t->n)
		return;
	s->a_fs = median_u64(t->fs[0], t->n);
	s->b_fs = median_u64(t->fs[1], t->n);
	s->lr_ppm = median_s64(t->lr, t->n);
}

void kcb_ab_thread(struct kcb_ab *ab, int idx, struct mode_thread *mt,
		   struct kcb_thr_result *res)
{
	struct ab_thread *t = &ab->t[idx];
	u64 r, c0 = cpu_time(), warm_end = 0, start = 0;
	struct ab_win w[2];
	int sense = 0, i, s, measuring = 0;

	ab_calibrate(ab, idx, 0, mt);
	ab_calibrate(ab, idx, 1, mt);
	if (!ab_barrier(ab, &sense))
		goto out;
	if (idx == 0) {
		ab_common_window(ab);
		warm_end = ktime_get_ns() + ab->spec->warmup_ns;
	}
	for (r = 0;; r++) {
		int first = round_first(ab->seed, r);

		for (i = 0; i < 2; i++) {
			s = i ? !first : first;
			if (!ab_barrier(ab, &sense))
				goto out;
			ab_window(ab, idx, s, mt, &w[s]);
		}
		if (measuring)
			ab_keep(t, w, res);
		if (idx == 0)
			ab_decide(ab, warm_end, &start, res->ab.rounds);
		if (!ab_barrier(ab, &sense))
			goto out;
		if (READ_ONCE(ab->stop))
			break;
		measuring = READ_ONCE(ab->measuring);
	}
	ab_summary(t, &res->ab);
out:
	res->ab.seed = ab->seed;
	res->ab.batches[0] = READ_ONCE(ab->batches[0]);
	res->ab.batches[1] = READ_ONCE(ab->batches[1]);
	res->cpu_ns = cpu_time() - c0;
}

int kcb_ab_side(const struct kcb_spec *spec)
{
	/* The empty hook sets up no guard bitmap or hash table: B's must. */
	return spec->ab[0] && !spec->c && spec->cb;
}

struct kcb_ab *kcb_ab_alloc(const struct kcb_spec *spec, struct mode_run *mr,
			    const bool *abort)
{
	struct kcb_ab *ab = kzalloc(struct_size(ab, t, spec->nthreads),
				    GFP_KERNEL);

	if (!ab)
		return NULL;
	ab->spec = spec;
	ab->mr = mr;
	ab->abort = abort;
	ab->seed = get_random_u64();
	/* Rounds of two windows in window_ns, and some slack. */
	ab->cap = div64_u64(spec->window_ns, 2 * KCB_AB_WINDOW_NS) + 64;
	atomic_set(&ab->waiting, spec->nthreads);
	return ab;
}

int kcb_ab_thread_init(struct kcb_ab *ab, int idx)
{
	struct ab_thread *t = &ab->t[idx];

	t->fs[0] = kvmalloc_array(ab->cap, sizeof(u64), GFP_KERNEL);
	t->fs[1] = kvmalloc_array(ab->cap, sizeof(u64), GFP_KERNEL);
	t->lr = kvmalloc_array(ab->cap, sizeof(s64), GFP_KERNEL);
	return t->fs[0] && t->fs[1] && t->lr ? 0 : -ENOMEM;
}

void kcb_ab_free(struct kcb_ab *ab)
{
	int i;

	if (!ab)
		return;
	for (i = 0; i < ab->spec->nthreads; i++) {
		kvfree(ab->t[i].fs[0]);
		kvfree(ab->t[i].fs[1]);
		kvfree(ab->t[i].lr);
	}
	kfree(ab);
}
