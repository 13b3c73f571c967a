/* SPDX-License-Identifier: MIT */
/* window.c - the time-windowed runner of window.h. */
#include <stdlib.h>
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

static void measure(struct kcb_window *w, int idx, struct kcb_window_slot *s)
{
	uint64_t ops = 0, start_ops = 0, t0 = now_ns(), tm = t0, start = t0, c0 = 0, i0 = 0;
	uint64_t cpu0 = 0;
	struct hwcount hw;
	int seen = PH_WARM, ph;

	s->hw = w->hw && hw_open(&hw) == 0;
	for (;;) {
		ops += w->ops->batch(w->arg, idx);
		if (idx == 0) {
			uint64_t t = now_ns();

			if (seen == PH_WARM && t - t0 >= w->warmup_ns) {
				tm = t;
				__atomic_store_n(&w->phase, PH_MEASURE, __ATOMIC_RELEASE);
			} else if (seen == PH_MEASURE && t - tm >= w->window_ns) {
				__atomic_store_n(&w->phase, PH_STOP, __ATOMIC_RELEASE);
			}
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
			return;
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

void kcb_window_run(kcb_gb_state *st, void *arg)
{
	struct kcb_window *w = arg;
	int idx = kcb_gb_thread_index(st), n = kcb_gb_threads(st), cpu;
	struct kcb_window_slot *s;

	if (idx == 0) {
		/* Google Benchmark's start barrier publishes this. */
		if (n > w->nslots) {
			free(w->slots);
			w->slots = aligned_alloc(128, n * sizeof(*w->slots));
			w->nslots = n;
		}
		memset(w->slots, 0, n * sizeof(*w->slots));
		w->phase = PH_WARM;
		if (w->ops->reset)
			w->ops->reset(w->arg, n);
	}
	cpu = kcb_thread_attach(idx, true);
	while (kcb_gb_keep_running(st)) {
		s = &w->slots[idx];
		s->cpu = cpu;
		s->pinned = cpu >= 0 && cpu == kcb_pin_target(idx);
		if (cpu < 0 || w->ops->thread_init(w->arg, idx)) {
			kcb_gb_error(st, "thread set-up failed");
			break;
		}
		measure(w, idx, s);
		kcb_gb_set_time(st, s->ns / 1e9);
		w->ops->thread_fini(w->arg, idx);
	}
	s = &w->slots[idx];
	if (s->ops) {
		/*
		 * ns/op on the wall clock, as the module measures it.  The
		 * thread's CPU time per op sits beside it: where they part,
		 * something else had the CPU.  (Tried as the headline: A/A
		 * compares on this VM were no steadier, the drift is the
		 * host's, between runs.)
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
	if (idx == 0)
		report(w, st, n);
	if (cpu >= 0)
		kcb_thread_detach();
}
