/* SPDX-License-Identifier: MIT */
/*
 * explore.c - the scheduler behind explore.h and the kcb_x_* hooks that
 * kcb_user.h calls in the -DKCB_EXPLORE flavour.
 *
 * Choice points: kcb_preempt_point(), before and after every lock taken,
 * after every unlock, after an irq restore that turns interrupts on.  At
 * each, the options are: go on; switch to another runnable task (if the
 * current one may be preempted: on !RT no spinlock held, irqs on, not in
 * softirq; on RT irqs on); on !RT run the softirq now on top of the current
 * task (irqs on, not already in interrupt).  A task that finds a lock held
 * by another task blocks (RT sleeping locks, mutexes).  A lock held by the
 * task a softirq interrupted, or by the task itself, is a deadlock.
 * Per task the scheduler keeps what a context switch carries: `current`,
 * the preempt count (on RT the softirq count is per task) and irq state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <ucontext.h>
#include "explore.h"

#define STACK_SIZE	(256 * 1024)
#define MAX_DEPTH	4096
#define MAX_NAMES	64
#define TRACE_LINES	2048
#define TRACE_LEN	160

struct xtask {
	ucontext_t ctx;
	char *stack;
	struct kcb_task *kt;
	unsigned int preempt_count;
	int irqs_off;
	int spins_held;			/* !RT: preemption is off while > 0 */
	int *blocked_on;
	int done;
};

static const struct x_world *w;
static struct xtask tasks[X_MAX_TASKS];
static ucontext_t main_ctx;
static jmp_buf main_jmp;
static struct kcb_task main_task;
static int cur = -1;
static int in_soft;			/* !RT softirq running on tasks[cur] */
static int preemptions, softirqs_left, deadlocked;

/* DFS over choices: the prefix to replay, then first options. */
static struct { unsigned char choice, n; } path[MAX_DEPTH];
static int depth, plen, overflow;

static struct { const void *l; const char *name; } names[MAX_NAMES];
static int nnames;

static char trace[TRACE_LINES][TRACE_LEN];
static int ntrace;

int x_current(void)
{
	return cur;
}

void x_note(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ntrace >= TRACE_LINES)
		return;
	n = snprintf(trace[ntrace], TRACE_LEN, "  %s%s", cur < 0 ? "main" : "",
	    cur < 0 ? ": " : "");
	if (cur >= 0)
		n = snprintf(trace[ntrace], TRACE_LEN, "  T%d%s: ", cur,
		    in_soft ? " [softirq]" : "");
	va_start(ap, fmt);
	vsnprintf(trace[ntrace] + n, TRACE_LEN - n, fmt, ap);
	va_end(ap);
	ntrace++;
}

void kcb_x_lock_name(const void *l, const char *name)
{
	for (int i = 0; i < nnames; i++)
		if (names[i].l == l) {
			names[i].name = name;
			return;
		}
	if (nnames < MAX_NAMES) {
		names[nnames].l = l;
		names[nnames++].name = name;
	}
}

static const char *name_of(const void *l)
{
	for (int i = 0; i < nnames; i++)
		if (names[i].l == l)
			return names[i].name;
	return "a lock";
}

static int pick(int n)
{
	int c = 0;

	if (n <= 1)
		return 0;
	if (depth >= MAX_DEPTH) {
		overflow = 1;
		return 0;
	}
	if (depth < plen) {
		c = path[depth].choice;
	} else {
		path[depth].choice = 0;
		path[depth].n = (unsigned char)n;
	}
	depth++;
	return c;
}

static void load(int i)
{
	cur = i;
	if (i < 0) {
		kcb_tls_current = &main_task;
		kcb_tls_preempt_count = 0;
		kcb_tls_irqs_off = 0;
	} else {
		kcb_tls_current = tasks[i].kt;
		kcb_tls_preempt_count = tasks[i].preempt_count;
		kcb_tls_irqs_off = tasks[i].irqs_off;
	}
	kcb_tls_cpu->curtask = kcb_tls_current;
}

static void save(void)
{
	if (cur >= 0) {
		tasks[cur].preempt_count = kcb_tls_preempt_count;
		tasks[cur].irqs_off = kcb_tls_irqs_off;
	}
}

