/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcb_kernel.h - the contract on the real kernel API (Linux 6.1).
 *
 * curcpu() is a this_cpu_read() of kcb's per-CPU cpu record (an asm
 * volatile %gs load); current is a this_cpu_read_stable() of its curtask,
 * the kcb task of the kthread pinned to that CPU (kcb_thread_attach()),
 * which the compiler may merge as it merges x86 get_current().  The preempt
 * count, in_task() and friends are the kernel's own.  Spinlocks, mutexes,
 * local locks, RCU and irq save/restore are the kernel's: on PREEMPT_RT a
 * spinlock_t sleeps, exactly as it does for kernel/kcov.c.
 */
#ifndef KCB_KERNEL_H
#define KCB_KERNEL_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
/* PREEMPT_RT: in_task() reads current->softirq_disable_cnt. */
#include <linux/sched.h>
#include <linux/irqflags.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/local_lock.h>
#include <linux/rcupdate.h>
#include <linux/vmalloc.h>
#include <linux/atomic.h>
#include <linux/printk.h>
#include <linux/delay.h>
#include <linux/ktime.h>

#define kcb_noinline	noinline __attribute__((__noipa__))
#define kcb_notrace	notrace

#define kcb_cmpxchg(p, o, n)	cmpxchg((p), (o), (n))
#define kcb_fetch_add(p, v)	((uint64_t)atomic64_fetch_add((v), (atomic64_t *)(p)))
/* 32-bit ones, for guard variables */
#define kcb_fetch_add_u32(p, v)	((uint32_t)atomic_fetch_add((v), (atomic_t *)(p)))
#define kcb_cmpxchg_u32(p, o, n)	cmpxchg((uint32_t *)(p), (uint32_t)(o), (uint32_t)(n))
#define kcb_xchg(p, v)		xchg((p), (v))
#define kcb_load_acquire(p)	smp_load_acquire(p)
#define kcb_store_release(p, v)	smp_store_release((p), (v))
#define kcb_smp_mb()		smp_mb()
/* barrier() on x86, a store fence where stores may be reordered */
#define kcb_smp_wmb()		smp_wmb()
/* The twins' kthreads are pinned one per CPU, so a spin lets the partner run. */
#define kcb_relax()		cpu_relax()
/* let another thread run here (a preemption point in a twin) */
#define kcb_yield()		cond_resched()

struct kcb_cpu;
DECLARE_PER_CPU(struct kcb_cpu, kcb_pcpu);
#define kcb_curcpu()		this_cpu_read(kcb_pcpu.self)
#ifdef this_cpu_read_stable
#define kcb_current()		this_cpu_read_stable(kcb_pcpu.curtask)
#else
#define kcb_current()		this_cpu_read(kcb_pcpu.curtask)
#endif
#define kcb_preempt_count()	preempt_count()

#define KCB_DEFINE_PER_CPU(type, name)	DEFINE_PER_CPU(type, name)
#define kcb_this_cpu_ptr(name)		this_cpu_ptr(&(name))
#define kcb_per_cpu_ptr(name, cpu)	per_cpu_ptr(&(name), (cpu))
#define kcb_smp_processor_id()		raw_smp_processor_id()
#define KCB_MAX_CPUS			NR_CPUS

/* kaslr_offset() needs _text, which modules cannot see: subtract the
 * module's own base instead (one load and a sub), so module PCs are
 * image-relative as kcov's are. */
extern unsigned long kcb_kaslr_off;
#define kcb_kaslr_offset()	READ_ONCE(kcb_kaslr_off)
/* userland only (kobj/): nothing to mirror in the kernel */
#define kcb_ctx_changed()	do { } while (0)
#define kcb_extra_find(name)	NULL
#define kcb_extra_list(i, key)	NULL

#define kcb_in_task()		in_task()
#define kcb_in_serving_softirq() in_serving_softirq()
#define kcb_in_hardirq()	in_hardirq()
#define kcb_in_nmi()		in_nmi()
#define kcb_in_softirq_really()	\
	(in_serving_softirq() && !in_hardirq() && !in_nmi())

typedef unsigned long kcb_irqflags_t;
static __always_inline kcb_irqflags_t kcb_local_irq_save(void)
{
	unsigned long f;

	local_irq_save(f);
	return f;
}
#define kcb_local_irq_restore(f)	local_irq_restore(f)

typedef spinlock_t kcb_spinlock_t;
#define KCB_DEFINE_SPINLOCK(name)	DEFINE_SPINLOCK(name)
#define kcb_spin_lock_init(l)		spin_lock_init(l)
#define kcb_spin_lock(l)		spin_lock(l)
#define kcb_spin_unlock(l)		spin_unlock(l)
#define kcb_spin_lock_irqsave(l, f)	spin_lock_irqsave((l), (f))
#define kcb_spin_unlock_irqrestore(l, f) spin_unlock_irqrestore((l), (f))

typedef struct mutex kcb_mutex_t;
#define KCB_DEFINE_MUTEX(name)		DEFINE_MUTEX(name)
#define kcb_mutex_lock(m)		mutex_lock(m)
#define kcb_mutex_unlock(m)		mutex_unlock(m)

typedef local_lock_t kcb_local_lock_t;
#define KCB_LOCAL_LOCK_INIT		INIT_LOCAL_LOCK(lock)
#define kcb_local_lock_irqsave(l, f)	local_lock_irqsave((l), (f))
#define kcb_local_unlock_irqrestore(l, f) local_unlock_irqrestore((l), (f))

#define kcb_rcu_read_lock()		rcu_read_lock()
#define kcb_rcu_read_unlock()		rcu_read_unlock()
#define kcb_synchronize_rcu()		synchronize_rcu()
#define kcb_rcu_dereference(p)		rcu_dereference(p)
#define kcb_rcu_assign_pointer(p, v)	rcu_assign_pointer((p), (v))

/* Remote sections (see kcb.h). */
#define kcb_preempt_rt()		IS_ENABLED(CONFIG_PREEMPT_RT)
#define kcb_preempt_point(what)		do { } while (0)
#define kcb_lock_name(l, name)		do { (void)(l); } while (0)
#define kcb_possible_cpus()		num_possible_cpus()
#define kcb_for_each_possible_cpu(cpu)	for_each_possible_cpu(cpu)
#define kcb_local_lock_irqsave_pcpu(var, member, f)	\
	local_lock_irqsave(&(var).member, (f))
#define kcb_local_unlock_irqrestore_pcpu(var, member, f) \
	local_unlock_irqrestore(&(var).member, (f))
#define kcb_local_lock_init_pcpu(var, member, cpu)	\
	local_lock_init(per_cpu_ptr(&(var).member, (cpu)))
#define kcb_wait_a_while()		msleep(1)
#define kcb_clock_ms()			((uint64_t)ktime_to_ms(ktime_get()))
/* CONFIG_KCOV_IRQ_AREA_SIZE's default (Debian's kernels have no KCOV). */
#define KCB_IRQ_AREA_WORDS		0x40000u
/* kcb_parallel() binds one kthread per online CPU: no more threads. */
#define kcb_max_threads()		num_online_cpus()

#define kcb_zalloc(size)		vzalloc(size)
#define kcb_free(p)			vfree(p)
#define kcb_log(...)			pr_info("kcovbench: " __VA_ARGS__)

#endif /* KCB_KERNEL_H */
