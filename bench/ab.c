/* SPDX-License-Identifier: MIT */
/*
 * ab.c - `kcovbench ab`: two variants measured in one process, window by
 * window, so that the host's drift (which decides unpaired runs made
 * minutes apart) hits A and B alike.
 *
 * Every round runs, at each layout in a random order, one window of A and
 * one of B in a random order; with N threads every thread runs the same
 * window at once (a barrier per window).  A window is a fixed number of
 * batches (calibrated once per side to about --window-us); mode_batch() is the
 * benchmark's own batch, so the loop is the variant's, one indirect call
 * per 1024 hook calls.  A pair is kept only if neither of its windows was
 * switched out, migrated or short of CPU time.  The pairs go out as JSON;
 * the driver (scripts/kcb/cmd_ab.py) does the statistics.
 *
 * A layout is where the hooks sit in a 64-byte line: the same variant
 * source built once per offset (ab_sets.c), so that a verdict can be
 * checked at every placement the kernel's 16-byte alignment allows.
 */
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include "ab.h"
#include "bench.h"
#include "topology.h"
#include "../kobj/kobj.h"

#define AB_MAX_LAYOUTS	4
#define AB_MIN_CPU	0.90	/* a window below this CPU/wall had a gap */

struct ab;
struct ab_thread {
	struct ab *ab;
	pthread_t th;
	int idx, cpu, err;
	struct mode_thread *mt[AB_MAX_LAYOUTS][2];	/* a page each: A's and B's
						 * state at one page offset */
	double *ns[AB_MAX_LAYOUTS][2];	/* kept pairs' ns/op, A and B */
	uint32_t *round[AB_MAX_LAYOUTS];	/* ... and the round of each */
	size_t n[AB_MAX_LAYOUTS], cap[AB_MAX_LAYOUTS];
	uint64_t dropped[AB_MAX_LAYOUTS];
	uint64_t why[3];		/* switched out, migrated, CPU short */
} __attribute__((aligned(128)));

struct ab {
	const char *name[2];
	const struct kcb_combo *c[AB_MAX_LAYOUTS][2];	/* [I] NULL: empty */
	struct mode_run mr[AB_MAX_LAYOUTS][2];		/* [I] after set-up */
	int layouts[AB_MAX_LAYOUTS], nlayouts;		/* [I] */
	int mode[2], nthreads;				/* [I] */
	uint64_t buf_words, seed;			/* [I] */
	uint64_t window_ns, warmup_ns, time_ns;		/* [I] */
	uint64_t batches[2];		/* [a] per window of A, of B: thread 0's */
	int measuring, stop;		/* [a] set by thread 0 between rounds */
	int failed;			/* [a] a thread's set-up failed */
	unsigned int arrived, sense;	/* [a] the barrier */
	uint64_t rounds;		/* [a] thread 0's count */
	struct ab_thread *t;
};

static uint64_t clock_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* All threads meet; a sense-reversing spin barrier (no syscall between
 * windows, so no thread sleeps through the next one). */
static void ab_barrier(struct ab *ab)
{
	unsigned int sense = __atomic_load_n(&ab->sense, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&ab->arrived, 1, __ATOMIC_ACQ_REL) == (unsigned int)ab->nthreads) {
		__atomic_store_n(&ab->arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ab->sense, !sense, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&ab->sense, __ATOMIC_ACQUIRE) == sense)
		__builtin_ia32_pause();
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Round r's windows: (layout, side) in order, the same in every thread. */
static void round_order(const struct ab *ab, uint64_t r, int *lay, int *side)
{
	uint64_t x = ab->seed ^ (r * 0xd1342543de82ef95ull);
	int i, j, tmp, perm[AB_MAX_LAYOUTS];

	for (i = 0; i < ab->nlayouts; i++)
		perm[i] = i;
	for (i = ab->nlayouts - 1; i > 0; i--) {
		j = splitmix(&x) % (i + 1);
		tmp = perm[i], perm[i] = perm[j], perm[j] = tmp;
	}
	for (i = 0; i < ab->nlayouts; i++) {
		int first = splitmix(&x) & 1;

		lay[2 * i] = lay[2 * i + 1] = perm[i];
		side[2 * i] = first;
		side[2 * i + 1] = !first;
	}
}

