/* SPDX-License-Identifier: MIT */
/*
 * kcb_user.h - the contract in userland: a simulated kernel machine.
 *
 * One OS thread is one simulated CPU.  curcpu(), current and the preempt
 * count are per-thread TLS words, each read with a %fs load that has the
 * merge semantics of the x86 kernel read it stands for (see KCB_TLS_LOAD*):
 * the same cost structure as a %gs-relative per-CPU read in a kernel.  Interrupts are a per-thread timer
 * signal (kcb_user.c); "irqs off" defers it until kcb_local_irq_restore().
 */
#ifndef KCB_USER_H
#define KCB_USER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define kcb_noinline	__attribute__((__noinline__, __noipa__))
#define kcb_notrace	__attribute__((__no_instrument_function__))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define barrier()	__asm__ __volatile__("" ::: "memory")

/* READ_ONCE/WRITE_ONCE: one untorn access.  Relaxed atomics emit a plain mov
 * on x86-64 and tell ThreadSanitizer what the kernel's volatile means. */
#define READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Atomics.  kcb_cmpxchg returns the old value, like atomic_cas_ulong(). */
static __always_inline uint64_t kcb_cmpxchg(uint64_t *p, uint64_t old, uint64_t new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST,
	    __ATOMIC_SEQ_CST);
	return old;
}
#define kcb_fetch_add(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
/* 32-bit ones, for guard variables */
#define kcb_fetch_add_u32(p, v)	__atomic_fetch_add((uint32_t *)(p), (v), __ATOMIC_SEQ_CST)
static __always_inline uint32_t kcb_cmpxchg_u32(uint32_t *p, uint32_t old, uint32_t new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return old;
}
#define kcb_xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define kcb_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define kcb_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define kcb_smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
/* smp_wmb(): earlier stores before later ones.  A release fence, which
 * emits no instruction on x86-64 (TSO keeps stores in order; the compiler
 * may not move stores across it), as smp_wmb() is barrier() there.
 * ThreadSanitizer does not model fences (GCC rejects them under -Wtsan):
 * there it is a compiler barrier, and the counts it orders are read
 * after the writers are joined or under their lock. */
#ifdef __SANITIZE_THREAD__
#define kcb_smp_wmb()		barrier()
#else
#define kcb_smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#endif
/* Let another thread run: the broken control holds its race window open
 * with it, so a busy CPU still schedules the partner it waits for. */
#define kcb_relax()		sched_yield()
/* let another thread run here (a preemption point in a twin) */
#define kcb_yield()		sched_yield()

/* ---- per-CPU state, in TLS (defined in kcb_user.c) ---- */
struct kcb_cpu;
struct kcb_task;
extern __thread struct kcb_cpu *kcb_tls_cpu;
extern __thread struct kcb_task *kcb_tls_current;
/* local-exec, as kcb_user.c defines it: KCB_TLS_LOAD_RAW's "m" operand is
 * then %fs:kcb_tls_preempt_count@tpoff itself, with no GOT load. */
extern __thread unsigned int kcb_tls_preempt_count
    __attribute__((tls_model("local-exec")));
extern __thread int kcb_tls_cpuid;

#if defined(__x86_64__)
/* this_cpu_read(): asm volatile, emitted every time.  OpenBSD's and
 * NetBSD's curcpu() are volatile too. */
#define KCB_TLS_LOAD(var) ({						\
	__typeof__(var) v__;						\
	__asm__ __volatile__("mov %%fs:" #var "@tpoff, %0" : "=r"(v__));	\
	v__; })
/* this_cpu_read_stable(), i.e. x86 get_current(): not volatile and no
 * memory operand, so the compiler merges every read in a function, across
 * barrier() and stores as well. */
#define KCB_TLS_LOAD_STABLE(var) ({					\
	__typeof__(var) v__;						\
	__asm__("mov %%fs:" #var "@tpoff, %0" : "=r"(v__));		\
	v__; })
/* raw_cpu_read_4(), i.e. x86 preempt_count(): not volatile, with an "m"
 * operand, so reads merge until a barrier() or a store may have changed
 * the word.  The operand is %fs:var@tpoff itself (local-exec TLS), so it
 * costs no more than the other two. */
#define KCB_TLS_LOAD_RAW(var) ({					\
	__typeof__(var) v__;						\
	__asm__("mov %1, %0" : "=r"(v__) : "m"(var));			\
	v__; })
#else
#define KCB_TLS_LOAD(var)	(*(volatile __typeof__(var) *)&(var))
#define KCB_TLS_LOAD_STABLE(var) (var)
#define KCB_TLS_LOAD_RAW(var)	(var)
#endif

