/* SPDX-License-Identifier: MIT */
/*
 * instrument_rt.c - the runtime of a program compiled with
 * -fsanitize-coverage=trace-pc,trace-cmp whose __sanitizer_cov_* hooks are
 * one configuration's kcb hooks (`kcovbench realprog`, scripts/kcb/realprog.py).
 *
 * That program runs as one task of the simulated kernel, traced as a
 * fuzzer traces its executor: before main() the main thread becomes CPU 0
 * of the simulated machine (kcb_thread_attach), a buffer is set up and
 * tracing enabled for it, and a timer drains the buffer periodically.
 *
 * Build (nothing here may be instrumented; realprog.py compiles it
 * without -fsanitize-coverage, like hotpath/ and variants/):
 *   -DKCB_RT_SHARED=0	per-task buffer: kcb_task_enable() on a private dev
 *   -DKCB_RT_SHARED=1	shared buffer: an owner dev; a claim that may be
 *			shared attaches to it directly (kcb_task_attach), one
 *			that may not records into a private area that the
 *			drain moves into the owner with the combo's move
 *			(as Linux's kcov_remote_stop moves a remote area)
 *   -DKCB_RT_EMPTY=1	no kcb at all: every hook is an empty function
 *			(what the instrumentation's calls alone cost)
 * realprog.py renames the configuration's hooks to the compiler's names
 * with objcopy, and its combo to kcb_rt_combo (for the move and for
 * whether the claim is shareable).
 *
 * The drain: a CLOCK_MONOTONIC timer signals this thread (SIGALRM)
 * every KCB_RT_PERIOD_US microseconds; the handler takes
 * the record count and resets it, after moving a private area into the
 * owner in the shared build.  A kernel's fuzzer resets the buffer only
 * while its task is outside the hooks; a signal can land inside one, and
 * if it lands between a non-atomic claim's load of the count and its
 * store, the hook then stores the old count plus one and the reset is
 * undone (the buffer fills on from where it was and the next drain counts
 * those records again: 13-31% too many records before this was fixed).
 * So a drain never runs inside a hook: when the interrupted PC is inside
 * the hooks' code (realprog.py renames the hooks' .text to
 * kcb_hooks_text; the linker gives its bounds as
 * __start_/__stop_kcb_hooks_text) the handler only arms a retry
 * KCB_RT_RETRY_US (default 20) microseconds later, and so on until one
 * lands outside.  Records drained then equal records written, for every
 * claim.  The price: the hooks take most of the time, so a drain takes
 * about ten signals; the period is long enough (KCB_RT_PERIOD_US,
 * default 5000) that this is about 2600 signals a second.  (A marker in
 * record 1 that let the drain run inside a hook and correct for an undone
 * reset was tried: it under-counted plain-store-first in 1 run in 3, for a
 * reason not found, so it is not used.)  A padded claim (the chunk
 * proposal): the drain closes the open chunk and counts the non-zero
 * records, as its reader must.  The buffer holds KCB_RT_WORDS (default
 * 8 Mi) words, several times what a period records here (at most about
 * 4 * 10^5 records per millisecond), so drains find it far from full and
 * the hooks take their recording path, not the buffer-full path.
 * For an exact count of records run with KCB_RT_PERIOD_US longer than the
 * run and KCB_RT_WORDS larger than its records: the only drain is then
 * the one at exit.  KCB_RT_STATS=1 prints, at exit, the drains, the
 * signals that landed in a hook (and were retried), the records drained,
 * the largest fill and how
 * many drains found the buffer full.
 * KCB_RT_MODE=cmp traces comparisons instead of PCs.
 *
 * The constructor runs at default priority after hotpath/kcb_user.c's
 * (which reads the allowed CPUs that pinning needs): link kcb_user.o
 * before this object.  It fails loudly rather than run untraced.
 *
 * -DKCB_RT_KOBJ=\"kernel-6.1\" -DKCB_RT_HOOKS_TEXT=kobj_text_6_1: the hooks are
 * a real kernel object's (kobj/, issue 24), linked from kobj-bundle's
 * kobj.o with that kernel's kobj_<id>___sanitizer_cov_* renamed to the
 * compiler's names; its combo is found by name (kcb_kobj_find), its code
 * is the kernel's own section.  The kernel's hooks read current and the
 * preempt count through %gs, so the main thread's per-CPU block is set up
 * by a constructor that runs before every default-priority one
 * (kobj_early_thread()): a hook called from an instrumented constructor
 * finds a task with tracing off, as a kernel's early boot does.
 *
 * scripts/configure compiles every C file in bench/ into the kcovbench binary:
 * there this file must be empty, so everything is under KCB_INSTRUMENT_RT,
 * which only realprog.py defines.
 */
#ifdef KCB_INSTRUMENT_RT
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef KCB_RT_SHARED
#define KCB_RT_SHARED	0
#endif
#ifndef KCB_RT_EMPTY
#define KCB_RT_EMPTY	0
#endif

#define RT_HOOK	__attribute__((__used__, __noinline__, __no_instrument_function__))