struct win {
	double ns_per_op;
	int clean, why;
};

static long ctx_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

/* One window of (layout l, side s): batches of the benchmark's own loop. */
static void window(struct ab *ab, struct ab_thread *t, int l, int s, struct win *w)
{
	struct mode_run *mr = &ab->mr[l][s];
	struct mode_thread *mt = t->mt[l][s];
	uint64_t k = __atomic_load_n(&ab->batches[s], __ATOMIC_RELAXED), ops = 0, i;
	uint64_t c0, c1, t0, t1;
	long sw0, sw1;
	int cpu0, cpu1;

	mode_thread_enable(mr, mt);
	sw0 = ctx_switches();
	cpu0 = sched_getcpu();
	c0 = clock_of(CLOCK_THREAD_CPUTIME_ID);
	t0 = clock_of(CLOCK_MONOTONIC);
	for (i = 0; i < k; i++)
		ops += mode_batch(mr, mt, t->idx);
	t1 = clock_of(CLOCK_MONOTONIC);
	c1 = clock_of(CLOCK_THREAD_CPUTIME_ID);
	cpu1 = sched_getcpu();
	sw1 = ctx_switches();
	kcb_task_disable(kcb_current());
	w->ns_per_op = ops ? (double)(t1 - t0) / ops : 0;
	w->why = sw0 < 0 || sw1 != sw0 ? 0 : cpu0 != cpu1 ? 1 :
	    (double)(c1 - c0) < AB_MIN_CPU * (double)(t1 - t0) ? 2 : -1;
	w->clean = w->why < 0 && ops;
}

static int keep(struct ab_thread *t, int l, uint64_t r, double a, double b)
{
	if (t->n[l] == t->cap[l]) {
		size_t cap = t->cap[l] ? 2 * t->cap[l] : 4096;
		uint32_t *pr = realloc(t->round[l], cap * sizeof(*pr));

		if (!pr)
			return -1;
		t->round[l] = pr;

		for (int s = 0; s < 2; s++) {
			double *p = realloc(t->ns[l][s], cap * sizeof(double));

			if (!p)
				return -1;
			t->ns[l][s] = p;
		}
		t->cap[l] = cap;
	}
	t->ns[l][0][t->n[l]] = a;
	t->ns[l][1][t->n[l]] = b;
	t->round[l][t->n[l]] = (uint32_t)r;
	t->n[l]++;
	return 0;
}

/* Batches per window of side s: the median of single-batch times at the
 * first layout (after a warm-up), scaled to the window; thread 0's counts.
 * Each side its own, so that a side 60 times slower (a switch hook that
 * looks up 64 cases) still fits its window. */
static void calibrate(struct ab *ab, struct ab_thread *t, int s)
{
	struct mode_run *mr = &ab->mr[0][s];
	struct mode_thread *mt = t->mt[0][s];
	uint64_t d[33], t0, k;
	int i, j;

	mode_thread_enable(mr, mt);
	t0 = clock_of(CLOCK_MONOTONIC);
	while (clock_of(CLOCK_MONOTONIC) - t0 < ab->warmup_ns / 4)
		mode_batch(mr, mt, t->idx);
	for (i = 0; i < 33; i++) {
		uint64_t b = clock_of(CLOCK_MONOTONIC);

		mode_batch(mr, mt, t->idx);
		d[i] = clock_of(CLOCK_MONOTONIC) - b;
		for (j = i; j > 0 && d[j - 1] > d[j]; j--) {
			uint64_t x = d[j];

			d[j] = d[j - 1], d[j - 1] = x;
		}
	}
	kcb_task_disable(kcb_current());
	if (t->idx == 0) {
		k = d[16] ? (ab->window_ns + d[16] / 2) / d[16] : 1;
		__atomic_store_n(&ab->batches[s], k ? k : 1, __ATOMIC_RELAXED);
	}
}

/*
 * Sides within 4x of each other share one batch count (the slower side's):
 * a window's fixed costs (clock reads, the first batch after a switch)
 * are then spread over the same work, or an A/A comparison is not
 * symmetric (+0.13% with counts of 118 and 121).  Beyond 4x each keeps
 * its own, or the slower one's windows would be preempted.
 */
