/* SPDX-License-Identifier: MIT */
/*
 * topology.c - the machine's CPUs from sysfs, and placement classes.
 *
 * CPU numbering says nothing portable about placement (AMD numbers SMT
 * siblings n apart, Intel often adjacent), so, as lockhammer does, every
 * pin order is derived from the topology files: thread_siblings_list for
 * cores, the highest cache index's shared_cpu_list for the LLC, nodeN
 * links for NUMA.  Only CPUs in this process's affinity mask count.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "topology.h"

static int read_text(const char *root, const char *rel, int cpu, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d/%s", root, cpu, rel);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return 0;
}

/* The first CPU of a list such as "0-3,8-11" or "2,66". */
static int list_first(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end == s ? -1 : (int)v;
}

static int cpu_int(const char *root, const char *rel, int cpu, int dflt)
{
	char buf[64];

	return read_text(root, rel, cpu, buf, sizeof(buf)) ? dflt : atoi(buf);
}

/* The highest cache index's sharing list: the last-level cache. */
static int cpu_llc(const char *root, int cpu)
{
	char rel[64], buf[4096];
	int idx, llc = cpu;

	for (idx = 0; idx < 8; idx++) {
		snprintf(rel, sizeof(rel), "cache/index%d/shared_cpu_list", idx);
		if (read_text(root, rel, cpu, buf, sizeof(buf)) == 0)
			llc = list_first(buf);
	}
	return llc;
}

static int cpu_node(const char *root, int cpu)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	int node = 0;

	snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d", root, cpu);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			node = atoi(e->d_name + 4);
	closedir(d);
	return node;
}

static int count_distinct(const struct topology *t, size_t off)
{
	int seen[TOPO_MAX_CPUS], n = 0, i, j;

	for (i = 0; i < t->ncpus; i++) {
		int v = *(const int *)((const char *)&t->cpus[i] + off);

		for (j = 0; j < n && seen[j] != v; j++)
			;
		if (j == n)
			seen[n++] = v;
	}
	return n;
}

int topo_load(struct topology *t, const char *root)
{
	cpu_set_t allowed;
	char buf[4096];
	int cpu, i;

	memset(t, 0, sizeof(*t));
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE && t->ncpus < TOPO_MAX_CPUS; cpu++) {
		struct topo_cpu *c = &t->cpus[t->ncpus];

		/* A fake tree (tests) stands for the whole machine. */
		if (strcmp(root, "/sys") ? read_text(root, "topology/core_id", cpu, buf, sizeof(buf))
		    : !CPU_ISSET(cpu, &allowed))
			continue;
		c->cpu = cpu;
		c->core = read_text(root, "topology/thread_siblings_list", cpu, buf, sizeof(buf))
		    ? cpu : list_first(buf);
		c->llc = cpu_llc(root, cpu);
		c->node = cpu_node(root, cpu);
		c->package = cpu_int(root, "topology/physical_package_id", cpu, 0);
		t->ncpus++;
	}
	if (!t->ncpus)
		return -ENOENT;
	t->ncores = count_distinct(t, offsetof(struct topo_cpu, core));
	t->nllcs = count_distinct(t, offsetof(struct topo_cpu, llc));
	t->nnodes = count_distinct(t, offsetof(struct topo_cpu, node));
	t->npackages = count_distinct(t, offsetof(struct topo_cpu, package));
	for (i = 0; i < t->ncpus; i++) {
		int n = 0;

		t->cpus[i].leader = 1;
		for (cpu = 0; cpu < t->ncpus; cpu++) {
			n += t->cpus[cpu].core == t->cpus[i].core;
			if (cpu < i && t->cpus[cpu].core == t->cpus[i].core)
				t->cpus[i].leader = 0;
		}
		t->smt = n > t->smt ? n : t->smt;
	}
	return 0;
}

const struct topo_cpu *topo_find(const struct topology *t, int cpu)
{
	for (int i = 0; i < t->ncpus; i++)
		if (t->cpus[i].cpu == cpu)
			return &t->cpus[i];
	return NULL;
}