#define kcb_curcpu()		KCB_TLS_LOAD(kcb_tls_cpu)
#define kcb_current()		KCB_TLS_LOAD_STABLE(kcb_tls_current)
#define kcb_preempt_count()	KCB_TLS_LOAD_RAW(kcb_tls_preempt_count)

/* Per-CPU variables: an array indexed by the simulated CPU, found with one
 * TLS load, as this_cpu_ptr() is one %gs load plus an add. */
#define KCB_MAX_CPUS		256
/* Each CPU's copy on lines of its own, as the kernel's per-CPU areas are:
 * adjacent array elements would false-share.  128: the adjacent-line
 * prefetcher pairs lines on x86. */
#define KCB_PCPU_ALIGN		128
#define KCB_DEFINE_PER_CPU(type, name)					\
	struct kcb_pcpu_##name {					\
		type v __attribute__((aligned(KCB_PCPU_ALIGN)));	\
	} name[KCB_MAX_CPUS]
#define kcb_this_cpu_ptr(name)	(&(name)[KCB_TLS_LOAD(kcb_tls_cpuid)].v)
#define kcb_per_cpu_ptr(name, cpu) (&(name)[(cpu)].v)
#define kcb_smp_processor_id()	KCB_TLS_LOAD(kcb_tls_cpuid)

/* Linux subtracts kaslr_offset() (&_text - __START_KERNEL: an lea and a
 * sub) from _RET_IP_; a PIE's load bias is the same kind of constant. */
extern char __executable_start[];
#define kcb_kaslr_offset()	((uintptr_t)__executable_start)

/* Real kernel objects (kobj/): called whenever the current task's tracing
 * state, the simulated preempt count or the thread's CPU changes, so that
 * the runtime copies them into the kernel's task_struct and per-CPU
 * variables.  NULL unless kobj/ is linked; never in a hook. */
extern void (*kcb_ctx_hook)(void);
/* The configurations of kobj/ (kernel-*), when linked: kcb_find() and
 * `list` ask them after the variants. */
const struct kcb_combo *kcb_kobj_find(const char *name) __attribute__((weak));
const char *kcb_kobj_list(int i, const char **key) __attribute__((weak));
uint64_t (*kcb_kobj_workload(const struct kcb_combo *c))(uint64_t, void *)
    __attribute__((weak));
#define kcb_extra_find(name)	(kcb_kobj_find ? kcb_kobj_find(name) : NULL)
#define kcb_extra_list(i, key)	(kcb_kobj_list ? kcb_kobj_list((i), (key)) : NULL)
#define kcb_ctx_changed() do {						\
	if (kcb_ctx_hook)						\
		kcb_ctx_hook();						\
} while (0)

/* Linux's preempt_count layout. */
#define KCB_SOFTIRQ_OFFSET	0x100u
#define KCB_SOFTIRQ_MASK	0xff00u
#define KCB_HARDIRQ_OFFSET	0x10000u
#define KCB_HARDIRQ_MASK	0xf0000u
#define KCB_NMI_MASK		0xf00000u

#define kcb_in_task()	(!(kcb_preempt_count() &			\
	(KCB_NMI_MASK | KCB_HARDIRQ_MASK | KCB_SOFTIRQ_OFFSET)))
#define kcb_in_serving_softirq() (kcb_preempt_count() & KCB_SOFTIRQ_OFFSET)
#define kcb_in_hardirq()	(kcb_preempt_count() & KCB_HARDIRQ_MASK)
#define kcb_in_nmi()		(kcb_preempt_count() & KCB_NMI_MASK)
#define kcb_in_softirq_really()	\
	(kcb_in_serving_softirq() && !kcb_in_hardirq() && !kcb_in_nmi())

/* ---- simulated interrupts (kcb_user.c) ---- */
extern __thread volatile int kcb_tls_irqs_off;
extern __thread volatile int kcb_tls_irq_pending;
void kcb_sim_irq_replay(void);
/* This thread's interrupt handlers; hard runs in hardirq, soft in a softirq
 * it raised with kcb_raise_softirq(), run at irq exit as Linux does. */
void kcb_sim_irq_handlers(void (*hard)(void *), void (*soft)(void *), void *arg);
int  kcb_sim_irq_timer(long period_ns);	/* 0 stops; -errno on failure */
void kcb_sim_irq_raise(void);		/* one interrupt, now */
void kcb_raise_softirq(void);

typedef unsigned long kcb_irqflags_t;
static __always_inline kcb_irqflags_t kcb_local_irq_save(void)
{
	kcb_irqflags_t f = kcb_tls_irqs_off;

	kcb_tls_irqs_off = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return f;
}
static __always_inline void kcb_local_irq_restore(kcb_irqflags_t f)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	kcb_tls_irqs_off = (int)f;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!f && unlikely(kcb_tls_irq_pending))
		kcb_sim_irq_replay();
}

