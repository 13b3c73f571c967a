/* SPDX-License-Identifier: MIT */
/*
 * remote_bench.c - what a remote section costs (enter + leave, with
 * --remote-records hooks in between) in task and in softirq context, and
 * what a handle lookup costs against the number of registered handles.
 *
 * Every thread has its own owner and handle, so what the threads share is
 * only what the variant shares: its global locks, pools and lists.  A
 * softirq batch enters softirq context once (preempt count and interrupt
 * depth, as run_softirq() sets them) and runs SECTIONS sections in it.
 * One indirect call (the variant's loop) per batch.
 *
 * --modes=remote-request: remote sections at request rate, as io_uring
 * opens one per io-wq work item and per sqpoll iteration since 7.3: each
 * op one short section (start, N records, stop), N = 1, 16 and 256 (or
 * --remote-records), in task context and, for designs that have it, in
 * softirq context (one simulated softirq entry per 64 sections, as a
 * NAPI poll serves many packets per entry).  Designs: those on the
 * `linux` hooks (Linux's and pertask-pcpu-rcu), or --remote's.  Beside the designs, the
 * baseline "hooks-only" (remote_registry.c) runs the same loop with the
 * same records and start/stop cut to kcov_start/kcov_stop's stores: a
 * design's ns per section minus the baseline's is what its remote
 * start/stop cost, and that over the section is the share outside the
 * hooks (scripts/remote-request-table computes it).
 */
#include <stdlib.h>
#include "remote_bench.h"
#include "window.h"

#define SECTIONS	64		/* sections per batch */
#define FINDS		1024		/* finds per batch */
#define HANDLE_BASE	0x6b63625200000000ull
#define MAX_THREADS	KCB_MAX_CPUS

static const int handle_counts[] = { 1, 16, 1024 };
static const uint64_t request_records[] = { 1, 16, 256 };

/* Two lines: the adjacent-line prefetcher pairs lines on x86. */
#define OWNER_ALIGN	128
#define OWNER_SIZE	((sizeof(struct kcb_dev) + OWNER_ALIGN - 1) / OWNER_ALIGN * OWNER_ALIGN)

struct rb {
	struct kcb_window w;
	const struct kcb_remote_ops *r;
	const struct kcb_lookup_ops *l;
	int softirq;
	uint64_t records, nhandles, *handles;
	/* [MAX_THREADS] each thread's own, on cache lines of its own, as
	 * separately allocated kernel objects are: an array of them would put
	 * one thread's refcount on the line of the next one's buffer. */
	struct kcb_dev **owners;
};

static int rb_thread_init(void *arg, int idx)
{
	struct rb *b = arg;
	struct kcb_dev *o;

	if (!b->r)
		return 0;
	o = aligned_alloc(OWNER_ALIGN, OWNER_SIZE);
	if (!o)
		return -1;
	memset(o, 0, OWNER_SIZE);
	b->owners[idx] = o;
	if (kcb_dev_init(o, (SECTIONS * (b->records + 1) + 1) * KCB_STRIDE_CMP + 1))
		return -1;
	o->mode = KCB_MODE_TRACE_CMP;
	return b->r->enable(o, HANDLE_BASE + idx, b->records * KCB_STRIDE_CMP + 2);
}

static uint64_t rb_batch(void *arg, int idx)
{
	struct rb *b = arg;
	struct kcb_dev *o;

	if (b->l) {
		b->l->loop_find(b->handles, b->nhandles, FINDS);
		return FINDS;
	}
	o = b->owners[idx];
	if (b->softirq)
		kcb_sim_softirq_enter();
	b->r->loop(HANDLE_BASE + idx, SECTIONS, b->records, idx, 0);
	if (b->softirq)
		kcb_sim_softirq_exit();
	WRITE_ONCE(o->buf[0], 0);	/* only this thread's sections move here */
	return SECTIONS;
}

static void rb_thread_fini(void *arg, int idx)
{
	struct rb *b = arg;

	if (!b->r)
		return;
	b->r->disable(b->owners[idx]);
	kcb_dev_fini(b->owners[idx]);
	free(b->owners[idx]);
	b->owners[idx] = NULL;
}

/* Thread 0, before each repetition: this registration's handles only. */
static int rb_reset(void *arg, int nthreads)
{
	static struct kcb_dev dummy;
	struct rb *b = arg;
	uint64_t j;

	(void)nthreads;
	if (!b->l)
		return 0;
	b->l->reset();
	for (j = 0; j < b->nhandles; j++)
		if (b->l->add(b->handles[j], &dummy))
			abort();
	return 0;
}

static const struct kcb_window_ops rb_ops = {
	.reset = rb_reset,
	.thread_init = rb_thread_init,
	.batch = rb_batch,
	.thread_fini = rb_thread_fini,
};

static struct rb *new_rb(const struct bench_opts *o)
{
	struct rb *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->w.ops = &rb_ops;
	b->w.arg = b;
	b->w.window_ns = o->window_ns;
	b->w.warmup_ns = o->warmup_ns;
	b->w.hw = o->hw;
	return b;
}

