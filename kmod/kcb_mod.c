// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_mod.c - kcovbench.ko: on load, runs the correctness twins of every
 * front end x claim pair on all online CPUs and reports one line per check:
 *
 *	kcovbench: ok shared linux/cas
 *	kcovbench: not ok shared netbsd/fadd
 *	kcovbench: ok remote linux-pertask-v4
 *	kcovbench: ok lookup rcu-hash16
 *	kcovbench: 90 passed, 0 failed
 *
 * Loading succeeds whatever the results: they are read from dmesg.
 *
 * It is also the benchmark in kernel context (kcb_run.h): runs are written
 * to /sys/kernel/debug/kcovbench/run (kcb_ctl.c), or given at load time:
 *
 *	insmod kcovbench.ko selftest=0 run="config=linux mode=pertask threads=2"
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/cpumask.h>
#include <linux/sched.h>
#include <linux/version.h>
#include "../variants/variant.h"
#include "../tests/twins.h"
#include "../tests/twin_remote.h"
#include "twin_preempt.h"
#include "kcb_run.h"

static bool selftest = true;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Run the correctness twins on load (default 1)");

static ulong nrec = 2000;
module_param(nrec, ulong, 0444);
MODULE_PARM_DESC(nrec, "Calls per thread and check (default 2000)");

static ulong nsections = 200;
module_param(nsections, ulong, 0444);
MODULE_PARM_DESC(nsections, "Remote sections per thread and phase (default 200)");

static ulong preempt_rounds = 200;
module_param(preempt_rounds, ulong, 0444);
MODULE_PARM_DESC(preempt_rounds, "Rounds of the preemption twin per Linux "
		 "remote design and scenario (default 200)");

static char *run;
module_param(run, charp, 0444);
MODULE_PARM_DESC(run, "A benchmark run spec to run on load, after the selftest "
		 "(e.g. \"config=linux mode=pertask threads=2\"); results in "
		 "debugfs kcovbench/results and dmesg");

/*
 * twin_shared() puts every thread's 4-word records in one buffer, and
 * kcb_dev_init() takes at most 2^28 words: stay well below.
 */
#define KCB_MAX_SHARED_RECORDS	(1ul << 24)

static int run_per_thread(const struct kcb_combo *c, int ncpus)
{
	return twin_per_thread(c, ncpus, nrec);
}

static int run_shared(const struct kcb_combo *c, int ncpus)
{
	return twin_shared(c, ncpus, nrec);
}

static int run_cmp_layout(const struct kcb_combo *c, int ncpus)
{
	return twin_cmp_layout(c);
}

static int run_move_bad_count(const struct kcb_combo *c, int ncpus)
{
	return twin_move_bad_count(c);
}

static int run_unique(const struct kcb_combo *c, int ncpus)
{
	return twin_unique(c);
}

static int run_uniq_hash(const struct kcb_combo *c, int ncpus)
{
	return twin_uniq_hash(c);
}

static const struct {
	const char *name;
	int (*run)(const struct kcb_combo *c, int ncpus);
} checks[] = {
	{ "per_thread", run_per_thread },
	{ "shared", run_shared },
	{ "cmp_layout", run_cmp_layout },
	{ "move_bad_count", run_move_bad_count },
	{ "unique", run_unique },
	{ "uniq_hash", run_uniq_hash },
};

