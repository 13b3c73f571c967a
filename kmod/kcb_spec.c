// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_spec.c - a run spec: whitespace-separated key=value pairs,
 *
 *	config=NAME	upstream configuration, FRONTEND/PAIR, or "empty"
 *			(the empty hook; in workload mode the uninstrumented
 *			workload)				required
 *	mode=M		pertask, shared, cmp, workload, switchN or switchN-pc,
 *			guard-first or guard-repeat, hash-first or
 *			hash-repeat (pertask);
 *			workload is one round of the instrumented workload
 *			per batch, tracing PCs only (a round's ~871k
 *			comparisons would want 28 MiB a thread), for the
 *			upstream configurations and empty
 *	threads=N	1 .. online CPUs, one kthread per CPU	(1, or cpus')
 *	cpus=LIST	CPUs in cpulist form ("0,2-3"); thread i runs on the
 *			i-th, in increasing order; all online	(first N online)
 *	window_ms=W	measured window, 1 .. 10000		(200)
 *	warmup_ms=U	warm-up before it, 0 .. 10000		(50)
 *	reps=R		repetitions, 1 .. 100			(1)
 *	irq=0		only 0: the module runs under the kernel's own
 *			interrupts, it simulates none		(0)
 *	buffer_words=N	each thread's own buffer, count word included,
 *			emptied only when full; 0: room for one batch,
 *			emptied after each (never leaves L1)	(262144)
 *	ab=NAME		a paired run (kcb_ab.c): config= is A, NAME (as
 *			config= takes it; the same name for A/A) is B, in
 *			the same mode, which B must be able to run; then
 *			window_ms is the measured rounds' time	(none)
 *
 * or, instead of config= and mode=, a remote-section run
 * (kcb_remote_run.c):
 *
 *	remote=NAME	a design of variants/remotes.h, or hooks-only (the
 *			request-rate baseline, variants/remote_registry.c)
 *	context=C	task, or softirq for designs that have it	(task)
 *	records=N	0 .. 256 hooks per section; given, the run is
 *			named remote-request/NAME/recs:N, as userland's
 *			--modes=remote-request rows			(0)
 *
 * and reps x (warmup_ms + window_ms) at most 60 s (kcb_run.h says why).
 * Anything else, a key given twice, or a bound crossed: -EINVAL, with the
 * reason in dmesg.  Threads never share a CPU: the replica front ends'
 * curcpu()/current are per-CPU (hotpath/kcb_kernel.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/slab.h>
#include <linux/kernel.h>
#include "kcb_run.h"

#define bad(fmt, ...) ({						\
	pr_info_ratelimited("bad run spec: " fmt "\n", ##__VA_ARGS__);	\
	-EINVAL;							\
})

enum { K_CONFIG, K_MODE, K_THREADS, K_CPUS, K_WINDOW, K_WARMUP, K_REPS, K_IRQ,
       K_BUFFER, K_REMOTE, K_CONTEXT, K_AB, K_RECORDS, K_MAX };
static const char *const keys[K_MAX] = {
	"config", "mode", "threads", "cpus", "window_ms", "warmup_ms", "reps", "irq",
	"buffer_words", "remote", "context", "ab", "records",
};

static int number(const char *key, const char *v, u64 min, u64 max, u64 *out)
{
	u64 x;

	if (kstrtou64(v, 10, &x) || x < min || x > max)
		return bad("%s=%.32s: want %llu .. %llu", key, v, min, max);
	*out = x;
	return 0;
}

/* name's combo into *c (NULL for "empty"); -EINVAL for an unknown name. */
static int find_config(const char *key, const char *v, char *name,
		       const struct kcb_combo **c)
{
	if (strscpy(name, v, KCB_CONFIG_MAX) < 0)
		return bad("%s name too long", key);
	*c = strcmp(v, "empty") ? kcb_find(v) : NULL;
	if (!*c && strcmp(v, "empty"))
		return bad("unknown config '%.32s' (%s=)", v, key);
	return 0;
}

/* Whether c (NULL: the empty hook) can run mode: what mode_run_init()
 * would refuse, said here with the reason. */
static int mode_fits(const char *name, const struct kcb_combo *c, int mode)
{
	unsigned int f = kcb_modes[mode].flags;

	if (kcb_mode_fits(mode, c))
		return 0;
	if (f & KCB_MF_WORKLOAD)
		return bad("%s has no workload copy (upstream configurations only)",
			   name);
	if (f & KCB_MF_GUARD)
		return bad("%s has no trace_pc_guard for mode %s", name,
			   kcb_mode_names[mode]);
	if (f & KCB_MF_HASH)
		return bad("%s has no unique-PC hash table for mode %s", name,
			   kcb_mode_names[mode]);
	return 0;
}

/* cpus=LIST: the CPUs, all online, into spec->cpus in increasing order. */
static int parse_cpus(const char *v, struct kcb_spec *spec, int *n)
{
	cpumask_var_t mask;
	int cpu, i = 0, err = 0;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	if (!*v || cpulist_parse(v, mask) || cpumask_empty(mask))
		err = bad("cpus=%.32s: not a CPU list", v);
	else if (!cpumask_subset(mask, cpu_online_mask))
		err = bad("cpus=%.32s: not all online (online: %*pbl)", v,
			  cpumask_pr_args(cpu_online_mask));
	if (!err)
		for_each_cpu(cpu, mask)
			spec->cpus[i++] = cpu;
	*n = i;
	free_cpumask_var(mask);
	return err;
}

static int parse_pair(char *tok, struct kcb_spec *spec, u64 *val, bool *seen,
		      int *ncpus)
{
	char *v = strchr(tok, '=');
	int k;

	if (!v)
		return bad("'%.32s' is not key=value", tok);
	*v++ = '\0';
	for (k = 0; k < K_MAX && strcmp(tok, keys[k]); k++)
		;
	if (k == K_MAX)
		return bad("unknown key '%.32s'", tok);
	if (seen[k])
		return bad("%s given twice", keys[k]);
	seen[k] = true;
	switch (k) {
	case K_CONFIG:
		return find_config("config", v, spec->config, &spec->c);
	case K_AB:
		if (!*v)
			return bad("ab= wants B: a config, FRONTEND/PAIR or empty");
		return find_config("ab", v, spec->ab, &spec->cb);
	case K_MODE:
		spec->mode = kcb_mode_find(v);
		return spec->mode < 0 ? bad("unknown mode '%.32s'", v) : 0;
	case K_CPUS:
		return parse_cpus(v, spec, ncpus);
	case K_THREADS:
		return number("threads", v, 1, num_online_cpus(), &val[k]);
	case K_WINDOW:
		return number("window_ms", v, 1, KCB_WINDOW_MS_MAX, &val[k]);
	case K_WARMUP:
		return number("warmup_ms", v, 0, KCB_WARMUP_MS_MAX, &val[k]);
	case K_REPS:
		return number("reps", v, 1, KCB_REPS_MAX, &val[k]);
	case K_IRQ:
		return number("irq (the module simulates no interrupts)", v, 0, 0, &val[k]);
	case K_REMOTE:
		spec->remote = kcb_remote_find(v);
		if (!spec->remote && !strcmp(v, kcb_remote_hooks_only.name))
			spec->remote = &kcb_remote_hooks_only;
		if (!spec->remote)
			return bad("unknown remote design '%.32s'", v);
		/* Its hooks' configuration: what a section's records call. */
		spec->c = kcb_find(spec->remote->config);
		scnprintf(spec->config, sizeof(spec->config), "remote/%s", v);
		return 0;
	case K_RECORDS:
		return number("records", v, 0, KCB_REMOTE_RECORDS_MAX, &val[k]);
	case K_CONTEXT:
		if (!strcmp(v, "softirq"))
			spec->remote_soft = 1;
		else if (strcmp(v, "task"))
			return bad("context=%.32s: task or softirq", v);
		return 0;
	case K_BUFFER:
		if (number("buffer_words", v, 0, KCB_BUFFER_WORDS_MAX, &val[k]))
			return -EINVAL;
		if (val[k] && val[k] < KCB_BATCH * KCB_STRIDE_CMP + 1)
			return bad("buffer_words=%llu: 0, or %d .. %u", val[k],
				   KCB_BATCH * KCB_STRIDE_CMP + 1, KCB_BUFFER_WORDS_MAX);
		return 0;
	}
	return -EINVAL;
}

int kcb_spec_parse(char *text, struct kcb_spec *spec)
{
	u64 val[K_MAX] = { [K_WINDOW] = 200, [K_WARMUP] = 50, [K_REPS] = 1,
			   [K_BUFFER] = KCB_BUFFER_WORDS_DEFAULT };
	bool seen[K_MAX] = { false };
	int ncpus = 0, err = 0, i, cpu;
	char *tok;

	memset(spec, 0, sizeof(*spec));
	spec->cpus = kcalloc(nr_cpu_ids, sizeof(*spec->cpus), GFP_KERNEL);
	if (!spec->cpus)
		return -ENOMEM;
	while (!err && (tok = strsep(&text, " \t\n")))
		if (*tok)
			err = parse_pair(tok, spec, val, seen, &ncpus);
	if (err)
		return err;
	if (seen[K_REMOTE] && (seen[K_CONFIG] || seen[K_MODE]))
		return bad("remote= takes neither config= nor mode=");
	if (seen[K_CONTEXT] && !seen[K_REMOTE])
		return bad("context= is for remote= runs");
	if (seen[K_RECORDS] && !seen[K_REMOTE])
		return bad("records= is for remote= runs");
	if (seen[K_RECORDS]) {
		spec->remote_records = val[K_RECORDS];
		spec->remote_request = 1;
		scnprintf(spec->config, sizeof(spec->config), "remote-request/%s/recs:%d",
			  spec->remote->name, spec->remote_records);
	}
	if (spec->remote_soft && !spec->remote->softirq)
		return bad("%s has no softirq sections", spec->remote->name);
	if (!seen[K_CONFIG] && !seen[K_REMOTE])
		return bad("config= (or remote=) is required");
	if (seen[K_THREADS] && seen[K_CPUS] && val[K_THREADS] != ncpus)
		return bad("threads=%llu but %d CPUs listed", val[K_THREADS], ncpus);
	if (seen[K_AB] && seen[K_REMOTE])
		return bad("ab= pairs config= runs, not remote= ones");
	if (!spec->remote && mode_fits(spec->config, spec->c, spec->mode))
		return -EINVAL;
	if (seen[K_AB] && mode_fits(spec->ab, spec->cb, spec->mode))
		return -EINVAL;
	if (val[K_REPS] * (val[K_WARMUP] + val[K_WINDOW]) > KCB_RUN_MS_MAX)
		return bad("reps x (warmup_ms + window_ms) over %d ms", KCB_RUN_MS_MAX);
	if (!seen[K_CPUS]) {
		ncpus = seen[K_THREADS] ? val[K_THREADS] : 1;
		i = 0;
		for_each_online_cpu(cpu)
			if (i < ncpus)
				spec->cpus[i++] = cpu;
	}
	spec->nthreads = ncpus;
	spec->window_ns = val[K_WINDOW] * NSEC_PER_MSEC;
	spec->warmup_ns = val[K_WARMUP] * NSEC_PER_MSEC;
	spec->reps = val[K_REPS];
	spec->buf_words = val[K_BUFFER];
	return 0;
}

void kcb_spec_free(struct kcb_spec *spec)
{
	kfree(spec->cpus);
	spec->cpus = NULL;
}

int kcb_spec_print(const struct kcb_spec *spec, char *buf, size_t size)
{
	int i, j, n;

	if (spec->remote)
		n = scnprintf(buf, size, "remote=%s context=%s", spec->remote->name,
			      kcb_spec_mode_name(spec));
	if (spec->remote && spec->remote_request)
		n += scnprintf(buf + n, size - n, " records=%d", spec->remote_records);
	else
		n = scnprintf(buf, size, "config=%s mode=%s", spec->config,
			      kcb_spec_mode_name(spec));
	n += scnprintf(buf + n, size - n, " irq=%d threads=%d cpus=", spec->irq,
		       spec->nthreads);
	/* As a cpulist ("0-3,8"): the CPUs are in increasing order. */
	for (i = 0; i < spec->nthreads; i = j) {
		for (j = i + 1; j < spec->nthreads &&
		     spec->cpus[j] == spec->cpus[j - 1] + 1; j++)
			;
		n += scnprintf(buf + n, size - n, "%s%d", i ? "," : "",
			       spec->cpus[i]);
		if (j - 1 > i)
			n += scnprintf(buf + n, size - n, "-%d", spec->cpus[j - 1]);
	}
	n += scnprintf(buf + n, size - n, " window_ms=%llu warmup_ms=%llu reps=%d buffer_words=%llu",
		       spec->window_ns / NSEC_PER_MSEC,
		       spec->warmup_ns / NSEC_PER_MSEC, spec->reps, spec->buf_words);
	if (spec->ab[0])
		n += scnprintf(buf + n, size - n, " ab=%s", spec->ab);
	return n;
}