/* Is this CPU the first of its core (the one a one-per-core order takes)? */
static int core_leader(const struct topo_cpu *c)
{
	return c->leader;
}

/* One CPU per core of group g (by field off), in CPU order. */
static int leaders_of(const struct topology *t, size_t off, int g, int *out, int max)
{
	int n = 0;

	for (int i = 0; i < t->ncpus && n < max; i++)
		if (core_leader(&t->cpus[i]) &&
		    *(const int *)((const char *)&t->cpus[i] + off) == g)
			out[n++] = t->cpus[i].cpu;
	return n;
}

/* Round-robin over the groups of a field: one core of each in turn. */
static int round_robin(const struct topology *t, size_t off, int *out, int max)
{
	int groups[TOPO_MAX_CPUS], ng = 0, n = 0, i, j, r, took = 1;

	for (i = 0; i < t->ncpus; i++) {
		int g = *(const int *)((const char *)&t->cpus[i] + off);

		for (j = 0; j < ng && groups[j] != g; j++)
			;
		if (j == ng)
			groups[ng++] = g;
	}
	for (r = 0; took && n < max; r++) {
		took = 0;
		for (j = 0; j < ng && n < max; j++) {
			int lead[TOPO_MAX_CPUS], k = leaders_of(t, off, groups[j], lead, r + 1);

			if (k > r)
				out[n++] = lead[r], took = 1;
		}
	}
	return n;
}

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * One CPU number of a list: digits only, below CPU_SETSIZE.  Checked before
 * any cast to int, which would wrap 4294967296 to CPU 0.
 */
static int parse_cpu(const char *s, char **end, long *cpu)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*cpu = strtol(s, end, 10);
	return errno || *cpu >= CPU_SETSIZE ? -1 : 0;
}

