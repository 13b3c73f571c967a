/* SPDX-License-Identifier: MIT */
/*
 * modes.h - what one batch of each benchmark mode does.  Written against
 * the contract only (no libc), so the userland benchmark (bench.c) and the
 * module's runner (kmod/kcb_run.c) measure exactly the same loop; each
 * keeps its own timing window around it.
 */
#ifndef KCB_MODES_H
#define KCB_MODES_H
#include "../variants/variant.h"

/*
 * The modes: X(ID, "name", switch cases, flags), one line each.  The enum,
 * the names, the descriptors (kcb_modes[]) and `list --json` come from it.
 * Trace_switch of 4..256 cases runs with a trace-cmp descriptor (one record
 * per case), and with a trace-pc one (syzkaller's usual set-up: comparisons
 * compiled in, not recorded, so only the lookups cost).  The unique mode
 * (front ends with trace_pc_guard) calls KCB_GUARD_SITES guards in turn,
 * each batch a first call of each (bitmap cleared) or only repeated calls
 * (bits already set: nothing recorded).  Jiao's (front ends with
 * loop_pc_at) calls KCB_GUARD_SITES PCs in turn, first calls (buckets and
 * pool emptied: ~1 store per call more) or repeated ones (every PC found).
 */
#define KCB_MODES(X)							\
	X(PERTASK,	"pertask",	0,   KCB_MF_DEFAULT)		\
	X(SHARED,	"shared",	0,   KCB_MF_DEFAULT | KCB_MF_SHARED) \
	X(CMP,		"cmp",		0,   KCB_MF_DEFAULT | KCB_MF_CMP) \
	X(WORKLOAD,	"workload",	0,   KCB_MF_WORKLOAD)		\
	X(SWITCH4,	"switch4",	4,   KCB_MF_CMP)		\
	X(SWITCH16,	"switch16",	16,  KCB_MF_CMP)		\
	X(SWITCH64,	"switch64",	64,  KCB_MF_CMP)		\
	X(SWITCH256,	"switch256",	256, KCB_MF_CMP)		\
	X(SWITCH4_PC,	"switch4-pc",	4,   0)				\
	X(SWITCH16_PC,	"switch16-pc",	16,  0)				\
	X(SWITCH64_PC,	"switch64-pc",	64,  0)				\
	X(SWITCH256_PC,	"switch256-pc",	256, 0)				\
	X(GUARD_FIRST,	"guard-first",	0,   KCB_MF_GUARD | KCB_MF_FIRST) \
	X(GUARD_REPEAT,	"guard-repeat",	0,   KCB_MF_GUARD)		\
	X(HASH_FIRST,	"hash-first",	0,   KCB_MF_HASH | KCB_MF_FIRST) \
	X(HASH_REPEAT,	"hash-repeat",	0,   KCB_MF_HASH)

/* A mode's flags (kcb_mode.flags). */
#define KCB_MF_DEFAULT	(1u << 0)	/* runs unless --modes says otherwise */
#define KCB_MF_CMP	(1u << 1)	/* records comparisons (trace-cmp) */
#define KCB_MF_SHARED	(1u << 2)	/* all threads on one buffer */
#define KCB_MF_WORKLOAD	(1u << 3)	/* workload rounds, not hook calls */
#define KCB_MF_GUARD	(1u << 4)	/* trace_pc_guard: needs c->loop_guard */
#define KCB_MF_HASH	(1u << 5)	/* Jiao's table: needs c->loop_pc_at */
#define KCB_MF_FIRST	(1u << 6)	/* unique modes: first calls each batch */

#define KCB_MODE_ENUM(id, name, cases, flags)	MODE_##id,
enum { KCB_MODES(KCB_MODE_ENUM) MODE_MAX };

struct kcb_mode {
	const char *name;		/* "switch16-pc" */
	unsigned int cases;		/* trace_switch's cases, or 0 */
	unsigned int flags;		/* KCB_MF_* */
};
extern const struct kcb_mode kcb_modes[MODE_MAX];

#define KCB_GUARD_SITES		1024	/* = KCB_BATCH: one call of each per batch */
#define KCB_GUARD_BITS		(1u << 16)	/* the bitmap: room for every index given */
#define KCB_SWITCH_MAX	256