static void common_window(struct ab *ab)
{
	uint64_t lo = ab->batches[0], hi = ab->batches[1];

	if (lo > hi)
		lo = hi, hi = ab->batches[0];
	if (hi <= 4 * lo)
		ab->batches[0] = ab->batches[1] = lo;
}

static int thread_setup(struct ab *ab, struct ab_thread *t)
{
	int l, s;

	t->cpu = kcb_thread_attach(t->idx, true);
	if (t->cpu < 0 || t->cpu != kcb_pin_target(t->idx))
		return -1;
	for (l = 0; l < ab->nlayouts; l++) {
		/* One mode: one buffer for both sides (never run at once), so
		 * that where it sits favours neither; set up by a side with a
		 * hook (the empty one makes no guard bitmap or hash table). */
		int one = ab->mode[0] == ab->mode[1], first = one && !ab->c[l][0];

		for (s = 0; s < 2; s++) {
			int side = s ^ first;

			if (s == 1 && one) {
				t->mt[l][side] = t->mt[l][!side];
				continue;
			}
			t->mt[l][side] = kcb_zalloc(sizeof(*t->mt[l][side]));
			if (!t->mt[l][side] ||
			    mode_thread_init(&ab->mr[l][side], t->mt[l][side]))
				return -1;
		}
	}
	kcb_task_disable(kcb_current());
	return 0;
}

static void *ab_thread(void *arg)
{
	struct ab_thread *t = arg;
	struct ab *ab = t->ab;
	int lay[2 * AB_MAX_LAYOUTS], side[2 * AB_MAX_LAYOUTS];
	struct win w[AB_MAX_LAYOUTS][2];
	uint64_t r, start = 0, warm_end = 0;
	int i, l, measuring = 0;

	if (thread_setup(ab, t)) {
		t->err = 1;
		__atomic_store_n(&ab->failed, 1, __ATOMIC_RELAXED);
	}
	ab_barrier(ab);
	if (__atomic_load_n(&ab->failed, __ATOMIC_RELAXED))
		return NULL;	/* every thread sees it: none waits alone */
	calibrate(ab, t, 0);
	calibrate(ab, t, 1);
	ab_barrier(ab);
	if (t->idx == 0)
		common_window(ab);
	ab_barrier(ab);
	if (t->idx == 0)
		warm_end = clock_of(CLOCK_MONOTONIC) + ab->warmup_ns;
	for (r = 0;; r++) {
		round_order(ab, r, lay, side);
		for (i = 0; i < 2 * ab->nlayouts; i++) {
			ab_barrier(ab);
			window(ab, t, lay[i], side[i], &w[lay[i]][side[i]]);
		}
		for (l = 0; measuring && l < ab->nlayouts; l++) {
			if (w[l][0].clean && w[l][1].clean) {
				if (keep(t, l, r, w[l][0].ns_per_op, w[l][1].ns_per_op))
					t->err = 1;
				continue;
			}
			t->dropped[l]++;
			for (i = 0; i < 2; i++)
				if (!w[l][i].clean && w[l][i].why >= 0)
					t->why[w[l][i].why]++;
		}
		/* Thread 0 decides, between rounds, for everyone. */
		if (t->idx == 0) {
			uint64_t now = clock_of(CLOCK_MONOTONIC);

			if (measuring)
				ab->rounds++;
			if (!measuring && now >= warm_end) {
				start = now;
				__atomic_store_n(&ab->measuring, 1, __ATOMIC_RELAXED);
			} else if (measuring && now - start >= ab->time_ns * ab->nlayouts) {
				__atomic_store_n(&ab->stop, 1, __ATOMIC_RELAXED);
			}
		}
		ab_barrier(ab);
		if (__atomic_load_n(&ab->stop, __ATOMIC_RELAXED))
			break;
		measuring = __atomic_load_n(&ab->measuring, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The variant "[base:]name" built at layout; NULL for "empty" (*ok 1)
 * or for a name that set lacks (*ok 0). */
static const struct kcb_combo *resolve(const char *spec, int layout, int *ok)
{
	const char *build = "work", *name = spec;
	int i;

	if (!strncmp(spec, "base:", 5))
		build = "base", name = spec + 5;
	*ok = !strcmp(name, "empty");
	if (*ok)
		return NULL;
	for (i = 0; i < kcb_nab_sets; i++) {
		const struct kcb_ab_set *s = &kcb_ab_sets[i];
		const struct kcb_combo *c;

		if (strcmp(s->build, build) || s->layout != layout)
			continue;
		c = s->find(name);
		*ok = c != NULL;
		return c;
	}
	return NULL;
}

static int usage(const char *what, const char *val)
{
	fprintf(stderr, "kcovbench ab: bad %s: '%s'\n"
	    "usage: kcovbench ab --a=[base:]NAME --b=[base:]NAME [--mode=pertask] [--mode-b=M]\n"
	    "         [--threads=N] [--window-us=200] [--time=S] [--warmup=S]\n"
	    "         [--layouts=0,16,32,48] [--seed=N] [--buffer-words=N|batch]\n"
	    "         [--placement=CLASS|list:0,4]\n", what, val);
	return 2;
}

/* A positive number in [lo, hi], whole if asked; else -1. */
static double number(const char *s, double lo, double hi, int whole)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi) || (whole && v != (uint64_t)v))
		return -1;
	return v;
}