static int parse_list(const struct topology *t, const char *s, int *out, int max,
    char *why, size_t whylen)
{
	int n = 0;

	while (*s) {
		char *end;
		long v;

		if (parse_cpu(s, &end, &v) || (*end && *end != ','))
			return refuse(why, whylen, "list: '%s' is not a list of CPU numbers "
			    "(0 .. %d)", s, CPU_SETSIZE - 1);
		if (!topo_find(t, (int)v))
			return refuse(why, whylen, "list: CPU %d is not one this process may use", (int)v);
		for (int i = 0; i < n; i++)
			if (out[i] == v)
				return refuse(why, whylen, "list: CPU %d appears twice", (int)v);
		if (n == max)
			return refuse(why, whylen, "list: more than %d CPUs", max);
		out[n++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return n ? n : refuse(why, whylen, "list: empty");
}

int topo_order(const struct topology *t, const char *cls, int *out, int max,
    char *why, size_t whylen)
{
	int i, n = 0, best = -1, bestn = 0;

	if (!strncmp(cls, "list:", 5))
		return parse_list(t, cls + 5, out, max, why, whylen);
	if (!strcmp(cls, "spread")) {
		for (i = 0; i < t->ncpus && n < max; i++)
			out[n++] = t->cpus[i].cpu;
		return n;
	}
	if (!strcmp(cls, "smt")) {
		if (t->smt < 2)
			return refuse(why, whylen, "smt: no core has SMT siblings here "
			    "(%d thread per core)", t->smt);
		/* each core's siblings together, core after core */
		for (i = 0; i < t->ncpus; i++) {
			if (!core_leader(&t->cpus[i]))
				continue;
			for (int j = 0; j < t->ncpus && n < max; j++)
				if (t->cpus[j].core == t->cpus[i].core)
					out[n++] = t->cpus[j].cpu;
		}
		return n;
	}
	if (!strcmp(cls, "core")) {
		/* the LLC with the most cores, one CPU per core */
		for (i = 0; i < t->ncpus; i++) {
			int tmp[TOPO_MAX_CPUS], k = leaders_of(t, offsetof(struct topo_cpu, llc),
			    t->cpus[i].llc, tmp, TOPO_MAX_CPUS);

			if (k > bestn)
				best = t->cpus[i].llc, bestn = k;
		}
		return leaders_of(t, offsetof(struct topo_cpu, llc), best, out, max);
	}
	if (!strcmp(cls, "llc")) {
		if (t->nllcs < 2)
			return refuse(why, whylen, "llc: %d last-level cache here, nothing "
			    "to spread across", t->nllcs);
		return round_robin(t, offsetof(struct topo_cpu, llc), out, max);
	}
	if (!strcmp(cls, "node")) {
		if (t->nnodes < 2)
			return refuse(why, whylen, "node: %d NUMA node here, nothing to "
			    "spread across", t->nnodes);
		return round_robin(t, offsetof(struct topo_cpu, node), out, max);
	}
	return refuse(why, whylen, "unknown placement class '%s' (smt, core, llc, "
	    "node, spread, list:0,4,8)", cls);
}

int topo_points(const struct topology *t, const int *order, int n, int *out, int max)
{
	int cores = 0, k = 0, p, i, j;

	for (i = 0; i < n; i++) {
		const struct topo_cpu *c = topo_find(t, order[i]);

		for (j = 0; j < i; j++)
			if (topo_find(t, order[j])->core == c->core)
				break;
		cores += j == i;
	}
	for (p = 1; p < cores && k < max; p *= 2)
		out[k++] = p;
	if (k < max)
		out[k++] = cores;
	if (n > cores && k < max)
		out[k++] = n;
	return k;
}

static void print_list(FILE *f, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", v[i]);
}

int topo_main(int argc, char **argv)
{
	static const char *const classes[] = { "smt", "core", "llc", "node", "spread" };
	static struct topology t;
	const char *root = "/sys", *only = NULL;
	int order[TOPO_MAX_CPUS], pts[64], n, i;
	char why[256];

	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--root=", 7))
			root = argv[i] + 7;
		else if (!strncmp(argv[i], "--placement=", 12))
			only = argv[i] + 12;
		else {
			fprintf(stderr, "kcovbench topology: bad option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (topo_load(&t, root)) {
		fprintf(stderr, "kcovbench topology: cannot read %s/devices/system/cpu\n", root);
		return 1;
	}
	if (only) {
		/* the pin order alone, for scripts (and the module's cpus=) */
		n = topo_order(&t, only, order, TOPO_MAX_CPUS, why, sizeof(why));
		if (n < 0) {
			fprintf(stderr, "kcovbench: placement %s\n", why);
			return 2;
		}
		print_list(stdout, order, n);
		putchar('\n');
		return 0;
	}
	printf("{\n  \"cpus\": [");
	for (i = 0; i < t.ncpus; i++)
		printf("%s\n    {\"cpu\": %d, \"core\": %d, \"llc\": %d, \"node\": %d, "
		    "\"package\": %d}", i ? "," : "", t.cpus[i].cpu, t.cpus[i].core,
		    t.cpus[i].llc, t.cpus[i].node, t.cpus[i].package);
	printf("\n  ],\n  \"cores\": %d, \"llcs\": %d, \"nodes\": %d, \"packages\": %d, "
	    "\"smt\": %d,\n  \"classes\": {", t.ncores, t.nllcs, t.nnodes, t.npackages, t.smt);
	for (i = 0; i < (int)(sizeof(classes) / sizeof(classes[0])); i++) {
		n = topo_order(&t, classes[i], order, TOPO_MAX_CPUS, why, sizeof(why));
		printf("%s\n    \"%s\": ", i ? "," : "", classes[i]);
		if (n < 0) {
			printf("{\"refused\": \"%s\"}", why);
			continue;
		}
		printf("{\"cpus\": \"");
		print_list(stdout, order, n);
		printf("\", \"points\": \"");
		print_list(stdout, pts, topo_points(&t, order, n, pts, 64));
		printf("\"}");
	}
	printf("\n  }\n}\n");
	return 0;
}
