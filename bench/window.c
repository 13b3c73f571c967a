/* SPDX-License-Identifier: MIT */
/* window.c - the time-windowed runner of window.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "window.h"
#include "hwcount.h"
#include "bench.h"
#include "topology.h"

enum { PH_WARM, PH_MEASURE, PH_STOP };

struct kcb_window_slot {
	uint64_t ops, ns, cpu_ns, cycles, insns;
	int cpu, pinned, hw;
} __attribute__((aligned(128)));

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Whether another thread's set-up failed: the window is then over. */
static int aborted(struct kcb_window *w)
{
	return __atomic_load_n(&w->aborted, __ATOMIC_ACQUIRE);
}

/*
 * Thread 0 closes the window once it has lasted window_ns and every thread
 * has run a whole batch inside it: a thread the scheduler held off through
 * the window would otherwise report no ns/op, and Google Benchmark's
 * average over threads would halve the others'.  Its window is then longer
 * than asked for, and measured as it was.
 */
static int may_close(struct kcb_window *w, uint64_t open_ns)
{
	return open_ns >= w->window_ns &&
	    __atomic_load_n(&w->batched, __ATOMIC_ACQUIRE) == w->nthreads;
}

/* 0, or -1 if the window was aborted (the slot is then not filled). */
static int measure(struct kcb_window *w, int idx, struct kcb_window_slot *s)
{
	uint64_t ops = 0, start_ops = 0, t0 = now_ns(), tm = t0, start = t0, c0 = 0, i0 = 0;
	uint64_t cpu0 = 0;
	struct hwcount hw;
	int seen = PH_WARM, ph, batched = 0;

	s->hw = w->hw && hw_open(&hw) == 0;
	for (;;) {
		ops += w->ops->batch(w->arg, idx);
		if (seen == PH_MEASURE && !batched) {
			batched = 1;
			__atomic_add_fetch(&w->batched, 1, __ATOMIC_RELEASE);
		}
		if (idx == 0) {
			uint64_t t = now_ns();

			if (seen == PH_WARM && t - t0 >= w->warmup_ns) {
				tm = t;
				__atomic_store_n(&w->phase, PH_MEASURE, __ATOMIC_RELEASE);
			} else if (seen == PH_MEASURE && may_close(w, t - tm)) {
				__atomic_store_n(&w->phase, PH_STOP, __ATOMIC_RELEASE);
			}
		}
		if (aborted(w)) {
			if (s->hw)
				hw_close(&hw);
			return -1;
		}
		ph = __atomic_load_n(&w->phase, __ATOMIC_ACQUIRE);
		if (ph == seen)
			continue;
		if (seen == PH_WARM) {
			start_ops = ops;
			start = now_ns();
			cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			if (s->hw)
				hw_read(&hw, &c0, &i0);
		}
		if (ph == PH_STOP) {
			s->ns = now_ns() - start;
			s->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
			s->ops = ops - start_ops;
			if (s->hw) {
				hw_read(&hw, &s->cycles, &s->insns);
				s->cycles -= c0;
				s->insns -= i0;
				hw_close(&hw);
			}
			return 0;
		}
		seen = ph;
	}
}

/* " place=core cores=0,1 llcs=0,0 nodes=0,0": where each thread ran. */
static int place_label(char *buf, size_t len, const struct kcb_window *w, int n)
{
	static const char *const what[] = { "cores", "llcs", "nodes" };
	int k, i, at = snprintf(buf, len, " place=%s", bench_placement);

	for (k = 0; k < 3 && bench_topo; k++) {
		at += snprintf(buf + at, len - at, " %s=", what[k]);
		for (i = 0; i < n && at < (int)len - 16; i++) {
			const struct topo_cpu *c = topo_find(bench_topo, w->slots[i].cpu);
			int v = !c ? -1 : k == 0 ? c->core : k == 1 ? c->llc : c->node;

			at += snprintf(buf + at, len - at, "%s%d", i ? "," : "", v);
		}
	}
	return at < (int)len ? at : (int)len - 1;
}

static void report(struct kcb_window *w, kcb_gb_state *st, int n)
{
	double mean = 0, lo = 1e300, hi = 0;
	char label[768];
	int i, len, pinned = 0, hw = 1;

	for (i = 0; i < n; i++) {
		double v = (double)w->slots[i].ops;

		mean += v / n;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		pinned += w->slots[i].pinned;
		hw &= w->slots[i].hw;
	}
	len = snprintf(label, sizeof(label), "cpus=");
	for (i = 0; i < n && len < (int)sizeof(label) - 16; i++)
		len += snprintf(label + len, sizeof(label) - len, "%s%d",
		    i ? "," : "", w->slots[i].cpu);
	len += place_label(label + len, sizeof(label) - len, w, n);
	snprintf(label + len, sizeof(label) - len, " hwcounters=%s%s", hw ? "yes" : "no",
	    w->label ? w->label : "");
	kcb_gb_label(st, label);
	kcb_gb_counter(st, "fair_spread", mean > 0 ? (hi - lo) / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "share_min", mean > 0 ? lo / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "share_max", mean > 0 ? hi / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "pinned", pinned, KCB_GB_SUM);
}