static int parse_layouts(struct ab *ab, char *list)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		double v = number(tok, 0, 48, 1);

		if (v < 0 || (int)v % 16 || ab->nlayouts == AB_MAX_LAYOUTS)
			return -1;
		for (int i = 0; i < ab->nlayouts; i++)
			if (ab->layouts[i] == (int)v)
				return -1;
		ab->layouts[ab->nlayouts++] = (int)v;
	}
	return ab->nlayouts ? 0 : -1;
}

static int pin_placement(const char *cls, int nthreads)
{
	static struct topology topo;
	int order[TOPO_MAX_CPUS], n;
	char why[256];

	if (topo_load(&topo, "/sys")) {
		fprintf(stderr, "kcovbench ab: cannot read the CPU topology\n");
		return 2;
	}
	n = topo_order(&topo, cls, order, TOPO_MAX_CPUS, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "kcovbench ab: placement %s\n", why);
		return 2;
	}
	if (n < nthreads) {
		fprintf(stderr, "kcovbench ab: placement %s offers %d CPUs for %d threads\n",
		    cls, n, nthreads);
		return 2;
	}
	kcb_set_pin_order(order, n);
	return 0;
}

static int parse(int argc, char **argv, struct ab *ab)
{
	const char *placement = "spread";
	double v;
	int i;

	ab->mode[0] = ab->mode[1] = -1;
	ab->nthreads = 1;
	ab->window_ns = 200000;
	ab->time_ns = 10000000000ull;
	ab->warmup_ns = 500000000ull;
	ab->buf_words = KCB_BUFFER_WORDS_DEFAULT;
	ab->seed = (uint64_t)clock_of(CLOCK_REALTIME);
	for (i = 1; i < argc; i++) {
		char *arg = argv[i], *val = strchr(arg, '=');

		if (!val)
			return usage("argument", arg);
		*val++ = 0;
		if (!strcmp(arg, "--a") || !strcmp(arg, "--b"))
			ab->name[arg[2] == 'b'] = val;
		else if (!strcmp(arg, "--mode") || !strcmp(arg, "--mode-b")) {
			int m = kcb_mode_find(val);

			if (m < 0)
				return usage("mode", val);
			ab->mode[1] = m;
			if (!strcmp(arg, "--mode"))
				ab->mode[0] = m;
		} else if (!strcmp(arg, "--threads")) {
			if ((v = number(val, 1, kcb_ncpus(), 1)) < 0)
				return usage("threads (1 to the CPUs here)", val);
			ab->nthreads = (int)v;
		} else if (!strcmp(arg, "--window-us")) {
			if ((v = number(val, 10, 1e6, 0)) < 0)
				return usage("window (10 us to 1 s)", val);
			ab->window_ns = (uint64_t)(v * 1e3);
		} else if (!strcmp(arg, "--time")) {
			if ((v = number(val, 0.01, 86400, 0)) < 0)
				return usage("time (0.01 s to a day)", val);
			ab->time_ns = (uint64_t)(v * 1e9);
		} else if (!strcmp(arg, "--warmup")) {
			if ((v = number(val, 0.001, 600, 0)) < 0)
				return usage("warm-up (1 ms to 600 s)", val);
			ab->warmup_ns = (uint64_t)(v * 1e9);
		} else if (!strcmp(arg, "--layouts")) {
			if (parse_layouts(ab, val))
				return usage("layouts (up to four of 0,16,32,48)", val);
		} else if (!strcmp(arg, "--seed")) {
			if ((v = number(val, 0, 1e15, 1)) < 0)
				return usage("seed", val);
			ab->seed = (uint64_t)v;
		} else if (!strcmp(arg, "--buffer-words")) {
			v = !strcmp(val, "batch") ? KCB_BUFFER_BATCH :
			    number(val, 1, KCB_BUFFER_WORDS_MAX, 1);
			if (v < 0)
				return usage("buffer words", val);
			ab->buf_words = (uint64_t)v;
		} else if (!strcmp(arg, "--placement")) {
			placement = val;
		} else
			return usage("argument", arg);
	}
	if (!ab->name[0] || !ab->name[1])
		return usage("variants (both --a and --b)", "");
	if (ab->mode[0] < 0)
		ab->mode[0] = MODE_PERTASK;
	if (ab->mode[1] < 0)
		ab->mode[1] = ab->mode[0];	/* --mode-b alone: A runs pertask */
	if (!ab->nlayouts)
		ab->nlayouts = 1;	/* layouts[0] = 0: the ordinary build */
	return pin_placement(placement, ab->nthreads);
}

