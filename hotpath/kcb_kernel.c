// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_kernel.c - threads, CPUs and interrupt bookkeeping for the module:
 * one kthread per CPU, bound and checked, released together.
 */
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/cpumask.h>
#include <linux/completion.h>
#include <linux/slab.h>
#include "kcb.h"

DEFINE_PER_CPU(struct kcb_cpu, kcb_pcpu);
unsigned long kcb_kaslr_off;

int kcb_ncpus(void)
{
	return num_online_cpus();
}

/* The idx-th online CPU, wrapping. */
static int nth_online_cpu(int idx)
{
	int cpu, n = 0, want = idx % num_online_cpus();

	for_each_online_cpu(cpu)
		if (n++ == want)
			return cpu;
	return -EINVAL;
}

int kcb_thread_attach(int idx, bool pin)
{
	struct kcb_cpu *ci;
	struct kcb_task *t;

	if (pin) {
		int cpu = nth_online_cpu(idx);

		if (cpu < 0)
			return cpu;
		set_cpus_allowed_ptr(current, cpumask_of(cpu));
		if (raw_smp_processor_id() != cpu)
			return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->id = idx;
	ci = this_cpu_ptr(&kcb_pcpu);
	ci->self = ci;
	ci->cpuid = raw_smp_processor_id();
	ci->idepth = 0;
	ci->nb_idepth = -1;
	WRITE_ONCE(ci->curtask, t);
	return ci->cpuid;
}

void kcb_thread_detach(void)
{
	struct kcb_cpu *ci = this_cpu_ptr(&kcb_pcpu);
	struct kcb_task *t = ci->curtask;

	WRITE_ONCE(ci->curtask, NULL);
	kfree(t);
}

struct par {
	void (*fn)(int, void *);
	void *arg;
	atomic_t ready, left, err;
	struct completion done;
};

struct par_thread {
	struct par *par;
	int idx;
};

static int par_main(void *p)
{
	struct par_thread *pt = p;
	struct par *par = pt->par;
	int cpu = kcb_thread_attach(pt->idx, true);

	if (cpu < 0)
		atomic_set(&par->err, cpu);
	/* Start barrier: spin until every thread is in place. */
	atomic_dec(&par->ready);
	while (atomic_read(&par->ready) > 0)
		cpu_relax();
	if (cpu >= 0) {
		par->fn(pt->idx, par->arg);
		kcb_thread_detach();
	}
	if (atomic_dec_and_test(&par->left))
		complete(&par->done);
	return 0;
}

int kcb_parallel(int n, void (*fn)(int, void *), void *arg)
{
	struct par par = { .fn = fn, .arg = arg };
	struct par_thread *pts;
	int i;

	if (n <= 0 || n > num_online_cpus())
		return -EINVAL;
	pts = kcalloc(n, sizeof(*pts), GFP_KERNEL);
	if (!pts)
		return -ENOMEM;
	atomic_set(&par.ready, n);
	atomic_set(&par.left, n);
	atomic_set(&par.err, 0);
	init_completion(&par.done);
	for (i = 0; i < n; i++) {
		struct task_struct *k;

		pts[i].par = &par;
		pts[i].idx = i;
		k = kthread_create(par_main, &pts[i], "kcovbench/%d", i);
		if (IS_ERR(k)) {
			/* Release the barrier for the threads never made. */
			atomic_set(&par.err, PTR_ERR(k));
			atomic_sub(n - i, &par.ready);
			if (atomic_sub_and_test(n - i, &par.left))
				complete(&par.done);
			break;
		}
		kthread_bind(k, nth_online_cpu(i));
		wake_up_process(k);
	}
	wait_for_completion(&par.done);
	kfree(pts);
	return atomic_read(&par.err);
}

void kcb_intr_enter(bool soft)
{
	struct kcb_cpu *ci = this_cpu_ptr(&kcb_pcpu);

	ci->idepth++;
	ci->nb_idepth++;
	if (ci->curtask)
		ci->curtask->intr_nesting++;
}

void kcb_intr_exit(bool soft)
{
	struct kcb_cpu *ci = this_cpu_ptr(&kcb_pcpu);

	if (ci->curtask)
		ci->curtask->intr_nesting--;
	ci->nb_idepth--;
	ci->idepth--;
}