static void kcb_selftest(void)
{
	int ncpus = num_online_cpus();
	int passed = 0, failed = 0;
	unsigned int j;
	int i;

	for (i = 0; i < kcb_ncombos; i++) {
		const struct kcb_combo *c = kcb_combo(i);

		if (!c)
			continue;
		/* The broken control must be caught, on its first attempt. */
		if (c->pair->broken) {
			int caught = ncpus >= 2 && twin_broken_caught(c, ncpus, nrec);

			pr_info("%sok broken-control-caught-first-attempt %s/%s\n",
				caught ? "" : "not ", c->fe->name, c->pair->name);
			if (caught)
				passed++;
			else
				failed++;
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(checks); j++) {
			int err;

			/* the unique twin: FE_GUARD front ends only */
			if (checks[j].run == run_unique && !c->trace_pc_guard)
				continue;
			/* the uniq-hash twin: FE_UNIQ_HASH front ends only */
			if (checks[j].run == run_uniq_hash && !c->loop_pc_at)
				continue;
			err = checks[j].run(c, ncpus);

			pr_info("%sok %s %s/%s\n", err ? "not " : "",
				checks[j].name, c->fe->name, c->pair->name);
			if (err)
				failed++;
			else
				passed++;
			cond_resched();
		}
	}
	/* Broken front ends: their proposal's twin must fail, first try. */
	for (i = 0; i < kcb_nbroken_fe; i++) {
		const struct kcb_combo *c = kcb_broken_fe_combos[i];
		int caught = twin_broken_fe(c) != 0;

		pr_info("%sok broken-control-caught-first-attempt %s/%s\n",
			caught ? "" : "not ", c->fe->name, c->pair->name);
		if (caught)
			passed++;
		else
			failed++;
	}
	/*
	 * Remote sections (task and softirq: twin_remote_kernel.c) and the
	 * lookups.  Both need two threads at least: one runner and the
	 * closer in teardown, an adder and a finder in the lookup race.
	 */
	if (ncpus < 2) {
		pr_info("remote and lookup twins skipped: one CPU\n");
	} else {
		for (i = 0; i < kcb_nremotes; i++) {
			const struct kcb_remote_ops *r = kcb_remotes[i];
			int err = twin_remote(r, ncpus, nsections);

			pr_info("%sok remote %s\n", err ? "not " : "", r->name);
			if (err)
				failed++;
			else
				passed++;
			cond_resched();
		}
		/*
		 * A softirq section preempted on its CPU by a higher-priority
		 * task with a section of its own (what the v4 patch says
		 * corrupts per-CPU saved state on PREEMPT_RT): one CPU, the
		 * Linux-shaped designs, on both kernels.
		 */
		for (i = 0; i < kcb_nremotes; i++) {
			const struct kcb_remote_ops *r = kcb_remotes[i];
			int err;

			if (!r->softirq || strcmp(r->config, "linux"))
				continue;
			err = twin_preempt(r, preempt_rounds);
			pr_info("%sok preempt %s\n", err ? "not " : "", r->name);
			if (err)
				failed++;
			else
				passed++;
			cond_resched();
		}
		for (i = 0; i < kcb_nlookups; i++) {
			const struct kcb_lookup_ops *l = kcb_lookups[i];
			int err = twin_lookup(l, ncpus, 1024);

			pr_info("%sok lookup %s\n", err ? "not " : "", l->name);
			if (err)
				failed++;
			else
				passed++;
			cond_resched();
		}
	}
	pr_info("%d passed, %d failed\n", passed, failed);
}

static int __init kcb_init(void)
{
	if (!nrec || nrec * num_online_cpus() > KCB_MAX_SHARED_RECORDS) {
		pr_err("nrec must be 1..%lu per CPU\n",
		       KCB_MAX_SHARED_RECORDS / num_online_cpus());
		return -EINVAL;
	}
	/*
	 * The linux front end stores PCs less this, as kcov subtracts the
	 * KASLR offset: module-relative PCs are stable from load to load.
	 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	WRITE_ONCE(kcb_kaslr_off, (unsigned long)THIS_MODULE->mem[MOD_TEXT].base);
#else
	WRITE_ONCE(kcb_kaslr_off, (unsigned long)THIS_MODULE->core_layout.base);
#endif
	if (selftest)
		kcb_selftest();
	return kcb_ctl_init(run);
}

static void __exit kcb_exit(void)
{
	kcb_ctl_exit();
	pr_info("unloaded\n");
}

module_init(kcb_init);
module_exit(kcb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kcov hook variants: correctness twins and benchmarks");