/* Each side's combo and mode run at every layout; 0, or 2 with a message. */
static int setup(struct ab *ab)
{
	int l, s, ok;

	for (l = 0; l < ab->nlayouts; l++)
		for (s = 0; s < 2; s++) {
			int err;

			ab->c[l][s] = resolve(ab->name[s], ab->layouts[l], &ok);
			if (!ok) {
				fprintf(stderr, "kcovbench ab: no variant %s at layout +%d "
				    "(see `kcovbench list`; base: needs --base)\n",
				    ab->name[s], ab->layouts[l]);
				return 2;
			}
			if (ab->c[l][s] && ab->c[l][s]->fe->real_kernel) {
				/* a real kernel/kcov.o: its copy whose measured hook
				 * sits at this layout's offset (kobj-bundle) */
				const struct kcb_combo *c = ab->c[l][s];
				int m = ab->mode[s];
				void (*hook)(void) = m == MODE_CMP ? (void (*)(void))c->trace_cmp8 :
				    mode_switch_cases(m) ? (void (*)(void))c->trace_switch : c->trace_pc;

				ab->c[l][s] = kcb_kobj_placed(c, hook, ab->layouts[l]);
				if (!ab->c[l][s]) {
					fprintf(stderr, "kcovbench ab: %s has no copy with its hook "
					    "at +%d (its functions are not 16-byte aligned?)\n",
					    ab->name[s], ab->layouts[l]);
					return 2;
				}
			}
			err = mode_run_init(&ab->mr[l][s], ab->c[l][s], ab->mode[s], ab->buf_words);
			if (err) {
				fprintf(stderr, "kcovbench ab: %s cannot run mode %s at layout "
				    "+%d (%s)\n", ab->name[s], kcb_mode_names[ab->mode[s]],
				    ab->layouts[l], strerror(-err));
				return 2;
			}
		}
	return 0;
}

/* Where each side's hooks and loops sit in their 64-byte lines. */
static void print_placement(const struct ab *ab, int l, int s)
{
	const struct kcb_combo *c = ab->c[l][s];
	void (*pc)(void) = c ? c->trace_pc : kcb_empty_trace_pc;
	void (*lp)(uint64_t) = c ? c->loop_pc : kcb_empty_loop_pc;

	printf("{\"trace_pc\": %u, \"loop_pc\": %u, \"trace_cmp8\": %d, \"trace_switch\": %d}",
	    (unsigned int)((uintptr_t)pc & 63), (unsigned int)((uintptr_t)lp & 63),
	    c ? (int)((uintptr_t)c->trace_cmp8 & 63) : -1,
	    c ? (int)((uintptr_t)c->trace_switch & 63) : -1);
}

static void json_put(const char *key, const char *val)
{
	static int n;

	printf("%s\"%s\": \"", n++ ? ", " : "", key);
	for (; *val; val++)
		printf(*val == '"' || *val == '\\' ? "\\%c" : (unsigned char)*val < 32 ? "?" : "%c", *val);
	printf("\"");
}

