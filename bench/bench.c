/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the userland benchmarks, one loop for every variant.
 *
 * Each (config, mode, irq) is one Google Benchmark registration run by 1..N
 * threads through window.c (refscale's shape: pinned threads start
 * together, warm up, and share one measured window).  What a batch does
 * in each mode is modes.h's, shared with the module: the variant's own
 * loop makes KCB_BATCH direct calls to its hook, one indirect call per
 * batch; the workload mode runs one round of the instrumented workload.
 */
#include <stdlib.h>
#include "bench.h"
#include "window.h"

#define IRQ_PERIOD_NS	50000		/* simulated interrupts: 20 kHz */

/* A thread's mode state, on its own pair of cache lines. */
struct thread_state {
	struct mode_thread mt;
} __attribute__((aligned(128)));

struct bench {
	struct kcb_window w;
	struct mode_run mr;		/* combo, mode and the shared buffer */
	int irq;
	struct thread_state *ts;	/* one per thread, reallocated by reset */
	int nts;
};

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

static int b_reset(void *arg, int n)
{
	struct bench *b = arg;

	if (n > b->nts) {
		free(b->ts);
		b->nts = 0;
		b->ts = aligned_alloc(128, n * sizeof(*b->ts));
		if (!b->ts) {
			fprintf(stderr, "kcovbench: out of memory for %d threads' state\n", n);
			return -1;
		}
		b->nts = n;
	}
	mode_run_reset(&b->mr);
	return 0;
}

static int b_thread_init(void *arg, int idx)
{
	struct bench *b = arg;

	if (mode_thread_init(&b->mr, &b->ts[idx].mt))
		return -1;
	if (b->irq && b->mr.c) {
		irq_combo = b->mr.c;
		kcb_sim_irq_handlers(irq_hard, irq_soft, NULL);
		if (kcb_sim_irq_timer(IRQ_PERIOD_NS))
			return -1;
	}
	return 0;
}

static uint64_t b_batch(void *arg, int idx)
{
	struct bench *b = arg;

	return mode_batch(&b->mr, &b->ts[idx].mt, idx);
}

static void b_thread_fini(void *arg, int idx)
{
	struct bench *b = arg;

	kcb_sim_irq_timer(0);
	mode_thread_fini(&b->mr, &b->ts[idx].mt);
}

static const struct kcb_window_ops bench_ops = {
	.reset = b_reset,
	.thread_init = b_thread_init,
	.batch = b_batch,
	.thread_fini = b_thread_fini,
};

int bench_register(const struct bench_opts *o)
{
	int m, irq, i, err;

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
				b->w.ops = &bench_ops;
				b->w.arg = b;
				b->w.window_ns = o->window_ns;
				b->w.warmup_ns = o->warmup_ns;
				b->w.hw = o->hw;
				/* As the module's (kmod/kcb_json.c): say what an op is. */
				if (kcb_modes[m].flags & KCB_MF_WORKLOAD)
					b->w.label = " op=one-workload-round(trace-pc)";
				/* The workload: upstream configurations only. */
				err = mode_run_init(&b->mr, i < 0 ? NULL : o->combos[i], m,
				    o->buf_words);
				if (err == -EOPNOTSUPP) {	/* issue 24: kernel-* */
					fprintf(stderr, "kcovbench: %s does not run mode %s: refused "
					    "(a real kernel/kcov.o runs pertask, cmp, the switch modes and workload)\n",
					    o->names[i], kcb_mode_names[m]);
					free(b);
					return -1;
				}
				if (err) {
					unsigned int f = kcb_modes[m].flags;
					int guard = !!(f & (KCB_MF_GUARD | KCB_MF_HASH));

					free(b);
					if ((!(f & KCB_MF_WORKLOAD) && !guard) || i < 0)
						return -1;
					if (!guard)
						fprintf(stderr, "kcovbench: %s has no workload "
						    "copy: skipped\n", o->names[i]);
					continue;	/* guard and hash modes: their front ends only */
				}
				snprintf(name, sizeof(name), "%s/%s/irq:%d",
				    i < 0 ? "empty" : o->names[i], kcb_mode_names[m], irq);
				kcb_gb_register(name, kcb_window_run, &b->w, o->threads, o->nthreads);
			}
		}
	}
	return 0;
}