/* The CPU kcb_thread_attach(idx, true) pins to, to check where it landed. */
int kcb_pin_target(int idx);
/* Pin thread idx to cpus[idx % n] from now on (a placement class). */
void kcb_set_pin_order(const int *cpus, int n);

/* ---- locks ---- */
/* A test-and-test-and-set spinlock: an atomic RMW to take, a release store
 * to drop, spinning on plain loads, as the kernel's uncontended fast path. */
typedef struct { int locked; } kcb_spinlock_t;
#define KCB_DEFINE_SPINLOCK(name)	kcb_spinlock_t name = { 0 }
static __always_inline void kcb_spin_lock_init(kcb_spinlock_t *l) { l->locked = 0; }

#ifndef KCB_EXPLORE
/* A !RT kernel's spin_lock() is preempt_disable() first: one add to the
 * per-CPU preempt count (not locked: only this CPU writes it) and a
 * barrier; spin_unlock() ends with preempt_enable(), a decrement whose
 * never-taken branch to preempt_schedule() folds into the decl on x86. */
static __always_inline void kcb_preempt_disable(void)
{
	kcb_tls_preempt_count += 1;
	barrier();
}
static __always_inline void kcb_preempt_enable(void)
{
	barrier();
	kcb_tls_preempt_count -= 1;
}
static __always_inline void kcb_spin_lock(kcb_spinlock_t *l)
{
	kcb_preempt_disable();
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	}
}
static __always_inline void kcb_spin_unlock(kcb_spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	kcb_preempt_enable();
}
#define kcb_spin_lock_irqsave(l, f)	do { (f) = kcb_local_irq_save(); kcb_spin_lock(l); } while (0)
#define kcb_spin_unlock_irqrestore(l, f) do { kcb_spin_unlock(l); kcb_local_irq_restore(f); } while (0)

typedef pthread_mutex_t kcb_mutex_t;
#define KCB_DEFINE_MUTEX(name)	kcb_mutex_t name = PTHREAD_MUTEX_INITIALIZER
#define kcb_mutex_lock(m)	pthread_mutex_lock(m)
#define kcb_mutex_unlock(m)	pthread_mutex_unlock(m)

/* local_lock_irqsave() on a !RT kernel is local_irq_save() on this CPU. */
typedef struct { int unused; } kcb_local_lock_t;
#define KCB_LOCAL_LOCK_INIT	{ 0 }
#define kcb_local_lock_irqsave(l, f)	do { (void)(l); (f) = kcb_local_irq_save(); } while (0)
#define kcb_local_unlock_irqrestore(l, f) do { (void)(l); kcb_local_irq_restore(f); } while (0)

/* A per-CPU variable's local_lock: kernel/kcov.c's
 * local_lock_irqsave(&kcov_percpu_data.lock, flags). */
#define kcb_local_lock_irqsave_pcpu(var, member, f)	((f) = kcb_local_irq_save())
#define kcb_local_unlock_irqrestore_pcpu(var, member, f) kcb_local_irq_restore(f)
#define kcb_local_lock_init_pcpu(var, member, cpu)	do { } while (0)

#define kcb_preempt_point(what)	do { } while (0)
#define kcb_lock_name(l, name)	do { (void)(l); } while (0)
void kcb_wait_a_while(void);
#else
/*
 * The explorer flavour (tests/explore_remote.c, built with -DKCB_EXPLORE):
 * one OS thread is one CPU running tasks as coroutines; every lock, irq
 * restore and preemption point asks the explorer's scheduler whether to
 * switch.  The same variant sources, the same names.
 */
