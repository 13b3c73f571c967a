/* SPDX-License-Identifier: MIT */
/*
 * test_irq.c - (d) simulated interrupts: records made in hardirq and
 * softirq context appear only where the front end's OS rule allows them.
 * The front end names its rule (FE_IRQ_POLICY); what each rule lets through
 * is written here from the OSes' sources, not from the variants.
 */
#include <stdlib.h>
#include "test_irq.h"

enum { CTX_TASK = 1, CTX_HARD = 2, CTX_SOFT = 3 };

/* What each OS rule lets through (the front end declares which rule it
 * copies: FE_IRQ_POLICY); -1 for a policy this test does not know, which
 * fails rather than guessing. */
static int allowed(enum kcb_irq_policy policy, int ctx, int kcov_softirq, int kd_intr)
{
	switch (policy) {
	case KCB_IRQ_TASK_OR_KD_INTR:		/* inintr(ci) && !kd_intr */
		return ctx == CTX_TASK || kd_intr;
	case KCB_IRQ_TASK_OR_KCOV_SOFTIRQ:	/* in_softirq_really() && kcov_softirq */
		return ctx == CTX_TASK || (ctx == CTX_SOFT && kcov_softirq);
	case KCB_IRQ_TASK_ONLY:			/* never in interrupt */
		return ctx == CTX_TASK;
	}
	return -1;
}

static const struct kcb_combo *cur;
static uint64_t nirq;

static void hard(void *arg)
{
	(void)arg;
	cur->trace_cmp8(CTX_HARD, nirq);
	kcb_raise_softirq();
}

static void soft(void *arg)
{
	(void)arg;
	cur->trace_cmp8(CTX_SOFT, nirq++);
}

struct irq_arg {
	const struct kcb_combo *c;
	int errors;
};

static int count_ctx(const struct kcb_dev *kd, uint64_t ctx)
{
	int n = 0;

	for (uint64_t i = 0; i < kd->buf[0]; i++)
		n += kd->buf[1 + i * 4 + 1] == ctx;
	return n;
}

static void irq_fn(int idx, void *p)
{
	struct irq_arg *a = p;
	struct kcb_task *t = kcb_current();
	struct kcb_dev kd;
	int soft_flag, intr_flag, ctx, i;

	(void)idx;
	cur = a->c;
	if (allowed(cur->fe->irq_policy, CTX_TASK, 0, 0) < 0) {
		kcb_log("%s: interrupt policy %d unknown: define FE_IRQ_POLICY in its "
		    "fe_<id>.c as one of enum kcb_irq_policy (variants/variant.h)\n",
		    cur->fe->name, (int)cur->fe->irq_policy);
		a->errors++;
		return;
	}
	kcb_sim_irq_handlers(hard, soft, NULL);
	if (kcb_dev_init(&kd, 1024 * 4 + 1)) {
		a->errors++;
		return;
	}
	for (soft_flag = 0; soft_flag <= 1; soft_flag++) {
		for (intr_flag = 0; intr_flag <= 1; intr_flag++) {
			kcb_dev_reset(&kd);
			kcb_task_enable(t, &kd, KCB_MODE_TRACE_CMP);
			t->kcov_softirq = soft_flag;
			kd.intr = intr_flag;
			for (i = 0; i < 8; i++) {
				cur->trace_cmp8(CTX_TASK, i);
				kcb_sim_irq_raise();
			}
			/* Raised with irqs off: deferred to the restore. */
			kcb_irqflags_t f = kcb_local_irq_save();
			uint64_t before = nirq;
			kcb_sim_irq_raise();
			if (nirq != before) {
				kcb_log("%s: an interrupt ran with irqs off\n", cur->fe->name);
				a->errors++;
			}
			kcb_local_irq_restore(f);
			if (nirq != before + 1) {
				kcb_log("%s: an interrupt raised with irqs off was not replayed at restore\n",
				    cur->fe->name);
				a->errors++;
			}
			kcb_task_disable(t);
			for (ctx = CTX_TASK; ctx <= CTX_SOFT; ctx++) {
				int want = allowed(cur->fe->irq_policy, ctx, soft_flag, intr_flag)
				    ? (ctx == CTX_TASK ? 8 : 9) : 0;
				int got = count_ctx(&kd, ctx);

				if (got != want) {
					kcb_log("%s/%s: ctx %d kcov_softirq %d kd_intr %d: %d records, want %d\n",
					    cur->fe->name, cur->pair->name, ctx,
					    soft_flag, intr_flag, got, want);
					a->errors++;
				}
			}
		}
	}
	t->kcov_softirq = 0;
	kcb_dev_fini(&kd);
}

int twin_irq(const struct kcb_combo *c)
{
	struct irq_arg a = { .c = c };

	nirq = 0;
	return kcb_parallel(1, irq_fn, &a) ? 1 : a.errors;
}