/* GCC instruments float and double comparisons too; a kernel has none, so
 * kcov has no hook for them: they call an empty function in every build. */
RT_HOOK void __sanitizer_cov_trace_cmpf(float a, float b) { (void)a; (void)b; }
RT_HOOK void __sanitizer_cov_trace_cmpd(double a, double b) { (void)a; (void)b; }

#if KCB_RT_EMPTY
RT_HOOK void __sanitizer_cov_trace_pc(void) { }
#define EMPTY_CMP(name, T) RT_HOOK void name(T a, T b) { (void)a; (void)b; }
EMPTY_CMP(__sanitizer_cov_trace_cmp1, uint8_t)
EMPTY_CMP(__sanitizer_cov_trace_cmp2, uint16_t)
EMPTY_CMP(__sanitizer_cov_trace_cmp4, uint32_t)
EMPTY_CMP(__sanitizer_cov_trace_cmp8, uint64_t)
EMPTY_CMP(__sanitizer_cov_trace_const_cmp1, uint8_t)
EMPTY_CMP(__sanitizer_cov_trace_const_cmp2, uint16_t)
EMPTY_CMP(__sanitizer_cov_trace_const_cmp4, uint32_t)
EMPTY_CMP(__sanitizer_cov_trace_const_cmp8, uint64_t)
RT_HOOK void __sanitizer_cov_trace_switch(uint64_t v, uint64_t *c) { (void)v; (void)c; }

#else /* !KCB_RT_EMPTY */

#include "../variants/variant.h"

#ifdef KCB_RT_KOBJ
#include "../kobj/kobj.h"
static const struct kcb_combo *rt_kcombo;	/* kcb_kobj_find(KCB_RT_KOBJ) */
#define RT_COMBO	(*rt_kcombo)
#define RT_CAT_(a, b)	a##b
#define RT_CAT(a, b)	RT_CAT_(a, b)
#define RT_TEXT_START	RT_CAT(__start_, KCB_RT_HOOKS_TEXT)
#define RT_TEXT_STOP	RT_CAT(__stop_, KCB_RT_HOOKS_TEXT)

/* Before any default-priority constructor: an instrumented one may call
 * a hook, which reads %gs. */
__attribute__((constructor(101))) static void rt_kobj_early(void)
{
	kobj_early_thread();
}
#else
extern const struct kcb_combo kcb_rt_combo;
#define RT_COMBO	kcb_rt_combo
#define RT_TEXT_START	__start_kcb_hooks_text
#define RT_TEXT_STOP	__stop_kcb_hooks_text
#endif

static struct kcb_dev rt_own;		/* the task's own buffer */
static struct kcb_dev rt_owner;		/* shared build: the owner's */
static struct kcb_dev *rt_drained;	/* the one the fuzzer reads */
static int rt_stride = KCB_STRIDE_PC;
static int rt_moving;			/* shared build, claim not shareable */
static uint64_t rt_cap;			/* records the drained buffer holds */
static volatile uint64_t rt_drains, rt_full, rt_max, rt_records, rt_inhook;
static timer_t rt_timer, rt_retry;
static struct itimerspec rt_retry_in;
/* The hooks' code: objcopy --rename-section .text=kcb_hooks_text. */
extern const char RT_TEXT_START[] __attribute__((weak));
extern const char RT_TEXT_STOP[] __attribute__((weak));

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 0);
	if (*end || !v) {
		fprintf(stderr, "instrument_rt: bad %s=%s\n", name, s);
		_exit(2);
	}
	return v;
}

static bool in_hook(void *uc)
{
#if defined(__x86_64__)
	uintptr_t pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];

	return pc >= (uintptr_t)RT_TEXT_START &&
	    pc < (uintptr_t)RT_TEXT_STOP;
#else
#error "instrument_rt: in_hook() needs the interrupted PC on this architecture"
#endif
}

/* Take what the buffer holds and reset it (from the timer's signal, which
 * may have interrupted a hook: see the header; and at exit). */
static int rt_padded(void)
{
	return rt_stride == KCB_STRIDE_PC ? RT_COMBO.pair->padded_pc :
	    RT_COMBO.pair->padded_cmp;
}

static void rt_take(void)
{
	uint64_t n;

	if (rt_moving) {
		RT_COMBO.move(&rt_owner, rt_own.buf, rt_stride);
		WRITE_ONCE(rt_own.buf[0], 0);
	}
	n = READ_ONCE(rt_drained->buf[0]);
	if (rt_padded()) {
		/* A padded claim (chunk): the reader reads between sections,
		 * so close the open chunk, then count what it parses. */
		uint64_t i, got = 0;

		kcb_chunk_close(kcb_current());
		for (i = 0; i < n && (i + 1) * rt_stride < rt_drained->nwords; i++)
			got += rt_drained->buf[1 + i * rt_stride + rt_stride - 1] != 0;
		n = got;
	}
	if (n > rt_max)
		rt_max = n;
	if (n >= rt_cap)
		rt_full++;
	rt_records += n;
	WRITE_ONCE(rt_drained->buf[0], 0);
}

