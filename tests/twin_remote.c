/* SPDX-License-Identifier: MIT */
/*
 * twin_remote.c - the checks behind twin_remote.h.  Records carry their
 * identity: trace_cmp8(tag, seq) with tag = thread | context bit.
 */
#include "twin_remote.h"

#define NREC		8		/* records per section */
#define HANDLE		0x6b63620000000001ull
#define TAG_SOFT	(1ull << 20)	/* made in a softirq section */
#define TAG_OWN		(1ull << 21)	/* a task's own records */
#define CMP8_TYPE	KCB_CMP_SIZE(3)
#define MAX_THREADS	64
/* The most the closer waits for a task section to open on a loaded machine. */
#define TEARDOWN_WAIT_MS	60000

enum { ROLE_TASK, ROLE_SOFT, ROLE_DISABLE, ROLE_IDLE };
enum { PH_EXACT, PH_OVERFLOW, PH_TEARDOWN };

struct tr_thread {
	int role;
	uint64_t task_opened, soft_opened, own_made;
	uint64_t cap;				/* softirq sections wanted */
	struct tr *tr;
	int idx;
};

struct tr {
	const struct kcb_remote_ops *r;
	const struct kcb_combo *c;
	struct kcb_dev *owner;
	uint64_t nsections;
	int phase, nthreads;
	int stop;				/* [a] teardown: stop looping */
	uint64_t progress;			/* [a] sections done */
	uint64_t task_tries, task_opened;	/* [a] task sections run, opened */
	uint64_t errors;			/* [a] */
	struct tr_thread th[MAX_THREADS];
};

static void fail(struct tr *tr)
{
	kcb_fetch_add(&tr->errors, 1);
}

/* Who does what: task sections, softirq sections on a tracing task. */
static int role_of(const struct kcb_remote_ops *r, int phase, int idx)
{
	int writers = r->max_writers;

	if (phase == PH_TEARDOWN) {
		if (idx == 0)
			return ROLE_DISABLE;
		idx--;
	}
	if (r->softirq)
		return idx % 2 ? ROLE_SOFT : (writers && idx / 2 >= writers ? ROLE_IDLE : ROLE_TASK);
	return writers && idx >= writers ? ROLE_IDLE : ROLE_TASK;
}

static void soft_fn(void *arg)
{
	struct tr_thread *th = arg;
	struct tr *tr = th->tr;

	if (READ_ONCE(tr->stop) || (tr->phase != PH_TEARDOWN && th->soft_opened >= th->cap))
		return;
	th->soft_opened += tr->r->loop(HANDLE, 1, NREC, th->idx | TAG_SOFT,
	    th->soft_opened * NREC);
	kcb_fetch_add(&tr->progress, 1);
}

/* A task's kcov fields, which a softirq section must leave as they were. */
struct tstate {
	struct kcb_dev *kd, *kcov;
	uint64_t *area;
	unsigned int mode, size;
	int seq, softirq;
};

static void snap(const struct kcb_task *t, struct tstate *s)
{
	s->kd = t->kd;
	s->kcov = t->kcov;
	s->area = t->kcov_area;
	s->mode = t->kcov_mode;
	s->size = t->kcov_size;
	s->seq = t->kcov_sequence;
	s->softirq = t->kcov_softirq;
}

static int same(const struct tstate *a, const struct tstate *b)
{
	return a->kd == b->kd && a->kcov == b->kcov && a->area == b->area &&
	    a->mode == b->mode && a->size == b->size && a->seq == b->seq &&
	    a->softirq == b->softirq;
}