static void switch_to(int j)
{
	int from = cur;

	save();
	load(j);
	swapcontext(from < 0 ? &main_ctx : &tasks[from].ctx,
	    j < 0 ? &main_ctx : &tasks[j].ctx);
}

/* Give up on this run: back to main, never to resume these tasks. */
static void abandon(void)
{
	save();
	load(-1);
	setcontext(&main_ctx);
}

static int runnable(int j)
{
	return !tasks[j].done && !tasks[j].blocked_on;
}

static void run_softirq(void)
{
	unsigned int pc = kcb_tls_preempt_count;
	int irqs = kcb_tls_irqs_off;

	softirqs_left--;
	in_soft = 1;
	x_note("-- interrupt; softirq runs on top of T%d", cur);
	kcb_tls_preempt_count += KCB_SOFTIRQ_OFFSET;
	kcb_intr_enter(true);
	kcb_tls_irqs_off = 0;
	w->softirq(w->arg);
	kcb_intr_exit(true);
	kcb_tls_preempt_count = pc;
	kcb_tls_irqs_off = irqs;
	in_soft = 0;
	x_note("-- softirq done, back to T%d", cur);
}

/* A choice point in task code. */
static void point(const char *what)
{
	int opts[X_MAX_TASKS + 2], n = 0, i, c;
	int may_preempt;

	if (cur < 0 || deadlocked)
		return;
	if (what)
		x_note("%s", what);
	may_preempt = !in_soft && !kcb_tls_irqs_off &&
	    (w->rt || (!tasks[cur].spins_held &&
	    !(kcb_tls_preempt_count & (KCB_SOFTIRQ_MASK | KCB_HARDIRQ_MASK))));
	opts[n++] = cur;
	if (may_preempt && preemptions < w->preempt_bound)
		for (i = 0; i < w->ntasks; i++)
			if (i != cur && runnable(i))
				opts[n++] = i;
	if (!w->rt && w->softirq && softirqs_left > 0 && !in_soft &&
	    !kcb_tls_irqs_off &&
	    !(kcb_tls_preempt_count & (KCB_SOFTIRQ_MASK | KCB_HARDIRQ_MASK)))
		opts[n++] = -2;
	c = opts[pick(n)];
	if (c == cur)
		return;
	if (c == -2) {
		run_softirq();
		return;
	}
	preemptions++;
	x_note("-- preempted: T%d -> T%d", cur, c);
	switch_to(c);
}

void kcb_x_point(const char *what)
{
	point(what);
}

/* The current task cannot go on: run another (a forced choice). */
static void block_switch(void)
{
	int opts[X_MAX_TASKS], n = 0, i;

	for (i = 0; i < w->ntasks; i++)
		if (i != cur && runnable(i))
			opts[n++] = i;
	if (!n) {
		x_note("DEADLOCK: no task can run");
		deadlocked = 1;
		abandon();
	}
	i = opts[pick(n)];
	x_note("-- switch: T%d -> T%d", cur, i);
	switch_to(i);
}

void kcb_x_lock(int *word, int kind, const char *op)
{
	int me = cur + 1;
	int sleeping = w->rt || kind == KCB_X_MUTEX;

	point(NULL);
	if (cur >= 0)
		x_note("%s(%s)", op, name_of(word));
	while (*word) {
		if (cur < 0)
			abort();		/* main context never contends */
		if (*word == me || (!sleeping && in_soft)) {
			x_note("DEADLOCK: %s is held by T%d%s and cannot be released",
			    name_of(word), *word - 1,
			    in_soft && *word == me ? ", the task this softirq interrupted" : "");
			deadlocked = 1;
			abandon();
		}
		if (!sleeping) {
			/* !RT: spinning on a lock held by a preempted task
			 * cannot happen (spinlocks disable preemption). */
			x_note("DEADLOCK: spinning on %s held by T%d", name_of(word), *word - 1);
			deadlocked = 1;
			abandon();
		}
		x_note("blocks on %s (held by T%d)", name_of(word), *word - 1);
		tasks[cur].blocked_on = word;
		block_switch();
	}
	*word = me ? me : -1;
	if (cur >= 0 && !w->rt && kind == KCB_X_SPIN)
		tasks[cur].spins_held++;
	point(NULL);
}