/* A switch mode's number of cases, or 0 for any other mode. */
static inline uint64_t mode_switch_cases(int mode)
{
	return kcb_modes[mode].cases;
}
/* The trace-pc flavour: the descriptor does not record comparisons. */
static inline int mode_switch_pc(int mode)
{
	return kcb_modes[mode].cases && !(kcb_modes[mode].flags & KCB_MF_CMP);
}
/* Whether a mode records comparisons: a trace-cmp descriptor, and
 * KCB_STRIDE_CMP words per record. */
static inline int mode_cmp(int mode)
{
	return !!(kcb_modes[mode].flags & KCB_MF_CMP);
}

#define KCB_BATCH		1024		/* hook calls per indirect call */
/* A thread's own buffer, count word included: syzkaller's kCoverSize
 * (256K words), appended to and emptied only when the next batch would
 * not fit, as a fuzzer's buffer is.  KCB_BUFFER_BATCH instead gives room
 * for one batch, emptied after each: it never leaves L1. */
#define KCB_BUFFER_WORDS_DEFAULT	(256u << 10)
#define KCB_BUFFER_BATCH	0
#define KCB_BUFFER_WORDS_MAX	(1u << 24)
#define KCB_SHARED_WORDS	(1u << 20)	/* one shared buffer: 8 MiB */
/* One workload round records ~173k PCs: room for six, so a round never
 * fills the buffer and every variant does the same writes. */
#define KCB_WORKLOAD_WORDS	(1u << 20)
#define KCB_WORKLOAD_SEED	42

extern const char *const kcb_mode_names[MODE_MAX];
/* The MODE_* of a name, or -1. */
int kcb_mode_find(const char *name);
/* A bit per mode: those that run unless asked otherwise, and the switch
 * modes (`--modes=switch`). */
unsigned int kcb_modes_default(void);
unsigned int kcb_modes_switch(void);
/* Whether c (NULL: the empty hook) can run mode: the unique modes need
 * their front end's hooks, the workload a copy built for c. */
int kcb_mode_fits(int mode, const struct kcb_combo *c);

typedef uint64_t (*kcb_workload_fn)(uint64_t seed, void *scratch);
/*
 * The workload copy that calls c's hooks, or the uninstrumented copy for
 * c == NULL.  Only upstream configurations have a copy: NULL otherwise.
 */
kcb_workload_fn kcb_workload_of(const struct kcb_combo *c);

/* One benchmark, shared by its threads. */
struct mode_run {
	const struct kcb_combo *c;	/* [I] NULL: the empty hook, or the
					 *     uninstrumented workload */
	int mode;			/* [I] MODE_* */
	kcb_workload_fn workload;	/* [I] MODE_WORKLOAD */
	uint64_t *cases;		/* [I] switch modes: {n, 32, case...} */
	uint64_t buf_words;		/* [I] own buffer's words, or KCB_BUFFER_BATCH */
	struct kcb_dev owner;		/* [a] MODE_SHARED: the one buffer */
	uint32_t *guards;		/* [a] guard modes: KCB_GUARD_SITES guards */
	uintptr_t *rets;		/* [I] hash modes: KCB_GUARD_SITES return
					 *     addresses, and their PCs' buckets */
	uint32_t *rets_bucket;		/* [I] */
};

/* One thread's part. */
struct mode_thread {
	struct kcb_dev own;		/* its private buffer */
	void *scratch;			/* MODE_WORKLOAD's memory */
	uint64_t *bitmap;		/* guard modes: KCB_GUARD_BITS bits */
	uint64_t sum;			/* workload checksums: kept, so used */
};

/* 0, or -EINVAL if c cannot run mode or buf_words cannot hold a batch of
 * its records, or -ENOMEM. */
int  mode_run_init(struct mode_run *r, const struct kcb_combo *c, int mode,
    uint64_t buf_words);
/* Before each repetition's threads start: empty the shared buffer. */
void mode_run_reset(struct mode_run *r);
void mode_run_fini(struct mode_run *r);
/* In the thread, once attached (kcb_thread_attach): buffers, tracing on. */
int  mode_thread_init(struct mode_run *r, struct mode_thread *t);
void mode_thread_fini(struct mode_run *r, struct mode_thread *t);
/* Point the current task's tracing at t again (mode_thread_init does it
 * once): `kcovbench ab` switches the task between two variants' buffers. */
