// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_json.c - a run's results in the JSON that Google Benchmark writes
 * for the userland benchmark (bench/bench.c), field for field, so that
 * scripts/kcb/ reads both alike:
 *
 *	name, run_name	"kmod:" + the userland name, e.g.
 *			kmod:linux/pertask/irq:0/iterations:1/manual_time/threads:2
 *	iterations	threads (each thread runs one iteration)
 *	real_time	mean window / threads, as Google Benchmark 1.7.1
 *			divides manual time by its iteration count
 *	cpu_time	summed thread CPU time / threads, warm-up included
 *	ns_per_op	mean over threads of window / ops (ns per workload
 *			round in workload mode: the label says so)
 *	ops_per_s, ops	summed over threads
 *	fair_spread, share_min, share_max, pinned, label  as bench.c's report(),
 *			the label's "cpus=" listing where each thread ran, with a
 *			'!' after one that was not on its CPU throughout
 *	kcb_ab		a paired run's (ab=B) only, its other fields A's kept
 *			windows': {a, b, window_ns, seed, batches [A, B],
 *			threads: [{cpu, rounds, pairs, dropped, preempted,
 *			migrated, a_ns_per_op, b_ns_per_op, log_ratio_ppm}]},
 *			medians over the thread's kept pairs; preempted and
 *			migrated count windows, dropped rounds
 *
 * No floating point in the kernel: every value is fixed point with six
 * decimals, from 64-bit integer arithmetic (mul_u64_u64_div_u64 keeps the
 * 128-bit intermediate).  A repetition in which some thread did no batch
 * in its window (kcb_run.c prevents it) would get Google Benchmark's
 * error_occurred/error_message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/math64.h>
#include <linux/utsname.h>
#include <linux/timekeeping.h>
#include <linux/time.h>
#include <linux/sched/loadavg.h>
#include <linux/cpumask.h>
#include "kcb_run.h"

#define MICRO	1000000ull

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static __printf(2, 3) void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n >= o->cap - o->len)
		o->full = true;
	else
		o->len += n;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			put(o, "\\u%04x", *s);
		else
			put(o, "%c", *s);
	}
	put(o, "\"");
}

/* v / MICRO with six decimals. */
static void put_fixed(struct out *o, const char *key, u64 v, bool last)
{
	u32 frac;
	u64 whole = div_u64_rem(v, MICRO, &frac);

	put(o, "      \"%s\": %llu.%06u%s\n", key, whole, frac, last ? "" : ",");
}

/*
 * num * mul / div; 0 for div == 0, U64_MAX where the quotient would not
 * fit (x86's divq would trap: never, with the spec's bounds, but a bad
 * number is better than an oops).
 */
static u64 muldiv(u64 num, u64 mul, u64 div)
{
	if (!div)
		return 0;
	if (mul && div64_u64(num, div) >= div64_u64(U64_MAX, mul))
		return U64_MAX;
	return mul_u64_u64_div_u64(num, mul, div);
}

static void put_context(struct out *o, const struct kcb_spec *spec)
{
	struct new_utsname *u = utsname();
	char buf[KCB_SPEC_MAX], kernel[sizeof(u->release) + 8];
	struct tm tm;

	time64_to_tm(ktime_get_real_seconds(), 0, &tm);
	put(o, "{\n  \"context\": {\n");
	put(o, "    \"date\": \"%04ld-%02d-%02dT%02d:%02d:%02d+00:00\",\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	put(o, "    \"host_name\": ");
	put_str(o, u->nodename);
	put(o, ",\n    \"executable\": \"kcovbench.ko\",\n");
	put(o, "    \"num_cpus\": %u,\n", num_online_cpus());
	put(o, "    \"load_avg\": [%lu.%02lu,%lu.%02lu,%lu.%02lu],\n",
	    LOAD_INT(avenrun[0]), LOAD_FRAC(avenrun[0]),
	    LOAD_INT(avenrun[1]), LOAD_FRAC(avenrun[1]),
	    LOAD_INT(avenrun[2]), LOAD_FRAC(avenrun[2]));
	put(o, "    \"kcb_compiler\": ");
	put_str(o, "gcc " __VERSION__);		/* as bench/kcovbench.c */
	put(o, ",\n");
	put(o, "    \"kcb_hwcounters\": \"no: the module reads no hardware counters\",\n");
	snprintf(kernel, sizeof(kernel), "Linux %s", u->release);
	put(o, "    \"kcb_kernel\": ");
	put_str(o, kernel);
	put(o, ",\n    \"kcb_kernel_version\": ");
	put_str(o, u->version);
	put(o, ",\n    \"kcb_preempt_rt\": \"%s\",\n",
	    IS_ENABLED(CONFIG_PREEMPT_RT) ? "yes" : "no");
	kcb_spec_print(spec, buf, sizeof(buf));
	put(o, "    \"kcb_spec\": ");
	put_str(o, buf);
	put(o, ",\n    \"kcb_libbenchmark\": \"none: kcovbench.ko writes its JSON shape\"\n");
	put(o, "  },\n  \"benchmarks\": [\n");
}