void kcb_x_unlock(int *word, int kind, const char *op)
{
	int i;

	*word = 0;
	if (cur >= 0)
		x_note("%s(%s)", op, name_of(word));
	if (cur >= 0 && !w->rt && kind == KCB_X_SPIN)
		tasks[cur].spins_held--;
	for (i = 0; i < w->ntasks; i++)
		if (tasks[i].blocked_on == word)
			tasks[i].blocked_on = NULL;
	point(NULL);
}

unsigned long kcb_x_irq_save(void)
{
	unsigned long f = kcb_tls_irqs_off;

	kcb_tls_irqs_off = 1;
	return f;
}

void kcb_x_irq_restore(unsigned long f)
{
	kcb_tls_irqs_off = (int)f;
	if (!f)
		point(NULL);
}

void kcb_x_wait(void)
{
	if (cur < 0)
		longjmp(main_jmp, 1);	/* main never waits: a leak */
	block_switch();
}

static void task_main(int i)
{
	w->task(i, w->arg);
	tasks[i].done = 1;
	x_note("done");
	/* Pick the next task, or finish. */
	for (int j = 0; j < w->ntasks; j++)
		if (!tasks[j].done) {
			block_switch();		/* a deadlock if none can run */
			break;
		}
	abandon();
}

/* One run: replay path[0..plen), then first choices. */
static int one_run(void)
{
	int i, problems;

	depth = 0;
	overflow = 0;
	ntrace = 0;
	nnames = 0;
	preemptions = 0;
	deadlocked = 0;
	in_soft = 0;
	softirqs_left = w->softirq_budget;
	kcb_sim_preempt_rt = w->rt;
	/* An abandoned run may have left an interrupt open. */
	kcb_tls_cpu->idepth = 0;
	kcb_tls_cpu->nb_idepth = -1;
	load(-1);
	w->setup(w->arg);
	for (i = 0; i < w->ntasks; i++) {
		struct xtask *t = &tasks[i];

		memset(t->kt, 0, sizeof(*t->kt));
		t->kt->id = i;
		t->preempt_count = 0;
		t->irqs_off = 0;
		t->spins_held = 0;
		t->blocked_on = NULL;
		t->done = 0;
		getcontext(&t->ctx);
		t->ctx.uc_stack.ss_sp = t->stack;
		t->ctx.uc_stack.ss_size = STACK_SIZE;
		t->ctx.uc_link = &main_ctx;
		makecontext(&t->ctx, (void (*)(void))task_main, 1, i);
	}
	/* The first task to run is a choice too. */
	switch_to(pick(w->ntasks));
	load(-1);
	if (setjmp(main_jmp))
		problems = 1 + w->check(w->arg, 1);
	else
		problems = w->check(w->arg, deadlocked);
	return problems;
}

void explore_run(const struct x_world *world, struct x_result *res, uint64_t max_runs,
    FILE *out)
{
	int i, printed = 0;

	w = world;
	memset(res, 0, sizeof(*res));
	for (i = 0; i < w->ntasks; i++) {
		if (!tasks[i].stack)
			tasks[i].stack = malloc(STACK_SIZE);
		if (!tasks[i].kt)
			tasks[i].kt = calloc(1, sizeof(*tasks[i].kt));
	}
	plen = 0;
	for (;;) {
		int problems = one_run();

		res->runs++;
		res->deadlocks += deadlocked;
		if (problems) {
			res->failing++;
			if (!printed++) {
				fprintf(out, "  first failing schedule (run %llu):\n",
				    (unsigned long long)res->runs);
				for (i = 0; i < ntrace; i++)
					fprintf(out, "%s\n", trace[i]);
			}
		}
		if (overflow)
			res->truncated = 1;
		/* Next prefix: bump the deepest choice that has options left. */
		plen = depth;
		while (plen > 0 && path[plen - 1].choice + 1 >= path[plen - 1].n)
			plen--;
		if (plen == 0)
			break;
		path[plen - 1].choice++;
		if (res->runs >= max_runs) {
			res->truncated = 1;
			break;
		}
	}
	kcb_sim_preempt_rt = 0;
}