void mode_thread_enable(struct mode_run *r, struct mode_thread *t);

/* Empty a thread's own buffer when the next batch of records might not fit
 * (each batch, with KCB_BUFFER_BATCH's room for exactly one). */
static inline void mode_own_reset(struct kcb_dev *own, int stride)
{
	if (READ_ONCE(own->buf[0]) + KCB_BATCH > (own->nwords - 1) / stride)
		WRITE_ONCE(own->buf[0], 0);
}

/* Empty the shared buffer when half full; a lost race just retries later. */
static inline void mode_shared_reset(struct kcb_dev *owner)
{
	uint64_t n = READ_ONCE(owner->buf[0]);

	if (n > owner->nmemb / 2)
		kcb_cmpxchg(&owner->buf[0], n, 0);
}

/*
 * One batch: KCB_BATCH hook calls (returns KCB_BATCH), or one workload
 * round (returns 1: the workload's unit is the round).  Inline: the
 * variant's own loop is the only indirect call per batch.
 */
static inline uint64_t mode_batch(struct mode_run *r, struct mode_thread *t, int idx)
{
	const struct kcb_combo *c = r->c;
	const struct kcb_mode *m = &kcb_modes[r->mode];
	struct kcb_dev *own = &t->own;

	if (m->flags & KCB_MF_WORKLOAD) {
		t->sum += r->workload(KCB_WORKLOAD_SEED, t->scratch);
		WRITE_ONCE(own->buf[0], 0);
		return 1;
	}
	if (m->cases) {
		/* Calls whose records fit the thread's buffer (room for
		 * KCB_BATCH cases); an op is one trace_switch call. */
		uint64_t calls = KCB_BATCH / r->cases[0];

		if (c)
			c->loop_switch(calls, r->cases);
		else
			kcb_empty_loop_switch(calls, r->cases);
		mode_own_reset(own, KCB_STRIDE_CMP);
		return calls;
	}
	if (!c) {
		kcb_empty_loop_pc(KCB_BATCH);
		return KCB_BATCH;
	}
	if (m->flags & KCB_MF_GUARD) {
		if (m->flags & KCB_MF_FIRST) {
			/* clear the words the guards' bits are in: ~17 stores
			 * per batch of 1024 calls */
			uint32_t lo = r->guards[0] / 64, hi = r->guards[KCB_GUARD_SITES - 1] / 64;

			for (uint32_t w = lo; w <= hi; w++)
				t->bitmap[w] = 0;
		}
		c->loop_guard(KCB_BATCH, r->guards, KCB_GUARD_SITES - 1);
		mode_own_reset(own, KCB_STRIDE_PC);
		return KCB_BATCH;
	}
	if (m->flags & KCB_MF_HASH) {
		if (m->flags & KCB_MF_FIRST)
			kcb_uniq_map_forget(own->map, r->rets_bucket, KCB_GUARD_SITES);
		/* rets[] costs the loop one load per call that trace_pc, which
		 * reads its return address, does not pay */
		c->loop_pc_at(KCB_BATCH, r->rets, KCB_GUARD_SITES - 1);
		mode_own_reset(own, KCB_STRIDE_PC);
		return KCB_BATCH;
	}
	if (m->flags & KCB_MF_CMP) {
		c->loop_cmp(KCB_BATCH, idx);
		mode_own_reset(own, KCB_STRIDE_CMP);
		return KCB_BATCH;
	}
	c->loop_pc(KCB_BATCH);
	if (!(m->flags & KCB_MF_SHARED)) {
		mode_own_reset(own, KCB_STRIDE_PC);
	} else {
		if (!c->pair->shareable_pc) {
			/* Linux's way: a private area moved under the lock. */
			c->move(&r->owner, own->buf, KCB_STRIDE_PC);
			WRITE_ONCE(own->buf[0], 0);
		}
		mode_shared_reset(&r->owner);
	}
	return KCB_BATCH;
}

#endif
