/* SPDX-License-Identifier: MIT */
/*
 * options.c - kcovbench bench's own flags.  They are taken out of argv;
 * what is left goes to Google Benchmark.  Bad input: a message and 2.
 */
#include <stdlib.h>
#include <errno.h>
#include <math.h>
#include "bench.h"
#include "topology.h"

static struct topology topo;
const struct topology *bench_topo;	/* [I] after bench_parse() */
const char *bench_placement = "spread";	/* [I] */

static const char *const default_configs =
    "openbsd-1.48,openbsd-1.49,linux,linux-5.x,freebsd,netbsd";

static int bad(const char *what, const char *val)
{
	fprintf(stderr, "kcovbench: bad %s: '%s'\n", what, val);
	return 2;
}

/* Out of memory while parsing: a message and 1 (not bad input, not 2). */
static int nomem(const char *what)
{
	fprintf(stderr, "kcovbench: out of memory for %s\n", what);
	return 1;
}

/* The combos and names arrays of o for n configurations. */
static int alloc_configs(struct bench_opts *o, int n)
{
	o->combos = calloc(n ? n : 1, sizeof(*o->combos));
	o->names = calloc(n ? n : 1, sizeof(*o->names));
	return o->combos && o->names ? 0 : nomem("the configuration list");
}

/* Split a comma list in place; returns the count. */
static int split(char *s, char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static int parse_configs(char *list, struct bench_opts *o)
{
	char *names[512];
	int n, i;

	if (!strcmp(list, "all")) {
		if (alloc_configs(o, kcb_ncombos))
			return 1;
		for (i = 0; i < kcb_ncombos; i++) {
			const struct kcb_combo *c = kcb_combo(i);
			char *name;

			if (c->pair->broken || c->pair->planted ||
			    kcb_combo_proposal(c))
				continue;	/* `all` is upstream's */
			if (asprintf(&name, "%s/%s", c->fe->name, c->pair->name) < 0)
				return nomem("a configuration name");
			o->combos[o->ncombos] = c;
			o->names[o->ncombos++] = name;
		}
		return 0;
	}
	if (!strcmp(list, "proposals")) {	/* every proposal's configuration */
		if (alloc_configs(o, kcb_nconfigs))
			return 1;
		for (i = 0; i < kcb_nconfigs; i++)
			if (kcb_configs[i].proposal) {
				o->combos[o->ncombos] = kcb_configs[i].combo;
				o->names[o->ncombos++] = kcb_configs[i].name;
			}
		return 0;
	}
	n = split(list, names, 512);
	if (alloc_configs(o, n))
		return 1;
	for (i = 0; i < n; i++) {
		const struct kcb_combo *c = kcb_find(names[i]);

		if (!strcmp(names[i], "empty"))
			continue;	/* always run */
		if (!c)
			return bad("variant (see `kcovbench list`)", names[i]);
		o->combos[o->ncombos] = c;
		o->names[o->ncombos++] = names[i];
	}
	return 0;
}

static int parse_modes(char *list, struct bench_opts *o)
{
	char *names[MODE_MAX + 1];
	int n = split(list, names, MODE_MAX + 1), i, m;

	o->modes = 0;
	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], "switch")) {	/* every switch mode */
			o->modes |= kcb_modes_switch();
			continue;
		}
		m = kcb_mode_find(names[i]);
		if (m < 0) {
			/* the known ones, from the modes' table */
			fprintf(stderr, "kcovbench: bad mode: '%s' (known: switch", names[i]);
			for (m = 0; m < MODE_MAX; m++)
				fprintf(stderr, ", %s", kcb_mode_names[m]);
			fprintf(stderr, ")\n");
			return 2;
		}
		o->modes |= 1u << m;
	}
	return n ? 0 : bad("mode", "");
}

static int parse_irqs(char *list, struct bench_opts *o)
{
	char *v[4];
	int n = split(list, v, 4), i;

	o->irqs = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], "0") && strcmp(v[i], "1"))
			return bad("irq (0, 1)", v[i]);
		o->irqs |= 1u << (v[i][0] - '0');
	}
	return n ? 0 : bad("irq", "");
}

static int parse_threads(char *list, struct bench_opts *o)
{
	char *v[256], *end;
	int n = split(list, v, 256), i, max = 4 * kcb_ncpus();

	o->threads = calloc(n ? n : 1, sizeof(int));
	if (!o->threads)
		return nomem("the thread counts");
	for (i = 0; i < n; i++) {
		long t = strtol(v[i], &end, 10);

		if (*end || end == v[i] || t <= 0 || t > max)
			return bad("thread count (1 .. 4 x CPUs)", v[i]);
		o->threads[i] = (int)t;
	}
	o->nthreads = n;
	return n ? 0 : bad("threads", "");
}