static int selected(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (!strcmp(list, "all"))
		return 1;
	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

static int known(const char *list, int remotes)
{
	char *dup = strdup(list), *tok;
	int ok = 1;

	if (!strcmp(list, "all") || !strcmp(list, "none")) {
		free(dup);
		return 1;
	}
	for (tok = strtok(dup, ","); tok; tok = strtok(NULL, ","))
		if (remotes ? !kcb_remote_find(tok) : !kcb_lookup_find(tok)) {
			fprintf(stderr, "kcovbench: bad %s: '%s'\n",
			    remotes ? "remote variant" : "lookup", tok);
			ok = 0;
		}
	free(dup);
	return ok;
}

/*
 * Take remote-request out of a --modes= list (edited in place; the
 * modes are bench_parse's).  1 if nothing else was in it: the argument
 * goes, and bench_main registers no hook modes.
 */
static int take_request(char *arg, struct remote_bench_opts *ro)
{
	char *list = arg + 8, *dup = strdup(list), *tok, *p = list;

	if (!dup)
		return 0;	/* bench_parse then rejects the mode */
	for (tok = strtok(dup, ","); tok; tok = strtok(NULL, ",")) {
		if (!strcmp(tok, "remote-request")) {
			ro->request = 1;
			continue;
		}
		p += sprintf(p, "%s%s", p == list ? "" : ",", tok);
	}
	free(dup);
	ro->request_only = ro->request && p == list;
	return ro->request_only;
}

int remote_bench_parse(int *argc, char **argv, struct remote_bench_opts *ro)
{
	int i, out = 1;
	char *end;

	ro->remotes = "all";
	ro->lookups = "all";
	ro->records = 0;
	ro->records_given = ro->remotes_given = ro->request = ro->request_only = 0;
	for (i = 1; i < *argc; i++) {
		char *a = argv[i];

		if (!strncmp(a, "--modes=", 8)) {
			if (take_request(a, ro))
				continue;	/* only remote-request: no hook modes */
			argv[out++] = a;
		} else if (!strncmp(a, "--remote=", 9)) {
			ro->remotes = a + 9;
			ro->remotes_given = 1;
		} else if (!strncmp(a, "--lookups=", 10)) {
			ro->lookups = a + 10;
		} else if (!strncmp(a, "--remote-records=", 17)) {
			ro->records = strtoull(a + 17, &end, 10);
			if (*end || end == a + 17 || ro->records > 256) {
				fprintf(stderr, "kcovbench: bad remote records (0 .. 256): '%s'\n", a + 17);
				return 2;
			}
			ro->records_given = 1;
		} else {
			argv[out++] = a;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return known(ro->remotes, 1) && known(ro->lookups, 0) ? 0 : 2;
}

static int add_section_bench(const struct kcb_remote_ops *r, int ctx, uint64_t records,
    const char *name, const struct bench_opts *o)
{
	struct rb *b = new_rb(o);

	if (!b || !(b->owners = calloc(MAX_THREADS, sizeof(*b->owners))))
		return -1;
	b->r = r;
	b->softirq = ctx;
	b->records = records;
	kcb_gb_register(name, kcb_window_run, &b->w, o->threads, o->nthreads);
	return 0;
}

/* remote-request: every selected design, and the baseline, at each N. */
static int request_register(const struct remote_bench_opts *ro, const struct bench_opts *o)
{
	size_t nrec = ro->records_given ? 1 : sizeof(request_records) / sizeof(request_records[0]);
	char name[192];
	int i, ctx;

	for (i = -1; i < kcb_nremotes; i++) {
		const struct kcb_remote_ops *r = i < 0 ? &kcb_remote_hooks_only : kcb_remotes[i];

		/* Default: the designs on Linux's hooks (Linux's and ours). */
		if (i >= 0 && (ro->remotes_given ? !selected(ro->remotes, r->name) :
		    strcmp(r->config, "linux")))
			continue;
		if (r->init())
			return -1;
		for (size_t k = 0; k < nrec; k++) {
			uint64_t recs = ro->records_given ? ro->records : request_records[k];

			for (ctx = 0; ctx <= r->softirq; ctx++) {
				snprintf(name, sizeof(name), "remote-request/%s/recs:%llu/%s/irq:0",
				    r->name, (unsigned long long)recs, ctx ? "softirq" : "task");
				if (add_section_bench(r, ctx, recs, name, o))
					return -1;
			}
		}
	}
	return 0;
}

int remote_bench_register(const struct remote_bench_opts *ro, const struct bench_opts *o)
{
	char name[192];
	int i, ctx;
	unsigned int h;

	if (ro->request)
		return request_register(ro, o);
	for (i = 0; i < kcb_nremotes; i++) {
		const struct kcb_remote_ops *r = kcb_remotes[i];

		if (!selected(ro->remotes, r->name))
			continue;
		if (r->init())
			return -1;
		for (ctx = 0; ctx <= r->softirq; ctx++) {
			snprintf(name, sizeof(name), "remote/%s/%s/irq:0/recs:%llu", r->name,
			    ctx ? "softirq" : "task", (unsigned long long)ro->records);
			if (add_section_bench(r, ctx, ro->records, name, o))
				return -1;
		}
	}
	for (i = 0; i < kcb_nlookups; i++) {
		const struct kcb_lookup_ops *l = kcb_lookups[i];

		if (!selected(ro->lookups, l->name))
			continue;
		for (h = 0; h < sizeof(handle_counts) / sizeof(handle_counts[0]); h++) {
			struct rb *b = new_rb(o);
			uint64_t j;

			if (!b || !(b->handles = calloc(handle_counts[h], sizeof(uint64_t))))
				return -1;
			b->l = l;
			b->nhandles = handle_counts[h];
			for (j = 0; j < b->nhandles; j++)
				b->handles[j] = HANDLE_BASE + (j << 8) * 0x9e37;
			snprintf(name, sizeof(name), "lookup/%s/handles:%d/irq:0", l->name,
			    handle_counts[h]);
			kcb_gb_register(name, kcb_window_run, &b->w, o->threads, o->nthreads);
		}
	}
	return 0;
}