/* rep_err's text (kcb_run.c's rep_error()). */
static const char *rep_why(int err)
{
	return err == -ENODATA ?
	       "a thread kept no A/B pair: every round had a window switched out" :
	       "a thread ran no whole batch in its window";
}

/* One thread's summary, on one line. */
static void put_ab_thread(struct out *o, const struct kcb_thr_result *tr,
			  bool last)
{
	const struct kcb_ab_thr *s = &tr->ab;
	u32 af, bf;
	u64 a = div_u64_rem(s->a_fs, MICRO, &af);
	u64 b = div_u64_rem(s->b_fs, MICRO, &bf);

	put(o, "        {\"cpu\": %d, \"rounds\": %llu, \"pairs\": %llu, \"dropped\": %llu, ",
	    tr->cpu, s->rounds, s->pairs, s->dropped);
	put(o, "\"preempted\": %llu, \"migrated\": %llu, ", s->preempted,
	    s->migrated);
	put(o, "\"a_ns_per_op\": %llu.%06u, \"b_ns_per_op\": %llu.%06u, ",
	    a, af, b, bf);
	put(o, "\"log_ratio_ppm\": %lld}%s\n", s->lr_ppm, last ? "" : ",");
}

/* A paired run's summary: per thread, medians over its kept pairs. */
static void put_ab(struct out *o, const struct kcb_spec *spec,
		   const struct kcb_thr_result *tr)
{
	int i;

	put(o, "      \"kcb_ab\": {\n        \"a\": ");
	put_str(o, spec->config);
	put(o, ", \"b\": ");
	put_str(o, spec->ab);
	put(o, ", \"window_ns\": %llu, \"seed\": %llu, \"batches\": [%llu, %llu],\n",
	    (u64)KCB_AB_WINDOW_NS, tr[0].ab.seed, tr[0].ab.batches[0],
	    tr[0].ab.batches[1]);
	put(o, "        \"threads\": [\n");
	for (i = 0; i < spec->nthreads; i++)
		put_ab_thread(o, &tr[i], i + 1 == spec->nthreads);
	put(o, "        ]\n      },\n");
}

static void put_rep(struct out *o, const struct kcb_results *res, int rep)
{
	const struct kcb_spec *spec = res->spec;
	const struct kcb_thr_result *tr = &res->thr[rep * spec->nthreads];
	u64 n = spec->nthreads, sum_ops = 0, sum_ns = 0, sum_cpu = 0;
	u64 lo = U64_MAX, hi = 0, ns_per_op = 0, ops_per_s = 0;
	char label[256];
	int i, len, pinned = 0;

	for (i = 0; i < n; i++) {
		sum_ops += tr[i].ops;
		sum_ns += tr[i].ns;
		sum_cpu += tr[i].cpu_ns;
		lo = min(lo, tr[i].ops);
		hi = max(hi, tr[i].ops);
		pinned += tr[i].pinned;
		/* Means of ratios, term by term: no sum can overflow. */
		ns_per_op += muldiv(tr[i].ns, MICRO, tr[i].ops * n);
		ops_per_s += muldiv(tr[i].ops, NSEC_PER_SEC * MICRO, tr[i].ns);
	}
	len = scnprintf(label, sizeof(label), "cpus=");
	for (i = 0; i < n; i++)
		len += scnprintf(label + len, sizeof(label) - len, "%s%d%s",
				 i ? "," : "", tr[i].cpu, tr[i].pinned ? "" : "!");
	len += scnprintf(label + len, sizeof(label) - len, " hwcounters=no%s",
			 spec->remote_request ? " op=one-section(start+records+stop)" :
			 spec->remote ? " op=one-section(start+stop)" :
			 spec->mode == MODE_WORKLOAD ?
			 " op=one-workload-round(trace-pc)" : "");
	if (spec->ab[0])
		scnprintf(label + len, sizeof(label) - len, " ab=%s", spec->ab);

	put(o, "    {\n      \"name\": \"kmod:%s/%s/irq:%d/iterations:1/manual_time/threads:%d\",\n",
	    spec->config, kcb_spec_mode_name(spec), spec->irq, spec->nthreads);
	put(o, "      \"family_index\": 0,\n      \"per_family_instance_index\": 0,\n");
	put(o, "      \"run_name\": \"kmod:%s/%s/irq:%d/iterations:1/manual_time/threads:%d\",\n",
	    spec->config, kcb_spec_mode_name(spec), spec->irq, spec->nthreads);
	put(o, "      \"run_type\": \"iteration\",\n");
	put(o, "      \"repetitions\": %d,\n      \"repetition_index\": %d,\n",
	    spec->reps, rep);
	put(o, "      \"threads\": %d,\n      \"iterations\": %d,\n",
	    spec->nthreads, spec->nthreads);
	if (res->rep_err[rep]) {
		put(o, "      \"error_occurred\": true,\n");
		put(o, "      \"error_message\": \"%s\"\n    }", rep_why(res->rep_err[rep]));
		return;
	}
	put_fixed(o, "real_time", muldiv(sum_ns, MICRO, n * n), false);
	put_fixed(o, "cpu_time", muldiv(sum_cpu, MICRO, n), false);
	put(o, "      \"time_unit\": \"ns\",\n");
	put_fixed(o, "fair_spread", muldiv(hi - lo, n * MICRO, sum_ops), false);
	put_fixed(o, "ns_per_op", ns_per_op, false);
	put(o, "      \"ops\": %llu,\n", sum_ops);
	put_fixed(o, "ops_per_s", ops_per_s, false);
	put(o, "      \"pinned\": %d,\n", pinned);
	put_fixed(o, "share_max", muldiv(hi, n * MICRO, sum_ops), false);
	put_fixed(o, "share_min", muldiv(lo, n * MICRO, sum_ops), false);
	if (spec->ab[0])
		put_ab(o, spec, tr);
	put(o, "      \"label\": ");
	put_str(o, label);
	put(o, "\n    }");
}