static void print_json(struct ab *ab)
{
	int l, s, i;
	size_t k;

	printf("{\"a\": \"%s\", \"b\": \"%s\", \"mode_a\": \"%s\", \"mode_b\": \"%s\", \"threads\": %d,\n"
	    " \"window_ns_target\": %llu, \"batches_per_window\": [%llu, %llu], \"seed\": %llu,\n"
	    " \"time_ns_per_layout\": %llu, \"rounds\": %llu,\n \"cpus\": [",
	    ab->name[0], ab->name[1], kcb_mode_names[ab->mode[0]], kcb_mode_names[ab->mode[1]],
	    ab->nthreads,
	    (unsigned long long)ab->window_ns, (unsigned long long)ab->batches[0],
	    (unsigned long long)ab->batches[1],
	    (unsigned long long)ab->seed, (unsigned long long)ab->time_ns,
	    (unsigned long long)ab->rounds);
	for (i = 0; i < ab->nthreads; i++)
		printf("%s%d", i ? ", " : "", ab->t[i].cpu);
	for (i = 1; i < ab->nthreads; i++)
		for (s = 0; s < 3; s++)
			ab->t[0].why[s] += ab->t[i].why[s];
	printf("],\n \"context\": {");
	kcb_context(json_put);
	printf("},\n \"dropped_why\": {\"switched_out\": %llu, \"migrated\": %llu, \"cpu_short\": %llu},\n"
	    " \"layouts\": [\n",
	    (unsigned long long)ab->t[0].why[0], (unsigned long long)ab->t[0].why[1],
	    (unsigned long long)ab->t[0].why[2]);
	for (l = 0; l < ab->nlayouts; l++) {
		printf("  {\"layout\": %d, \"placement\": {\"a\": ", ab->layouts[l]);
		print_placement(ab, l, 0);
		printf(", \"b\": ");
		print_placement(ab, l, 1);
		printf("},\n   \"threads\": [");
		for (i = 0; i < ab->nthreads; i++) {
			const struct ab_thread *t = &ab->t[i];

			printf("%s\n    {\"dropped\": %llu, \"pairs\": %zu", i ? "," : "",
			    (unsigned long long)t->dropped[l], t->n[l]);
			for (s = 0; s < 2; s++) {
				printf(", \"%c\": [", "ab"[s]);
				for (k = 0; k < t->n[l]; k++)
					printf("%s%.5g", k ? "," : "", t->ns[l][s][k]);
				printf("]");
			}
			printf(", \"round\": [");
			for (k = 0; k < t->n[l]; k++)
				printf("%s%u", k ? "," : "", t->round[l][k]);
			printf("]}");
		}
		printf("]}%s\n", l + 1 < ab->nlayouts ? "," : "");
	}
	printf(" ]}\n");
}

int ab_main(int argc, char **argv)
{
	struct ab ab = { 0 };
	int i, err;

	err = parse(argc, argv, &ab);
	if (!err)
		err = setup(&ab);
	if (err)
		return err;
	ab.t = aligned_alloc(128, ab.nthreads * sizeof(*ab.t));
	if (!ab.t) {
		fprintf(stderr, "kcovbench ab: out of memory\n");
		return 1;
	}
	memset(ab.t, 0, ab.nthreads * sizeof(*ab.t));
	for (i = 0; i < ab.nthreads; i++) {
		ab.t[i].ab = &ab;
		ab.t[i].idx = i;
		if (pthread_create(&ab.t[i].th, NULL, ab_thread, &ab.t[i])) {
			fprintf(stderr, "kcovbench ab: cannot start thread %d\n", i);
			return 1;	/* the others wait at the barrier: exit ends them */
		}
	}
	for (i = 0; i < ab.nthreads; i++)
		pthread_join(ab.t[i].th, NULL);
	for (i = 0; i < ab.nthreads; i++)
		if (ab.t[i].err) {
			fprintf(stderr, "kcovbench ab: thread %d failed: set-up (pinning to "
			    "CPU %d, buffers) or memory for its pairs\n", i, kcb_pin_target(i));
			return 1;
		}
	print_json(&ab);
	return fflush(stdout) ? 1 : 0;
}