static void run_soft(struct tr *tr, struct tr_thread *th)
{
	struct kcb_task *t = kcb_current();
	uint64_t budget = tr->nsections * 4, i;
	struct tstate before, after;
	struct kcb_dev own;
	int bad = 0;

	th->cap = tr->nsections;
	if (kcb_dev_init(&own, (budget + 1) * KCB_STRIDE_CMP + 1)) {
		fail(tr);
		return;
	}
	kcb_task_enable(t, &own, KCB_MODE_TRACE_CMP);
	snap(t, &before);
	if (twin_softirq_arm(soft_fn, th)) {
		kcb_log("%s: cannot arm the softirq source\n", tr->r->name);
		fail(tr);
		goto out;
	}
	for (i = 0;; i++) {
		if (tr->phase == PH_TEARDOWN ? READ_ONCE(tr->stop) :
		    i >= budget && th->soft_opened >= th->cap)
			break;
		if (tr->phase != PH_TEARDOWN && i >= 100 * budget) {
			kcb_log("%s: thread %d: %llu of %llu softirq sections opened\n",
			    tr->r->name, th->idx, (unsigned long long)th->soft_opened,
			    (unsigned long long)th->cap);
			fail(tr);
			break;
		}
		if (i < budget) {
			tr->c->trace_cmp8(th->idx | TAG_OWN, i);
			th->own_made++;
		}
		twin_softirq_kick();
		snap(t, &after);
		if (!same(&before, &after) && !bad++)
			kcb_log("%s: thread %d: its kcov state changed under a softirq section\n",
			    tr->r->name, th->idx);
	}
	twin_softirq_disarm();
	if (bad)
		fail(tr);
	/* Its own buffer holds its own records, in order, and no others. */
	if (own.buf[0] != th->own_made) {
		kcb_log("%s: thread %d: own buffer has %llu records, made %llu\n",
		    tr->r->name, th->idx, (unsigned long long)own.buf[0],
		    (unsigned long long)th->own_made);
		fail(tr);
	}
	for (i = 0; i < own.buf[0] && i < th->own_made; i++) {
		uint64_t *rec = &own.buf[1 + i * 4];

		if (rec[0] != CMP8_TYPE || rec[1] != (th->idx | TAG_OWN) || rec[2] != i) {
			kcb_log("%s: thread %d: own record %llu is not its own\n",
			    tr->r->name, th->idx, (unsigned long long)i);
			fail(tr);
			break;
		}
	}
out:
	kcb_task_disable(t);
	kcb_dev_fini(&own);
}

static void thread_fn(int idx, void *p)
{
	struct tr *tr = p;
	struct tr_thread *th = &tr->th[idx];
	uint64_t s, deadline;

	th->tr = tr;
	th->idx = idx;
	switch (th->role) {
	case ROLE_TASK:
		for (s = 0; tr->phase == PH_TEARDOWN ? !READ_ONCE(tr->stop) :
		    s < tr->nsections; s++) {
			uint64_t opened = tr->r->loop(HANDLE, 1, NREC, idx,
			    th->task_opened * NREC);

			th->task_opened += opened;
			kcb_fetch_add(&tr->task_opened, opened);
			kcb_fetch_add(&tr->task_tries, 1);
			kcb_fetch_add(&tr->progress, 1);
		}
		break;
	case ROLE_SOFT:
		run_soft(tr, th);
		break;
	case ROLE_DISABLE:
		/* Disable once the others are well under way and a task
		 * section has opened: on a loaded machine the softirq threads
		 * may run first.  A design whose task sections ran nsections
		 * times without opening one (a stub) is not waited for; the
		 * wait is bounded, and errors_of_sections() fails a twin that
		 * never reached the minimum. */
		deadline = kcb_clock_ms() + TEARDOWN_WAIT_MS;
		while (READ_ONCE(tr->progress) < tr->nsections ||
		    (!READ_ONCE(tr->task_opened) &&
		     READ_ONCE(tr->task_tries) < tr->nsections &&
		     kcb_clock_ms() < deadline))
			kcb_wait_a_while();
		tr->r->disable(tr->owner);
		WRITE_ONCE(tr->stop, 1);
		break;
	}
}