static int parse_seconds(const char *what, const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v <= 0 || v > 3600)
		return bad(what, s);
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

/*
 * Pin threads in the order of a placement class; without --threads, run
 * its default points (1, 2, 4, ... cores, then CPUs).  A class this
 * machine cannot form, or more threads than it offers, is refused.
 */
static int place(struct bench_opts *o, int threads_given, int oversubscribe)
{
	static int order[TOPO_MAX_CPUS];
	int n, i, pts[64];
	char why[256];

	if (topo_load(&topo, "/sys")) {
		fprintf(stderr, "kcovbench: cannot read the CPU topology under /sys\n");
		return 2;
	}
	bench_topo = &topo;
	n = topo_order(&topo, bench_placement, order, TOPO_MAX_CPUS, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "kcovbench: placement %s\n", why);
		return 2;
	}
	kcb_set_pin_order(order, n);
	if (!threads_given) {
		o->nthreads = topo_points(&topo, order, n, pts, 64);
		for (i = 0; i < o->nthreads; i++)
			o->threads[i] = pts[i];
	}
	for (i = 0; i < o->nthreads && !oversubscribe; i++)
		if (o->threads[i] > n) {
			fprintf(stderr, "kcovbench: placement %s offers %d CPU%s here; "
			    "%d threads would share them\n", bench_placement, n,
			    n == 1 ? "" : "s", o->threads[i]);
			return 2;
		}
	return 0;
}

/* --buffer-words=N (4097 .. 2^24, count word included), or "batch": room
 * for one batch, emptied after each (the L1-resident set-up). */
static int parse_buffer(const char *s, struct bench_opts *o)
{
	char *end;
	unsigned long long v;

	if (!strcmp(s, "batch")) {
		o->buf_words = KCB_BUFFER_BATCH;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < (unsigned long long)KCB_BATCH * KCB_STRIDE_CMP + 1 ||
	    v > KCB_BUFFER_WORDS_MAX)
		return bad("buffer words (4097 .. 16777216, or batch)", s);
	o->buf_words = v;
	return 0;
}

/* The chunk claim's K (records per CAS), for measuring its knee. */
static int parse_chunk(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v < 1 || v > 4096)
		return bad("chunk records (1 .. 4096)", s);
	kcb_chunk_records = v;
	return 0;
}

int bench_parse(int *argc, char **argv, struct bench_opts *o)
{
	char configs[4096], *arg;
	int i, out = 1, err = 0, n = kcb_ncpus(), threads_given = 0, over = 0;

	snprintf(configs, sizeof(configs), "%s", default_configs);
	o->modes = kcb_modes_default();
	o->irqs = 1;
	o->window_ns = 200000000ull;
	o->warmup_ns = 50000000ull;
	o->buf_words = KCB_BUFFER_WORDS_DEFAULT;
	o->threads = calloc(n > 64 ? n : 64, sizeof(int));
	if (!o->threads)
		return nomem("the thread counts");
	for (i = 0; i < n; i++)
		o->threads[i] = i + 1;
	o->nthreads = n;
	for (i = 1; i < *argc && !err; i++) {
		arg = argv[i];
#define OPT(p) (!strncmp(arg, p, strlen(p)) ? arg + strlen(p) : NULL)
		if (OPT("--configs="))
			snprintf(configs, sizeof(configs), "%s", OPT("--configs="));
		else if (OPT("--modes="))
			err = parse_modes(OPT("--modes="), o);
		else if (OPT("--irq="))
			err = parse_irqs(OPT("--irq="), o);
		else if (OPT("--threads="))
			err = parse_threads(OPT("--threads="), o), threads_given = 1;
		else if (OPT("--placement="))
			bench_placement = OPT("--placement=");
		else if (!strcmp(arg, "--oversubscribe"))
			over = 1;
		else if (OPT("--window="))
			err = parse_seconds("window (seconds)", OPT("--window="), &o->window_ns);
		else if (OPT("--warmup="))
			err = parse_seconds("warmup (seconds)", OPT("--warmup="), &o->warmup_ns);
		else if (OPT("--chunk-records="))
			err = parse_chunk(OPT("--chunk-records="));
		else if (OPT("--buffer-words="))
			err = parse_buffer(OPT("--buffer-words="), o);
		else if (!strncmp(arg, "--benchmark_", 12))
			argv[out++] = arg;	/* Google Benchmark's */
		else
			return bad("option", arg);
#undef OPT
	}
	if (!err)
		err = place(o, threads_given, over);
	if (err)
		return err;
	*argc = out;
	argv[out] = NULL;
	return parse_configs(configs, o);
}
