/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the userland benchmarks, one loop for every variant.
 *
 * Each (config, mode, irq) is one Google Benchmark registration run by 1..N
 * threads.  A run is one time window (refscale's shape): threads are
 * pinned and attached as CPUs, start together at Google Benchmark's
 * barrier, warm up, then thread 0 opens and closes the measured window by
 * flipping a phase word that every thread polls between batches, so all
 * stop together and nobody is measured alone.  What a batch does in each
 * mode is modes.h's, shared with the module: the variant's own loop makes
 * KCB_BATCH direct calls to its hook, one indirect call per batch; the
 * workload mode runs one round of the instrumented workload per batch.
 */
#include <stdlib.h>
#include <time.h>
#include "bench.h"
#include "gb_shim.h"
#include "hwcount.h"

#define IRQ_PERIOD_NS	50000		/* simulated interrupts: 20 kHz */
#define SLOT		128		/* per-thread data, two lines apart */

enum { PH_WARM, PH_MEASURE, PH_STOP };

/* One thread's results, on its own pair of cache lines. */
struct slot {
	uint64_t ops;			/* hook calls (workload rounds) in the window */
	uint64_t ns;			/* window length seen by this thread */
	uint64_t cycles, insns;
	int cpu, pinned, hw;
} __attribute__((aligned(SLOT)));

struct bench {
	struct mode_run mr;		/* combo, mode and the shared buffer */
	int irq;
	const struct bench_opts *o;
	/* per run, reset by thread 0 before the start barrier */
	int phase __attribute__((aligned(SLOT)));
	struct slot *slots;
	int nslots;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Interrupt handlers run the hook as interrupted code would. */
static __thread const struct kcb_combo *irq_combo;
static void irq_hard(void *arg)
{
	(void)arg;
	irq_combo->trace_pc();
	kcb_raise_softirq();
}
static void irq_soft(void *arg)
{
	(void)arg;
	irq_combo->trace_pc();
}

static int setup_thread(struct bench *b, struct mode_thread *mt)
{
	if (mode_thread_init(&b->mr, mt))
		return -1;
	if (b->irq && b->mr.c) {
		irq_combo = b->mr.c;
		kcb_sim_irq_handlers(irq_hard, irq_soft, NULL);
		if (kcb_sim_irq_timer(IRQ_PERIOD_NS))
			return -1;
	}
	return 0;
}

static void window(struct bench *b, struct mode_thread *mt, int idx, struct slot *s)
{
	uint64_t ops = 0, start_ops = 0, t0 = now_ns(), tm = t0, start = t0;
	uint64_t warm = b->o->warmup_ns, len = b->o->window_ns, c0 = 0, i0 = 0;
	struct hwcount hw;
	int seen = PH_WARM;

	s->hw = b->o->hw && hw_open(&hw) == 0;
	for (;;) {
		ops += mode_batch(&b->mr, mt, idx);
		if (idx == 0) {
			uint64_t t = now_ns();

			if (seen == PH_WARM && t - t0 >= warm) {
				tm = t;
				__atomic_store_n(&b->phase, PH_MEASURE, __ATOMIC_RELEASE);
			} else if (seen == PH_MEASURE && t - tm >= len) {
				__atomic_store_n(&b->phase, PH_STOP, __ATOMIC_RELEASE);
			}
		}
		int ph = __atomic_load_n(&b->phase, __ATOMIC_ACQUIRE);
		if (ph == seen)
			continue;
		if (seen == PH_WARM) {		/* window opens */
			start_ops = ops;
			start = now_ns();
			if (s->hw)
				hw_read(&hw, &c0, &i0);
		}
		if (ph == PH_STOP) {		/* window closes */
			s->ns = now_ns() - start;
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

/* Thread 0: fairness, pinning and a label from every thread's slot. */
static void report(struct bench *b, kcb_gb_state *st, int n)
{
	double mean = 0, lo = 1e300, hi = 0;
	char label[256];
	int i, len = 0, pinned = 0, hw = 1;

	for (i = 0; i < n; i++) {
		double v = (double)b->slots[i].ops;

		mean += v / n;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		pinned += b->slots[i].pinned;
		hw &= b->slots[i].hw;
	}
	len = snprintf(label, sizeof(label), "cpus=");
	for (i = 0; i < n && len < (int)sizeof(label) - 16; i++)
		len += snprintf(label + len, sizeof(label) - len, "%s%d",
		    i ? "," : "", b->slots[i].cpu);
	/* As the module's (kmod/kcb_json.c): say what an op is. */
	snprintf(label + len, sizeof(label) - len, " hwcounters=%s%s", hw ? "yes" : "no",
	    b->mr.mode == MODE_WORKLOAD ? " op=one-workload-round(trace-pc)" : "");
	kcb_gb_label(st, label);
	kcb_gb_counter(st, "fair_spread", mean > 0 ? (hi - lo) / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "share_min", mean > 0 ? lo / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "share_max", mean > 0 ? hi / mean : 0, KCB_GB_SUM);
	kcb_gb_counter(st, "pinned", pinned, KCB_GB_SUM);
}

static void run(kcb_gb_state *st, void *arg)
{
	struct bench *b = arg;
	int idx = kcb_gb_thread_index(st), n = kcb_gb_threads(st);
	struct slot *s;
	struct mode_thread mt;
	int cpu;

	if (idx == 0) {
		/* Google Benchmark's start barrier publishes this. */
		if (n > b->nslots) {
			free(b->slots);
			b->slots = aligned_alloc(SLOT, n * sizeof(*b->slots));
			b->nslots = n;
		}
		memset(b->slots, 0, n * sizeof(*b->slots));
		b->phase = PH_WARM;
		mode_run_reset(&b->mr);
	}
	cpu = kcb_thread_attach(idx, true);
	while (kcb_gb_keep_running(st)) {
		s = &b->slots[idx];
		s->cpu = cpu;
		s->pinned = cpu >= 0 && cpu == kcb_pin_target(idx);
		if (cpu < 0 || setup_thread(b, &mt)) {
			kcb_gb_error(st, "thread set-up failed");
			break;
		}
		window(b, &mt, idx, s);
		kcb_gb_set_time(st, s->ns / 1e9);
		kcb_sim_irq_timer(0);
		mode_thread_fini(&b->mr, &mt);
	}
	s = &b->slots[idx];
	if (s->ops) {
		kcb_gb_counter(st, "ns_per_op", (double)s->ns / s->ops, KCB_GB_AVG);
		kcb_gb_counter(st, "ops_per_s", s->ops / (s->ns / 1e9), KCB_GB_SUM);
		kcb_gb_counter(st, "ops", (double)s->ops, KCB_GB_SUM);
		if (s->hw) {
			kcb_gb_counter(st, "cycles_per_op", (double)s->cycles / s->ops, KCB_GB_AVG);
			kcb_gb_counter(st, "instructions_per_op", (double)s->insns / s->ops, KCB_GB_AVG);
		}
	}
	if (idx == 0)
		report(b, st, n);
	if (cpu >= 0)
		kcb_thread_detach();
}

int bench_register(const struct bench_opts *o)
{
	int m, irq, i;

	for (i = -1; i < o->ncombos; i++) {
		for (m = 0; m < MODE_MAX; m++) {
			if (!(o->modes & (1 << m)))
				continue;
			for (irq = 0; irq <= 1; irq++) {
				struct bench *b;
				char name[160];

				if (!(o->irqs & (1 << irq)))
					continue;
				/* The empty hook: once per mode, no interrupts. */
				if (i < 0 && irq)
					continue;
				b = calloc(1, sizeof(*b));
				if (!b)
					return -1;
				b->irq = irq;
				b->o = o;
				/* The workload: upstream configurations only. */
				if (mode_run_init(&b->mr, i < 0 ? NULL : o->combos[i], m)) {
					free(b);
					if (m != MODE_WORKLOAD || i < 0)
						return -1;
					fprintf(stderr, "kcovbench: %s has no workload "
					    "copy (upstream configurations only): skipped\n",
					    o->names[i]);
					continue;
				}
				snprintf(name, sizeof(name), "%s/%s/irq:%d",
				    i < 0 ? "empty" : o->names[i], kcb_mode_names[m], irq);
				kcb_gb_register(name, run, b, o->threads, o->nthreads);
			}
		}
	}
	return 0;
}