/* Count what the owner's buffer holds against what was made. */
static void check_owner(struct tr *tr, uint64_t cap)
{
	const struct kcb_remote_ops *r = tr->r;
	struct kcb_dev *o = tr->owner;
	uint64_t per = tr->nsections * NREC, made = 0, n = o->buf[0], i;
	uint64_t bad = 0, dup = 0, closed = 0;
	uint8_t *seen = kcb_zalloc(2 * MAX_THREADS * per);
	int t;

	if (!seen) {
		fail(tr);
		return;
	}
	for (t = 0; t < tr->nthreads; t++)
		made += (tr->th[t].task_opened + tr->th[t].soft_opened) * NREC;
	if (n > cap) {
		kcb_log("%s: owner count %llu past its capacity %llu\n", r->name,
		    (unsigned long long)n, (unsigned long long)cap);
		fail(tr);
		n = cap;
	}
	for (i = 0; i < n; i++) {
		uint64_t *rec = &o->buf[1 + i * 4], tag = rec[1], seq = rec[2];
		uint64_t who = tag & ~(TAG_SOFT | KCB_REMOTE_TAG_CLOSED);

		if (tag & KCB_REMOTE_TAG_CLOSED) {
			closed++;
			continue;
		}
		if (rec[0] != CMP8_TYPE || who >= (uint64_t)tr->nthreads || seq >= per) {
			bad++;
			continue;
		}
		if (seen[((tag & TAG_SOFT ? MAX_THREADS : 0) + who) * per + seq]++)
			dup++;
	}
	if (bad || dup || closed) {
		kcb_log("%s: owner: %llu torn or foreign, %llu duplicated, %llu from sections that did not open\n",
		    r->name, (unsigned long long)bad, (unsigned long long)dup,
		    (unsigned long long)closed);
		fail(tr);
	}
	if (!r->direct && n + o->lost != made) {
		kcb_log("%s: owner holds %llu + lost %llu, made %llu\n", r->name,
		    (unsigned long long)n, (unsigned long long)o->lost,
		    (unsigned long long)made);
		fail(tr);
	}
	if (r->direct && n + o->lost > made) {
		kcb_log("%s: owner holds %llu + lost %llu > made %llu\n", r->name,
		    (unsigned long long)n, (unsigned long long)o->lost,
		    (unsigned long long)made);
		fail(tr);
	}
	if (tr->phase == PH_EXACT && (n != made || o->lost)) {
		kcb_log("%s: exactly once: owner holds %llu (lost %llu), made %llu\n",
		    r->name, (unsigned long long)n, (unsigned long long)o->lost,
		    (unsigned long long)made);
		fail(tr);
	}
	kcb_free(seen);
}

/*
 * A twin whose sections never opened checked nothing.  Outside teardown
 * every task thread opens all its sections and every softirq thread its
 * cap; a design with softirq sections has a softirq thread wherever there
 * are two threads.  In teardown the closer stops them early: at least one
 * task section must have opened before it did.
 */
static void errors_of_sections(struct tr *tr, uint64_t tsec, uint64_t ssec)
{
	const char *name = tr->r->name;
	int t, ntask = 0, nsoft = 0;

	for (t = 0; t < tr->nthreads; t++) {
		struct tr_thread *th = &tr->th[t];

		ntask += th->role == ROLE_TASK;
		nsoft += th->role == ROLE_SOFT;
		if (tr->phase == PH_TEARDOWN)
			continue;
		if (th->role == ROLE_TASK && th->task_opened != tr->nsections) {
			kcb_log("%s: thread %d opened %llu of %llu task sections\n",
			    name, t, (unsigned long long)th->task_opened,
			    (unsigned long long)tr->nsections);
			fail(tr);
		}
		if (th->role == ROLE_SOFT && th->soft_opened != tr->nsections) {
			kcb_log("%s: thread %d opened %llu of %llu softirq sections\n",
			    name, t, (unsigned long long)th->soft_opened,
			    (unsigned long long)tr->nsections);
			fail(tr);
		}
	}
	if (!ntask || !tsec || (tr->r->softirq && tr->nthreads >= 2 &&
	    tr->phase != PH_TEARDOWN && (!nsoft || !ssec))) {
		kcb_log("%s: %llu task and %llu softirq sections opened (%d task, %d softirq threads): nothing was checked\n",
		    name, (unsigned long long)tsec, (unsigned long long)ssec,
		    ntask, nsoft);
		fail(tr);
	}
}

