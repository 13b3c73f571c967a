/* SPDX-License-Identifier: MIT */
/*
 * twin_lookup.c - the lookup flavours: every registered handle is found
 * with its owner, an unregistered one is not, and a find that races with
 * a del returns the owner or nothing, never another owner.
 */
#include "twin_remote.h"

#define KEY(t, i)	(((uint64_t)(t) << 32) | (i))

struct tl {
	const struct kcb_lookup_ops *l;
	struct kcb_dev *devs;		/* owner of thread t's handles: &devs[t] */
	uint64_t n;
	int nthreads, step;
	uint64_t errors;		/* [a] */
};

enum { ST_ADD, ST_FIND, ST_DEL_RACE, ST_AFTER };

static void step_fn(int idx, void *p)
{
	struct tl *a = p;
	const struct kcb_lookup_ops *l = a->l;
	uint64_t i, bad = 0;
	int t;

	switch (a->step) {
	case ST_ADD:
		for (i = 0; i < a->n; i++)
			bad += l->add(KEY(idx, i), &a->devs[idx]) != 0;
		bad += l->add(KEY(idx, 0), &a->devs[idx]) != -EEXIST;
		break;
	case ST_FIND:
		for (t = 0; t < a->nthreads; t++)
			for (i = 0; i < a->n; i++)
				bad += l->find(KEY(t, i)) != &a->devs[t];
		bad += l->find(KEY(idx, a->n)) != NULL;
		break;
	case ST_DEL_RACE:
		/* Even threads drop their handles while odd ones look. */
		if (idx % 2 == 0) {
			for (i = 0; i < a->n; i++)
				bad += l->del(KEY(idx, i)) != 0;
		} else if (l->del_with_readers) {
			for (t = 0; t < a->nthreads; t++) {
				for (i = 0; i < a->n; i++) {
					struct kcb_dev *d = l->find(KEY(t, i));

					bad += d != NULL && d != &a->devs[t];
				}
			}
		}
		break;
	case ST_AFTER:
		for (t = 0; t < a->nthreads; t++)
			for (i = 0; i < a->n; i++)
				bad += l->find(KEY(t, i)) != (t % 2 ? &a->devs[t] : NULL);
		break;
	}
	if (bad) {
		kcb_log("%s: step %d thread %d: %llu wrong answers\n", l->name,
		    a->step, idx, (unsigned long long)bad);
		kcb_fetch_add(&a->errors, 1);
	}
}

int twin_lookup(const struct kcb_lookup_ops *l, int nthreads, uint64_t nhandles)
{
	struct tl a = { .l = l, .n = nhandles, .nthreads = nthreads };
	int err = 0;

	a.devs = kcb_zalloc(nthreads * sizeof(*a.devs));
	if (!a.devs)
		return 1;
	for (a.step = ST_ADD; a.step <= ST_AFTER && !err; a.step++)
		err = kcb_parallel(nthreads, step_fn, &a);
	l->reset();
	kcb_free(a.devs);
	return err ? 1 : (int)a.errors;
}