int kcb_json(const struct kcb_results *res, char **text, size_t *len)
{
	const struct kcb_spec *spec = res->spec;
	/* a paired run's summary: ~270 bytes a thread */
	struct out o = { .cap = 4096 + spec->reps * (2048 +
			 (spec->ab[0] ? 320 * spec->nthreads : 0)) };
	int rep;

	o.p = kvmalloc(o.cap, GFP_KERNEL);
	if (!o.p)
		return -ENOMEM;
	put_context(&o, res->spec);
	for (rep = 0; rep < res->spec->reps; rep++) {
		put_rep(&o, res, rep);
		put(&o, "%s\n", rep + 1 < res->spec->reps ? "," : "");
	}
	put(&o, "  ]\n}\n");
	if (o.full) {
		kvfree(o.p);
		return -ENOSPC;
	}
	*text = o.p;
	*len = o.len;
	return 0;
}

/* One dmesg line per thread of a paired run. */
static void log_ab(const struct kcb_spec *spec, int rep, int thread,
		   const struct kcb_ab_thr *s)
{
	u32 af, bf;
	u64 a = div_u64_rem(s->a_fs / 1000, 1000, &af);
	u64 b = div_u64_rem(s->b_fs / 1000, 1000, &bf);

	pr_info("%s/%s ab=%s rep %d thread %d: %llu pairs, %llu dropped, A %llu.%03u B %llu.%03u ns/op, ln(B/A) %lld ppm\n",
		spec->config, kcb_spec_mode_name(spec), spec->ab, rep, thread,
		s->pairs, s->dropped, a, af, b, bf, s->lr_ppm);
}

void kcb_results_log(const struct kcb_results *res)
{
	const struct kcb_spec *spec = res->spec;
	int rep, i;

	for (rep = 0; rep < spec->reps; rep++) {
		const struct kcb_thr_result *tr = &res->thr[rep * spec->nthreads];
		u64 ns_per_op = 0, n = spec->nthreads, whole;
		u32 frac;

		if (res->rep_err[rep]) {
			pr_info("%s/%s threads:%d rep %d: %s\n", spec->config,
				kcb_spec_mode_name(spec), spec->nthreads, rep,
				rep_why(res->rep_err[rep]));
			continue;
		}
		for (i = 0; i < n; i++)
			ns_per_op += muldiv(tr[i].ns, 1000, tr[i].ops * n);
		whole = div_u64_rem(ns_per_op, 1000, &frac);
		pr_info("%s/%s threads:%d rep %d: %llu.%03u ns/%s\n", spec->config,
			kcb_spec_mode_name(spec), spec->nthreads, rep, whole,
			frac, spec->mode == MODE_WORKLOAD ? "round" : "op");
		for (i = 0; spec->ab[0] && i < n; i++)
			log_ab(spec, rep, i, &tr[i].ab);
	}
}
