/* SPDX-License-Identifier: MIT */
/*
 * kcb_user.c - the simulated kernel machine behind kcb_user.h: threads as
 * CPUs, per-thread timer signals as interrupts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "kcb.h"

__thread struct kcb_cpu *kcb_tls_cpu __attribute__((used, tls_model("local-exec")));
__thread struct kcb_task *kcb_tls_current __attribute__((used, tls_model("local-exec")));
__thread unsigned int kcb_tls_preempt_count __attribute__((used, tls_model("local-exec")));
__thread int kcb_tls_cpuid __attribute__((used, tls_model("local-exec")));
void (*kcb_ctx_hook)(void);
__thread volatile int kcb_tls_irqs_off;
__thread volatile int kcb_tls_irq_pending;

static __thread volatile int softirq_pending;
static __thread void (*irq_hard)(void *);
static __thread void (*irq_soft)(void *);
static __thread void *irq_arg;
static __thread timer_t irq_timer;
static __thread int irq_timer_armed;
/* Simulated CPU ids in use: the lowest free one is handed out, so per-CPU
 * data of n attached threads sits in slots 0..n-1, as on a real machine. */
static uint64_t cpuid_used[KCB_MAX_CPUS / 64];	/* [a] */
int kcb_sim_preempt_rt;
int kcb_sim_possible_cpus = KCB_MAX_CPUS;

#define KCB_SIM_SIGNAL	(SIGRTMIN + 3)

void *kcb_zalloc(size_t size)
{
	void *p;

	if (posix_memalign(&p, 4096, size ? size : 1))
		return NULL;
	memset(p, 0, size);
	return p;
}

void kcb_free(void *p)
{
	free(p);
}

/*
 * The CPUs the process may use, read once before any thread is pinned:
 * a pinned thread's mask is inherited by the threads it creates (Google
 * Benchmark runs thread 0 on the main thread).
 */
static cpu_set_t allowed;
static int nallowed;

__attribute__((constructor)) static void read_allowed(void)
{
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		nallowed = CPU_COUNT(&allowed);
}

int kcb_ncpus(void)
{
	return nallowed ? nallowed : 1;
}

/* A placement's pin order (bench/topology.c), when one was chosen. */
static int pin_order[CPU_SETSIZE];	/* [I] */
static int npin_order;			/* [I] */

void kcb_set_pin_order(const int *cpus, int n)
{
	npin_order = n < CPU_SETSIZE ? n : CPU_SETSIZE;
	memcpy(pin_order, cpus, npin_order * sizeof(*cpus));
}

/* The CPU thread idx is pinned to: the idx-th of the pin order, or else
 * the idx-th CPU this process may run on. */
int kcb_pin_target(int idx)
{
	int cpu, n = 0, want;

	if (npin_order)
		return pin_order[idx % npin_order];
	if (!nallowed)
		return -EINVAL;
	want = idx % nallowed;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed) && n++ == want)
			return cpu;
	return -EINVAL;
}

static int cpuid_alloc(void)
{
	for (int w = 0; w < KCB_MAX_CPUS / 64; w++) {
		uint64_t old = __atomic_load_n(&cpuid_used[w], __ATOMIC_RELAXED);

		while (~old) {
			int bit = __builtin_ctzll(~old);

			if (__atomic_compare_exchange_n(&cpuid_used[w], &old,
			    old | (1ull << bit), false, __ATOMIC_ACQ_REL,
			    __ATOMIC_RELAXED))
				return w * 64 + bit;
		}
	}
	return -EAGAIN;
}

static void cpuid_free(int cpuid)
{
	__atomic_fetch_and(&cpuid_used[cpuid / 64], ~(1ull << (cpuid % 64)),
	    __ATOMIC_RELEASE);
}

int kcb_thread_attach(int idx, bool pin)
{
	struct kcb_cpu *ci;
	struct kcb_task *t;
	int cpuid;

	if (pin) {
		cpu_set_t one;
		int cpu = kcb_pin_target(idx);

		if (cpu < 0)
			return cpu;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one))
			return -EINVAL;
	}
	cpuid = cpuid_alloc();
	ci = kcb_zalloc(sizeof(*ci));
	t = kcb_zalloc(sizeof(*t));
	if (cpuid < 0 || !ci || !t) {
		kcb_free(ci);
		kcb_free(t);
		if (cpuid >= 0)
			cpuid_free(cpuid);
		return cpuid < 0 ? cpuid : -ENOMEM;
	}
	ci->self = ci;
	ci->cpuid = cpuid;
	ci->idepth = 0;
	ci->nb_idepth = -1;
	ci->curtask = t;
	t->id = idx;
	kcb_tls_cpu = ci;
	kcb_tls_current = t;
	kcb_tls_cpuid = cpuid;
	kcb_tls_preempt_count = 0;
	kcb_ctx_changed();
	urcu_memb_register_thread();
	return sched_getcpu();
}

void kcb_thread_detach(void)
{
	if (nallowed)
		pthread_setaffinity_np(pthread_self(), sizeof(allowed), &allowed);
	kcb_sim_irq_timer(0);
	urcu_memb_unregister_thread();
	kcb_free(kcb_tls_current);
	kcb_free(kcb_tls_cpu);
	kcb_tls_current = NULL;
	kcb_tls_cpu = NULL;
	cpuid_free(kcb_tls_cpuid);
}

#ifndef KCB_EXPLORE
void kcb_wait_a_while(void)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
}
#endif

struct par {
	void (*fn)(int, void *);
	void *arg;
	pthread_barrier_t start;
	int err;
};