/*
 * Thread 0, before Google Benchmark's start barrier (which publishes it):
 * a slot per thread and the registration's reset.  0, or -1 after a
 * message.
 */
static int prepare(struct kcb_window *w, int n)
{
	if (n > w->nslots) {
		free(w->slots);
		w->nslots = 0;
		w->slots = aligned_alloc(128, n * sizeof(*w->slots));
		if (!w->slots) {
			fprintf(stderr, "kcovbench: out of memory for %d window slots\n", n);
			return -1;
		}
		w->nslots = n;
	}
	memset(w->slots, 0, n * sizeof(*w->slots));
	w->nthreads = n;
	w->phase = PH_WARM;
	w->batched = 0;
	w->closed = 0;
	w->aborted = 0;
	if (w->ops->reset && w->ops->reset(w->arg, n))
		return -1;
	return 0;
}

/*
 * The module's cool-down: keep the machine loaded until every window has
 * closed, so the last one is not measured on an idle machine, and thread
 * 0 reads every slot filled when it reports.
 */
static void cool_down(struct kcb_window *w, int idx)
{
	__atomic_add_fetch(&w->closed, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&w->closed, __ATOMIC_ACQUIRE) < w->nthreads && !aborted(w))
		w->ops->batch(w->arg, idx);
}

/* One thread's repetition: 0, or -1 after kcb_gb_error(). */
static int run_one(struct kcb_window *w, kcb_gb_state *st, int idx, int cpu)
{
	struct kcb_window_slot *s = &w->slots[idx];

	s->cpu = cpu;
	s->pinned = cpu >= 0 && cpu == kcb_pin_target(idx);
	if (cpu < 0 || w->ops->thread_init(w->arg, idx)) {
		/* the other threads leave measure() instead of waiting for us */
		__atomic_store_n(&w->aborted, 1, __ATOMIC_RELEASE);
		fprintf(stderr, "kcovbench: thread %d could not set up\n", idx);
		kcb_gb_error(st, "thread set-up failed");
		return -1;
	}
	if (measure(w, idx, s)) {
		w->ops->thread_fini(w->arg, idx);
		kcb_gb_error(st, "another thread's set-up failed");
		return -1;
	}
	cool_down(w, idx);
	kcb_gb_set_time(st, s->ns / 1e9);
	w->ops->thread_fini(w->arg, idx);
	return 0;
}

static void report_thread(kcb_gb_state *st, const struct kcb_window_slot *s)
{
	/*
	 * ns/op on the wall clock, as the module measures it.  The thread's
	 * CPU time per op sits beside it: where they part, something else had
	 * the CPU.  (Tried as the headline: A/A compares on this VM were no
	 * steadier, the drift is the host's, between runs.)
	 */
	kcb_gb_counter(st, "ns_per_op", (double)s->ns / s->ops, KCB_GB_AVG);
	kcb_gb_counter(st, "cpu_ns_per_op", (double)s->cpu_ns / s->ops, KCB_GB_AVG);
	kcb_gb_counter(st, "ops_per_s", s->ops / (s->ns / 1e9), KCB_GB_SUM);
	kcb_gb_counter(st, "ops", (double)s->ops, KCB_GB_SUM);
	if (s->hw) {
		kcb_gb_counter(st, "cycles_per_op", (double)s->cycles / s->ops, KCB_GB_AVG);
		kcb_gb_counter(st, "instructions_per_op", (double)s->insns / s->ops, KCB_GB_AVG);
	}
}

void kcb_window_run(kcb_gb_state *st, void *arg)
{
	struct kcb_window *w = arg;
	int idx = kcb_gb_thread_index(st), n = kcb_gb_threads(st), cpu, ok = 0;

	if (idx == 0 && prepare(w, n))
		w->aborted = 1;
	cpu = kcb_thread_attach(idx, true);
	while (kcb_gb_keep_running(st)) {
		if (aborted(w)) {
			kcb_gb_error(st, "set-up failed");
			break;
		}
		if (run_one(w, st, idx, cpu))
			break;
		ok = 1;
	}
	if (ok && w->slots[idx].ops)
		report_thread(st, &w->slots[idx]);
	if (idx == 0 && ok)
		report(w, st, n);
	if (cpu >= 0)
		kcb_thread_detach();
}