enum { KCB_X_SPIN, KCB_X_MUTEX, KCB_X_LOCAL };
void kcb_x_point(const char *what);
void kcb_x_lock(int *word, int kind, const char *op);
void kcb_x_unlock(int *word, int kind, const char *op);
unsigned long kcb_x_irq_save(void);
void kcb_x_irq_restore(unsigned long f);
void kcb_x_lock_name(const void *l, const char *name);
void kcb_x_wait(void);
#define kcb_spin_lock(l)	kcb_x_lock(&(l)->locked, KCB_X_SPIN, "spin_lock")
#define kcb_spin_unlock(l)	kcb_x_unlock(&(l)->locked, KCB_X_SPIN, "spin_unlock")
/* On PREEMPT_RT spin_lock_irqsave() leaves interrupts on. */
#define kcb_spin_lock_irqsave(l, f) do {				\
	(f) = kcb_preempt_rt() ? (kcb_irqflags_t)kcb_tls_irqs_off : kcb_x_irq_save(); \
	kcb_x_lock(&(l)->locked, KCB_X_SPIN, "spin_lock_irqsave");	\
} while (0)
#define kcb_spin_unlock_irqrestore(l, f) do {				\
	kcb_x_unlock(&(l)->locked, KCB_X_SPIN, "spin_unlock_irqrestore"); \
	if (!kcb_preempt_rt())						\
		kcb_x_irq_restore(f);					\
} while (0)
typedef kcb_spinlock_t kcb_mutex_t;
#define KCB_DEFINE_MUTEX(name)	kcb_mutex_t name = { 0 }
#define kcb_mutex_lock(m)	kcb_x_lock(&(m)->locked, KCB_X_MUTEX, "mutex_lock")
#define kcb_mutex_unlock(m)	kcb_x_unlock(&(m)->locked, KCB_X_MUTEX, "mutex_unlock")
/* On PREEMPT_RT a local_lock is a per-CPU sleeping lock; on !RT it is
 * local_irq_save(). */
typedef struct { int locked; } kcb_local_lock_t;
#define KCB_LOCAL_LOCK_INIT	{ 0 }
#define kcb_local_lock_irqsave(l, f) do {				\
	if (kcb_preempt_rt()) {						\
		(f) = 0;						\
		kcb_x_lock(&(l)->locked, KCB_X_LOCAL, "local_lock_irqsave"); \
	} else {							\
		(f) = kcb_x_irq_save();					\
	}								\
} while (0)
#define kcb_local_unlock_irqrestore(l, f) do {				\
	if (kcb_preempt_rt())						\
		kcb_x_unlock(&(l)->locked, KCB_X_LOCAL, "local_unlock_irqrestore"); \
	else								\
		kcb_x_irq_restore(f);					\
} while (0)
#define kcb_local_lock_irqsave_pcpu(var, member, f)	\
	kcb_local_lock_irqsave(&kcb_this_cpu_ptr(var)->member, f)
#define kcb_local_unlock_irqrestore_pcpu(var, member, f) \
	kcb_local_unlock_irqrestore(&kcb_this_cpu_ptr(var)->member, f)
#define kcb_local_lock_init_pcpu(var, member, cpu)	\
	(kcb_per_cpu_ptr(var, cpu)->member.locked = 0)
#define kcb_preempt_point(what)	kcb_x_point(what)
#define kcb_lock_name(l, name)	kcb_x_lock_name((l), (name))
#define kcb_wait_a_while()	kcb_x_wait()
#endif

/* Milliseconds of a monotonic clock: bounds the twins' waits. */
static inline uint64_t kcb_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- remote sections ---- */
/* PREEMPT_RT semantics, switched at run time in userland. */
extern int kcb_sim_preempt_rt;
#define kcb_preempt_rt()	READ_ONCE(kcb_sim_preempt_rt)
/* Per-CPU preallocations cover every simulated CPU id (the explorer sets 1). */
extern int kcb_sim_possible_cpus;
#define kcb_possible_cpus()	kcb_sim_possible_cpus
#define kcb_for_each_possible_cpu(cpu)	\
	for ((cpu) = 0; (cpu) < kcb_possible_cpus(); (cpu)++)
/* CONFIG_KCOV_IRQ_AREA_SIZE is 0x40000 words; userland preallocates for
 * KCB_MAX_CPUS simulated CPUs, so its areas are smaller. */
#define KCB_IRQ_AREA_WORDS	0x1000u
/* kcb_parallel() takes any number of threads in userland. */
#define kcb_max_threads()	0x7fffffff
/* Enter and leave softirq context as run_softirq() does, without an
 * interrupt: for benchmarks that time sections in softirq context. */
void kcb_sim_softirq_enter(void);
void kcb_sim_softirq_exit(void);

/* ---- RCU: liburcu's memb flavour ---- */
#include <urcu/urcu-memb.h>
#define kcb_rcu_read_lock()	urcu_memb_read_lock()
#define kcb_rcu_read_unlock()	urcu_memb_read_unlock()
#define kcb_synchronize_rcu()	urcu_memb_synchronize_rcu()
#define kcb_rcu_dereference(p)	rcu_dereference(p)
#define kcb_rcu_assign_pointer(p, v) rcu_assign_pointer((p), (v))

/* ---- memory, logging ---- */
void *kcb_zalloc(size_t size);
void kcb_free(void *p);
#define kcb_log(...)		fprintf(stderr, __VA_ARGS__)
#include <stdio.h>

#endif /* KCB_USER_H */