struct par_thread {
	struct par *par;
	int idx;
	pthread_t tid;
};

static void *par_main(void *p)
{
	struct par_thread *pt = p;
	int cpu = kcb_thread_attach(pt->idx, true);

	if (cpu < 0)
		__atomic_store_n(&pt->par->err, cpu, __ATOMIC_RELAXED);
	pthread_barrier_wait(&pt->par->start);
	if (cpu >= 0) {
		pt->par->fn(pt->idx, pt->par->arg);
		kcb_thread_detach();
	}
	return NULL;
}

int kcb_parallel(int n, void (*fn)(int, void *), void *arg)
{
	struct par par = { .fn = fn, .arg = arg };
	struct par_thread *pts;
	int i, started = 0;

	if (n <= 0)
		return -EINVAL;
	pts = calloc(n, sizeof(*pts));
	if (!pts)
		return -ENOMEM;
	pthread_barrier_init(&par.start, NULL, n);
	for (i = 0; i < n; i++) {
		pts[i].par = &par;
		pts[i].idx = i;
		if (pthread_create(&pts[i].tid, NULL, par_main, &pts[i]))
			break;
		started++;
	}
	if (started < n) {
		/* Cannot release a barrier sized for n: fail loudly. */
		fprintf(stderr, "kcb_parallel: pthread_create failed\n");
		abort();
	}
	for (i = 0; i < n; i++)
		pthread_join(pts[i].tid, NULL);
	pthread_barrier_destroy(&par.start);
	free(pts);
	return par.err;
}

/* ---- interrupts ---- */

void kcb_intr_enter(bool soft)
{
	(void)soft;
	kcb_tls_cpu->idepth++;
	kcb_tls_cpu->nb_idepth++;
	kcb_tls_current->intr_nesting++;
}

void kcb_intr_exit(bool soft)
{
	(void)soft;
	kcb_tls_current->intr_nesting--;
	kcb_tls_cpu->nb_idepth--;
	kcb_tls_cpu->idepth--;
}

void kcb_raise_softirq(void)
{
	softirq_pending = 1;
}

/* irq_exit(): run pending softirqs unless already in interrupt context. */
static void run_softirq(void)
{
	while (softirq_pending &&
	    !(kcb_tls_preempt_count & (KCB_HARDIRQ_MASK | KCB_SOFTIRQ_MASK))) {
		softirq_pending = 0;
		kcb_tls_preempt_count += KCB_SOFTIRQ_OFFSET;
		kcb_ctx_changed();
		kcb_intr_enter(true);
		kcb_tls_irqs_off = 0;	/* softirqs run with irqs on */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (irq_soft)
			irq_soft(irq_arg);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		kcb_tls_irqs_off = 1;
		kcb_intr_exit(true);
		kcb_tls_preempt_count -= KCB_SOFTIRQ_OFFSET;
		kcb_ctx_changed();
	}
}

void kcb_sim_softirq_enter(void)
{
	kcb_tls_preempt_count += KCB_SOFTIRQ_OFFSET;
	kcb_ctx_changed();
	kcb_intr_enter(true);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void kcb_sim_softirq_exit(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	kcb_intr_exit(true);
	kcb_tls_preempt_count -= KCB_SOFTIRQ_OFFSET;
	kcb_ctx_changed();
}

static void run_hardirq(void)
{
	int was_off = kcb_tls_irqs_off;

	kcb_tls_irqs_off = 1;
	kcb_tls_preempt_count += KCB_HARDIRQ_OFFSET;
	kcb_ctx_changed();
	kcb_intr_enter(false);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (irq_hard)
		irq_hard(irq_arg);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	kcb_intr_exit(false);
	kcb_tls_preempt_count -= KCB_HARDIRQ_OFFSET;
	kcb_ctx_changed();
	run_softirq();
	kcb_tls_irqs_off = was_off;
}

void kcb_sim_irq_replay(void)
{
	kcb_tls_irq_pending = 0;
	run_hardirq();
}

static void sim_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (kcb_tls_cpu == NULL)
		return;
	if (kcb_tls_irqs_off)
		kcb_tls_irq_pending = 1;
	else
		run_hardirq();
	errno = saved;
}

static void sim_install(void)
{
	struct sigaction sa = { .sa_handler = sim_signal };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(KCB_SIM_SIGNAL, &sa, NULL);
}

void kcb_sim_irq_handlers(void (*hard)(void *), void (*soft)(void *), void *arg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, sim_install);
	irq_hard = hard;
	irq_soft = soft;
	irq_arg = arg;
}

/* pthread_kill to self is delivered before it returns, and sanitizers
 * intercept it (TSan would defer a raw tgkill to its next interceptor). */
void kcb_sim_irq_raise(void)
{
	pthread_kill(pthread_self(), KCB_SIM_SIGNAL);
}

int kcb_sim_irq_timer(long period_ns)
{
	struct itimerspec its = { 0 };

	if (period_ns <= 0) {
		if (irq_timer_armed) {
			timer_delete(irq_timer);
			irq_timer_armed = 0;
		}
		return 0;
	}
	if (!irq_timer_armed) {
		struct sigevent sev = { 0 };

		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = KCB_SIM_SIGNAL;
		sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(CLOCK_MONOTONIC, &sev, &irq_timer))
			return -errno;
		irq_timer_armed = 1;
	}
	its.it_value.tv_nsec = period_ns % 1000000000L;
	its.it_value.tv_sec = period_ns / 1000000000L;
	its.it_interval = its.it_value;
	return timer_settime(irq_timer, 0, &its, NULL) ? -errno : 0;
}