static void rt_drain(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	if (in_hook(uc)) {
		/* never reset under a claim (nor close a chunk under the hook
		 * filling it): drain just after, where a retry lands outside */
		rt_inhook++;
		timer_settime(rt_retry, 0, &rt_retry_in, NULL);
		return;
	}
	rt_take();
	rt_drains++;
}

static void rt_stats(void)
{
	timer_delete(rt_timer);
	timer_delete(rt_retry);
	rt_take();		/* what the last period recorded */
	if (!getenv("KCB_RT_STATS"))
		return;
	fprintf(stderr, "instrument_rt: %s %s buffer, %s mode: %llu drains, "
	    "%llu in a hook, %llu records drained, largest fill %llu of %llu, %llu "
	    "drains found it full, %llu records lost in moves\n",
	    RT_COMBO.fe->name, KCB_RT_SHARED ? (rt_moving ? "shared (moved)" :
	    "shared (attached)") : "per-task",
	    rt_stride == KCB_STRIDE_CMP ? "cmp" : "pc",
	    (unsigned long long)rt_drains, (unsigned long long)rt_inhook,
	    (unsigned long long)rt_records,
	    (unsigned long long)rt_max, (unsigned long long)rt_cap,
	    (unsigned long long)rt_full, (unsigned long long)rt_owner.lost);
}

__attribute__((constructor)) static void rt_init(void)
{
	uint64_t words = env_u64("KCB_RT_WORDS", 8u << 20);
	uint64_t period = env_u64("KCB_RT_PERIOD_US", 5000);
	uint64_t retry = env_u64("KCB_RT_RETRY_US", 20);
	const char *m = getenv("KCB_RT_MODE");
	int mode = KCB_MODE_TRACE_PC, cpu;
	struct itimerspec it;
	struct sigevent sev;
	struct sigaction sa;

#ifdef KCB_RT_KOBJ
	rt_kcombo = kcb_kobj_find ? kcb_kobj_find(KCB_RT_KOBJ) : NULL;
	if (!rt_kcombo) {
		fprintf(stderr, "instrument_rt: %s is not linked in\n", KCB_RT_KOBJ);
		_exit(2);
	}
#endif
	if (m && !strcmp(m, "cmp")) {
		mode = KCB_MODE_TRACE_CMP;
		rt_stride = KCB_STRIDE_CMP;
	} else if (m && strcmp(m, "pc")) {
		fprintf(stderr, "instrument_rt: KCB_RT_MODE=pc or cmp\n");
		_exit(2);
	}
	cpu = kcb_thread_attach(0, true);
	if (cpu < 0) {
		fprintf(stderr, "instrument_rt: kcb_thread_attach: %s\n", strerror(-cpu));
		_exit(2);
	}
	if (kcb_dev_init(&rt_own, words) ||
	    (KCB_RT_SHARED && kcb_dev_init(&rt_owner, words))) {
		fprintf(stderr, "instrument_rt: cannot allocate %llu words\n",
		    (unsigned long long)words);
		_exit(2);
	}
	rt_drained = &rt_own;
	if (KCB_RT_SHARED) {
		int shareable = mode == KCB_MODE_TRACE_PC ?
		    RT_COMBO.pair->shareable_pc : RT_COMBO.pair->shareable_cmp;

		rt_drained = &rt_owner;
		if (shareable) {
			kcb_dev_share(&rt_owner);	/* READY: cannot fail */
			rt_owner.mode = mode;
			rt_owner.state = KCB_STATE_TRACE;
			rt_owner.enabled = 1;
			kcb_task_attach(kcb_current(), &rt_owner);
		} else {
			rt_moving = 1;
			kcb_task_enable(kcb_current(), &rt_own, mode);
		}
	} else {
		kcb_task_enable(kcb_current(), &rt_own, mode);
	}
	rt_cap = (words - 1) / (uint64_t)rt_stride;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = rt_drain;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
	it.it_interval.tv_sec = (time_t)(period / 1000000);
	it.it_interval.tv_nsec = (long)(period % 1000000) * 1000;
	it.it_value = it.it_interval;
	rt_retry_in.it_value.tv_sec = (time_t)(retry / 1000000);
	rt_retry_in.it_value.tv_nsec = (long)(retry % 1000000) * 1000;
	if ((uintptr_t)RT_TEXT_START >= (uintptr_t)RT_TEXT_STOP) {
		fprintf(stderr, "instrument_rt: no kcb_hooks_text section: "
		    "the hooks' .text must be renamed to it\n");
		_exit(2);
	}
	if (sigaction(SIGALRM, &sa, NULL) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &rt_timer) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &rt_retry) ||
	    timer_settime(rt_timer, 0, &it, NULL)) {
		perror("instrument_rt: drain timer");
		_exit(2);
	}
	atexit(rt_stats);
}

#endif /* !KCB_RT_EMPTY */
#endif /* KCB_INSTRUMENT_RT */