static int one_phase(const struct kcb_remote_ops *r, int nthreads, uint64_t nsections,
    int phase)
{
	static const char *const phases[] = { "exactly-once", "overflow", "teardown" };
	struct tr *tr = kcb_zalloc(sizeof(*tr));
	uint64_t made_max, cap, snapshot = 0, tsec = 0, ssec = 0;
	struct kcb_remote_stats st;
	struct kcb_dev owner;
	int t;
	uint64_t errors;

	if (!tr)
		return 1;
	tr->r = r;
	tr->c = kcb_find(r->config);
	tr->nsections = nsections;
	tr->phase = phase;
	tr->nthreads = nthreads;
	tr->owner = &owner;
	made_max = 2 * (uint64_t)nthreads * nsections * NREC;
	cap = phase == PH_OVERFLOW ? made_max / 6 + 1 : made_max;
	if (!tr->c || nthreads > MAX_THREADS || r->init() ||
	    kcb_dev_init(&owner, cap * KCB_STRIDE_CMP + 1)) {
		kcb_log("%s: %s: set-up failed\n", r->name, phases[phase]);
		r->fini(&st);
		kcb_free(tr);
		return 1;
	}
	owner.mode = KCB_MODE_TRACE_CMP;
	if (r->enable(&owner, HANDLE, NREC * KCB_STRIDE_CMP + 1)) {
		kcb_log("%s: %s: enable failed\n", r->name, phases[phase]);
		tr->errors++;
		goto out;
	}
	for (t = 0; t < nthreads; t++)
		tr->th[t].role = role_of(r, phase, t);
	if (kcb_parallel(nthreads, thread_fn, tr))
		tr->errors++;
	if (phase == PH_TEARDOWN) {
		/* Nothing reached the owner after disable returned. */
		snapshot = READ_ONCE(owner.buf[0]);
		if (READ_ONCE(owner.refcount)) {
			kcb_log("%s: teardown: %llu references left\n", r->name,
			    (unsigned long long)owner.refcount);
			tr->errors++;
		}
	} else {
		r->disable(&owner);
		check_owner(tr, cap);
	}
	for (t = 0; t < nthreads; t++) {
		tsec += tr->th[t].task_opened;
		ssec += tr->th[t].soft_opened;
	}
	errors_of_sections(tr, tsec, ssec);
	kcb_log("%s: %s: %d threads, %llu task + %llu softirq sections, owner %llu records, %llu lost\n",
	    r->name, phases[phase], nthreads, (unsigned long long)tsec,
	    (unsigned long long)ssec, (unsigned long long)owner.buf[0],
	    (unsigned long long)owner.lost);
out:
	r->fini(&st);
	if (phase == PH_TEARDOWN && owner.buf[0] != snapshot) {
		kcb_log("%s: teardown: owner written after disable\n", r->name);
		tr->errors++;
	}
	if (st.areas != st.areas_free || st.double_use) {
		kcb_log("%s: %s: areas: %llu allocated, %llu back in pools, %llu handed out twice\n",
		    r->name, phases[phase], (unsigned long long)st.areas,
		    (unsigned long long)st.areas_free, (unsigned long long)st.double_use);
		tr->errors++;
	}
	if (phase == PH_TEARDOWN && st.close_races) {
		kcb_log("%s: teardown: upstream race reproduced %llu times: %s\n", r->name,
		    (unsigned long long)st.close_races, st.close_race);
		st.warnings -= st.close_races;
	}
	if (st.warnings) {	/* upstream would have panicked or warned */
		kcb_log("%s: %s: %llu upstream WARN_ON/KASSERTs would fire\n", r->name,
		    phases[phase], (unsigned long long)st.warnings);
		tr->errors++;
	}
	kcb_dev_fini(&owner);
	errors = tr->errors;
	kcb_free(tr);
	return (int)errors;
}

int twin_remote(const struct kcb_remote_ops *r, int nthreads, uint64_t nsections)
{
	int errors = 0, phase;

	for (phase = PH_EXACT; phase <= PH_TEARDOWN; phase++) {
		int n = nthreads;

		/*
		 * Teardown adds the closer to the section runners.  Where
		 * kcb_parallel() has one thread per CPU at most (the module),
		 * the closer takes one runner's place instead.
		 */
		if (phase == PH_TEARDOWN)
			n = nthreads + 1 <= kcb_max_threads() ? nthreads + 1 : nthreads;
		errors += one_phase(r, n, nsections, phase);
	}
	return errors;
}
