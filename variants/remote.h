/* SPDX-License-Identifier: MIT */
/*
 * remote.h - remote coverage sections: a thread (or a softirq) collects
 * coverage on behalf of another task's descriptor, the owner.  One
 * remote_<id>.c per upstream shape, listed in remotes.h; each is paired
 * with the hooks of its OS's upstream configuration.
 */
#ifndef KCB_REMOTE_H
#define KCB_REMOTE_H

#include "variant.h"
#include "lookup.h"

/* What a variant's fini() found, for the checks. */
struct kcb_remote_stats {
	uint64_t	areas;		/* areas allocated, preallocated included */
	uint64_t	areas_free;	/* of those, back in a pool at fini */
	uint64_t	double_use;	/* an area handed out while in use */
	uint64_t	no_area;	/* sections refused: pool empty in softirq */
	uint64_t	warnings;	/* upstream WARN_ON/KASSERT that would fire */
	uint64_t	close_races;	/* ... of those, the one teardown race the
					 * variant's header documents (else 0) */
	const char	*close_race;	/* that race, in one line */
};

struct kcb_remote_ops {
	const char *name;		/* "linux-pertask-v4" */
	const char *origin;		/* OS, file, revision */
	const char *config;		/* its hooks' upstream config ("linux") */
	const char *lookup;		/* its lookup flavour (lookups.c name) */
	int proposal;			/* no upstream OS has it: marked as such */
	int softirq;			/* sections may run in softirq */
	int direct;			/* task sections write the owner's buffer
					 * through its claim (no area, no move) */
	int max_writers;		/* 0, or sections one owner takes at once
					 * without losing records */
	int  (*init)(void);		/* pools; 0 or -errno */
	void (*fini)(struct kcb_remote_stats *st);
	/* owner->mode is the mode wanted; area_words sizes task-context areas
	 * (Linux kcov_remote_arg.area_size).  Task context. */
	int  (*enable)(struct kcb_dev *owner, uint64_t handle, uint64_t area_words);
	/* Stops new sections and returns once none is in flight. */
	void (*disable)(struct kcb_dev *owner);
	/* 1 if a section opened (upstream returns nothing: for the checks). */
	int  (*start)(uint64_t handle);
	void (*stop)(uint64_t handle);
	/* nsec sections, each start, nrec trace_cmp8 hooks, stop, all direct
	 * calls.  Records of the k-th section that opened are
	 * (tag, seq0 + k * nrec + i); in one that did not open,
	 * (tag | KCB_REMOTE_TAG_CLOSED, ...).  Returns sections opened. */
	uint64_t (*loop)(uint64_t handle, uint64_t nsec, uint64_t nrec,
	    uint64_t tag, uint64_t seq0);
};

#define KCB_REMOTE_TAG_CLOSED	(1ull << 62)

extern const struct kcb_remote_ops *const kcb_remotes[];
extern const int kcb_nremotes;
const struct kcb_remote_ops *kcb_remote_find(const char *name);
/* The request-rate benchmark's baseline (remote_registry.c): in no list. */
extern const struct kcb_remote_ops kcb_remote_hooks_only;

/* The measured loop, instantiated per variant with direct calls. */
#define KCB_REMOTE_LOOP(fn, start, stop, hook)				\
kcb_noinline uint64_t fn(uint64_t handle, uint64_t nsec, uint64_t nrec,	\
    uint64_t tag, uint64_t seq0)					\
{									\
	uint64_t opened = 0;						\
									\
	for (uint64_t s = 0; s < nsec; s++) {				\
		int ok = start(handle);					\
		uint64_t tg = ok ? tag : tag | KCB_REMOTE_TAG_CLOSED;	\
		uint64_t base = seq0 + opened * nrec;			\
									\
		for (uint64_t i = 0; i < nrec; i++)			\
			hook(tg, base + i);				\
		stop(handle);						\
		opened += ok;						\
	}								\
	return opened;							\
}

/*
 * Area bookkeeping for the checks (not upstream): every pool area has a
 * header word before it that says whether it is handed out.  Set and
 * cleared under the pool's lock, or on the area's own CPU.
 */
#define KCB_AREA_HDR	8	/* words: keeps areas 64-byte aligned */

static inline uint64_t *kcb_area_alloc(uint64_t words, uint64_t *count)
{
	uint64_t *p = kcb_zalloc((words + KCB_AREA_HDR) * sizeof(uint64_t));

	if (!p)
		return NULL;
	kcb_fetch_add(count, 1);
	return p + KCB_AREA_HDR;
}

static inline void kcb_area_free(uint64_t *area)
{
	if (area)
		kcb_free(area - KCB_AREA_HDR);
}

static __always_inline void kcb_area_mark(uint64_t *area, uint64_t *double_use)
{
	if (area[-1])
		(*double_use)++;
	area[-1] = 1;
}

static __always_inline void kcb_area_unmark(uint64_t *area)
{
	area[-1] = 0;
}

#endif
