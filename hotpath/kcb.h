/* SPDX-License-Identifier: MIT */
/*
 * kcb.h - the platform contract every variant is written against.
 *
 * A variant sees a small simulated kernel: tasks, CPUs, preempt counts,
 * interrupts, atomics, locks and RCU.  kcb_user.h maps it onto threads,
 * TLS and signals; kcb_kernel.h maps it onto the real kernel API.  Nothing
 * outside hotpath/ may test __KERNEL__.
 *
 * Locking annotations, as in OpenBSD's kcov.c:
 *	[I]	immutable after set-up
 *	[M]	under the owner's lock (kcb_dev.lock) or the variant's mutex
 *	[a]	atomic operations
 *	[o]	owner only: the task itself, or an interrupt on its CPU
 *	[c]	this CPU only (touched by the CPU and its interrupts)
 */
#ifndef KCB_H
#define KCB_H

#ifdef __KERNEL__
#include "kcb_kernel.h"
#else
#include "kcb_user.h"
#endif

/* Modes, as in the OSes' kcov.h (values are ours). */
#define KCB_MODE_NONE		0
#define KCB_MODE_TRACE_PC	2
#define KCB_MODE_TRACE_CMP	3
/* Potapenko's unique mode (proposal, not merged): one PC per guard. */
#define KCB_MODE_TRACE_UNIQUE_PC	4
/* Jiao's unique mode (proposal, not merged): one PC per hash-table entry. */
#define KCB_MODE_TRACE_UNIQ_HASH	5
/* Linux ORs this in while a task is switched out (KCOV_IN_CTXSW). */
#define KCB_MODE_IN_CTXSW	(1u << 30)

/* trace-cmp record: type, arg1, arg2, pc. */
#define KCB_CMP_CONST		1u
#define KCB_CMP_SIZE(n)		((uint64_t)(n) << 1)
#define KCB_STRIDE_PC		1
#define KCB_STRIDE_CMP		4

/* OpenBSD's kd_state values. */
#define KCB_STATE_NONE		0
#define KCB_STATE_READY		1
#define KCB_STATE_TRACE		2
#define KCB_STATE_DYING		3

/*
 * A coverage descriptor: OpenBSD's kcov_dev, NetBSD's kcov_desc, FreeBSD's
 * kcov_info, Linux's struct kcov.  Fields serve whichever front end reads
 * them; kcb_dev_enable() keeps them consistent.
 */
struct kcb_dev {
	uint64_t	*buf;		/* [a] word 0 = records, then records */
	uint64_t	 nwords;	/* [I] words in buf, word 0 included
					 *     (FreeBSD entries, Linux kcov_size) */
	uint64_t	 nmemb;		/* [I] nwords - 1 (OpenBSD kd_nmemb,
					 *     NetBSD bufnent) */
	int		 state;		/* [M] KCB_STATE_* (OpenBSD, FreeBSD) */
	int		 mode;		/* [M] KCB_MODE_* */
	int		 intr;		/* [M] OpenBSD kd_intr: remote in interrupt */
	int		 enabled;	/* [M] NetBSD */
	int		 silenced;	/* [M] NetBSD */
	uint64_t	 lost;		/* [M] records dropped by a move/copy */
	kcb_spinlock_t	 lock;		/* Linux kcov->lock, for area moves */
	/* Remote coverage (variants/remote_*.c). */
	uint64_t	 refcount;	/* [a] Linux kcov->refcount, NetBSD refcnt */
	int		 sequence;	/* [M] Linux kcov->sequence */
	int		 remote;	/* [M] Linux kcov->remote */
	unsigned int	 remote_size;	/* [M] Linux kcov->remote_size (words) */
	void		*kr;		/* [M] OpenBSD kd_kr, NetBSD remote */
	int		 shared;	/* [I] while TRACE: writers other than the
					 *     owner may attach (OpenBSD kd_kr set;
					 *     KIOREMOTEATTACH needs READY) */
	struct kcb_uniq_map *map;	/* [I] Jiao's kcov->map, or NULL */
};

/*
 * A task: OpenBSD's proc, NetBSD's lwp, FreeBSD's thread and Linux's
 * task_struct, reduced to what the hooks read.
 */
struct kcb_task {
	struct kcb_dev	*kd;		/* [o] p_kd / l_kcov / td_kcov_info */
	/* Linux keeps the descriptor inline in task_struct. */
	unsigned int	 kcov_mode;	/* [o] READ_ONCE in the hook */
	unsigned int	 kcov_size;	/* [o] words, word 0 included */
	unsigned int	 kcov_nmemb;	/* [o] kcov_size - 1: read only when a
					 *     Linux front end feeds a claim that
					 *     bounds by nmemb (ablation pairs) */
	uint64_t	*kcov_area;	/* [o] */
	struct kcb_dev	*kcov;		/* [o] */
	int		 kcov_sequence;	/* [o] */
	int		 kcov_softirq;	/* [o] remote section in softirq */
	int		 kcov_shared;	/* [o] kcov->shared, for the owner-plain claim */
	/* The unique mode (proposal): a bit per guard index seen. */
	uint64_t	*kcov_bitmap;	/* [o] */
	uint64_t	 kcov_bitmap_bits;	/* [o] */
	/* The chunk claim (proposal): this task's reserved, unfilled slots
	 * [ck_pos, ck_end) of ck_buf; closed (zero-filled) on detach. */
	uint64_t	*ck_buf;	/* [o] */
	uint64_t	 ck_pos;	/* [o] word index of the next slot */
	uint64_t	 ck_end;	/* [o] */
	/* Linux since the v4 patch: the interrupted task's state, saved by a
	 * softirq remote section that runs on top of it. */
	unsigned int	 kcov_saved_mode;	/* [o] */
	unsigned int	 kcov_saved_size;	/* [o] */
	uint64_t	*kcov_saved_area;	/* [o] */
	struct kcb_dev	*kcov_saved_kcov;	/* [o] */
	int		 kcov_saved_sequence;	/* [o] */
	/* FreeBSD: td_intr_nesting_level, td_intr_frame. */
	int		 intr_nesting;	/* [o] */
	void		*intr_frame;	/* [o] */
	int		 id;		/* [I] */
};

/*
 * A CPU: OpenBSD/NetBSD's cpu_info.  curcpu() returns it.  Variants keep
 * their own per-CPU data in their own per-CPU variables.
 */
struct kcb_cpu {
	struct kcb_cpu	*self;		/* [I] ci_self: what curcpu() loads */
	struct kcb_task	*curtask;	/* [c] ci_curproc / ci_curlwp */
	int		 idepth;	/* [c] OpenBSD ci_idepth: 0 outside intr */
	int		 nb_idepth;	/* [c] NetBSD ci_idepth: -1 outside intr */
	int		 cpuid;		/* [I] */
};

/*
 * What a front end hands to a claim: where to write.  A front end fills
 * both bounds from fields its OS keeps; each claim reads the one its OS
 * bounds by, and the compiler drops the other load, so an upstream pairing
 * pays exactly the loads the original does.
 */
struct kcb_sink {
	uint64_t	*buf;
	uint64_t	 nwords;	/* word 0 included */
	uint64_t	 nmemb;		/* nwords - 1 */
	int		 shared;	/* others may write buf (owner-plain reads it) */
	struct kcb_task	*t;		/* the writer (the chunk claim's cursor) */
};

/* The sink of a descriptor that keeps both bounds (all but Linux's task). */
static __always_inline struct kcb_sink kcb_sink_of(const struct kcb_dev *kd)
{
	struct kcb_sink s = { kd->buf, kd->nwords, kd->nmemb, kd->shared, NULL };

	return s;
}

/* Globals some front ends test first: OpenBSD kcov_cold, panicstr, db_active. */
extern int kcb_cold;		/* [a] set until the first descriptor opens */
extern const char *kcb_panicstr;	/* [a] never set here */
extern int kcb_db_active;	/* [a] never set here */

/* Set-up helpers shared by tests, benches and the module (kcb_common.c). */
int  kcb_dev_init(struct kcb_dev *kd, uint64_t nwords);
void kcb_dev_fini(struct kcb_dev *kd);
void kcb_dev_reset(struct kcb_dev *kd);
void kcb_task_enable(struct kcb_task *t, struct kcb_dev *kd, int mode);
void kcb_task_attach(struct kcb_task *t, struct kcb_dev *kd);
void kcb_task_disable(struct kcb_task *t);
/* OpenBSD KIOREMOTEATTACH: let writers other than the owner attach.  Only
 * before tracing starts (-EBUSY otherwise), so kd->shared cannot change
 * under a hook. */
int  kcb_dev_share(struct kcb_dev *kd);
/* The unique mode: t traces into kd, recording a guard's PC only the first
 * time its bit in bitmap (bits long, zeroed by the caller) is clear. */
void kcb_task_enable_unique(struct kcb_task *t, struct kcb_dev *kd,
    uint64_t *bitmap, uint64_t bits);
/* Give an unset guard its index (1, 2, ...; 0 means unset), once. */
uint32_t kcb_guard_init(uint32_t *guard);
void kcb_guard_init_range(uint32_t *start, uint32_t *stop);

/*
 * __sanitizer_cov_trace_pc_guard()'s test in the unique mode: true if this
 * guard's PC is to be recorded.  The test-and-set is not atomic: only t
 * and interrupts on its CPU touch t's bitmap, and an interrupt between
 * the test and the set records the PC twice, never loses it.  An index
 * past the bitmap records every time.
 */
static __always_inline bool kcb_guard_test(struct kcb_task *t, uint32_t *guard, bool set)
{
	uint32_t idx = READ_ONCE(*guard);
	uint64_t *w, bit;

	if (unlikely(!idx))
		idx = kcb_guard_init(guard);
	if (unlikely(idx >= t->kcov_bitmap_bits))
		return true;
	w = &t->kcov_bitmap[idx / 64];
	bit = 1ull << (idx % 64);
	if (*w & bit)
		return false;
	if (set)		/* false: the broken control's test without the set */
		*w |= bit;
	return true;
}

static __always_inline bool kcb_guard_first(struct kcb_task *t, uint32_t *guard)
{
	return kcb_guard_test(t, guard, true);
}

/*
 * Joey Jiao's unique mode ("[PATCH 1/7] kcov: introduce new kcov
 * KCOV_TRACE_UNIQ_PC mode", 14 Jan 2025, not merged): struct kcov_map.
 * A PC is looked up in a hash table of 2^15 buckets (the key jhash()es
 * the 8-byte PC, hash_min() picks the bucket) and, if absent, gets an
 * entry from a pool preallocated at KCOV_INIT_TRACE (gen_pool, first fit:
 * one entry per area word, 32 bytes each), is added with hash_add_rcu()
 * and then appended.  Nothing empties the table before the descriptor is
 * freed: a PC is recorded once per descriptor, not once per enable.
 */
#define KCB_UNIQ_BITS		15
struct kcb_uniq_entry {
	uint64_t		 ent;	/* [I] once added: the PC */
	struct kcb_uniq_entry	*next;	/* [a] hlist_node */
	struct kcb_uniq_entry	**pprev;	/* [o] */
	uint64_t		 pad;	/* gen_pool's order: 32-byte slots */
};
/* gen_pool with one chunk (lib/genalloc.c): avail, then a bitmap. */
struct kcb_uniq_pool {
	long			 avail;	/* [a] free entries */
	uint64_t		 nbits;	/* [I] entries */
	struct kcb_uniq_entry	*mem;	/* [I] the entries */
	/* [I] pool->algo: gen_pool_first_fit, called through the pointer */
	uint64_t		 (*algo)(const uint64_t *bits, uint64_t nbits);
	uint64_t		 bits[];	/* [a] set: entry in use */
};
struct kcb_uniq_map {
	struct kcb_uniq_entry	*buckets[1u << KCB_UNIQ_BITS];	/* [a] heads */
	struct kcb_uniq_pool	*pool;	/* [I] */
};
/* KCOV_INIT_TRACE's kcov_map_init() for kd (its buffer allocated): a
 * pool of kd->nwords entries.  0 or -ENOMEM; kcb_dev_fini() frees it. */
int  kcb_uniq_map_init(struct kcb_dev *kd);
/* Empty the table and the pool (a bench's reset; Jiao's patch has none);
 * _forget empties only buckets[0..n-1] and the pool (the bench's batch). */
void kcb_uniq_map_clear(struct kcb_uniq_map *map);
void kcb_uniq_map_forget(struct kcb_uniq_map *map, const uint32_t *buckets, uint32_t n);
/* t traces into kd (map initialised) in Jiao's unique mode. */
void kcb_task_enable_uniq_hash(struct kcb_task *t, struct kcb_dev *kd);
/* gen_pool_alloc(map->pool, 32): out of line, as in lib/genalloc.c;
 * NULL when the pool is used up. */
struct kcb_uniq_entry *kcb_uniq_alloc(struct kcb_uniq_map *map);

static __always_inline uint32_t kcb_rol32(uint32_t w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* jhash(&pc, 8, 0): Bob Jenkins' lookup3 on two words, then its final mix. */
static __always_inline uint32_t kcb_jhash_u64(uint64_t pc)
{
	uint32_t a, b, c;

	a = b = c = 0xdeadbeefu + 8;
	a += (uint32_t)pc;
	b += (uint32_t)(pc >> 32);
	c ^= b; c -= kcb_rol32(b, 14);
	a ^= c; a -= kcb_rol32(c, 11);
	b ^= a; b -= kcb_rol32(a, 25);
	c ^= b; c -= kcb_rol32(b, 16);
	a ^= c; a -= kcb_rol32(c, 4);
	b ^= a; b -= kcb_rol32(a, 14);
	c ^= b; c -= kcb_rol32(b, 24);
	return c;
}

/* hash_min(key, 15) for a u32 key: hash_32(). */
static __always_inline uint32_t kcb_uniq_bucket(uint32_t key)
{
	return (key * 0x61C88647u) >> (32 - KCB_UNIQ_BITS);
}

/*
 * kcov_map_add()'s test in Jiao's unique mode: true if pc is new to t's
 * descriptor (an entry is taken and added) and so is to be appended.
 * Only t and interrupts on its CPU add to the table: an interrupt between
 * the lookup and the add may record a PC twice; one inside the add may
 * unlink the other's entry, so that PC is recorded again later.  Neither
 * loses a PC.  A used-up pool records nothing more.
 */
static __always_inline bool kcb_uniq_test(struct kcb_task *t, uint64_t pc, bool chain)
{
	struct kcb_uniq_map *map = t->kcov->map;
	struct kcb_uniq_entry **head, *e, *first;

	head = &map->buckets[kcb_uniq_bucket(kcb_jhash_u64(pc))];
	/* chain false: the bucket's first entry only (the broken control) */
	for (e = READ_ONCE(*head); e; e = chain ? READ_ONCE(e->next) : NULL)
		if (e->ent == pc)
			return false;
	e = kcb_uniq_alloc(map);
	if (unlikely(!e))
		return false;
	barrier();
	/* memcpy(entry, ent, sizeof(*entry)), then hlist_add_head_rcu() */
	e->ent = pc;
	e->next = NULL;
	e->pprev = NULL;
	first = *head;
	e->next = first;
	e->pprev = head;
	kcb_store_release(head, e);
	if (first)
		first->pprev = &e->next;
	return true;
}

/* The chunk claim's tunable: records reserved per atomic (kcb_common.c). */
extern uint64_t kcb_chunk_records;	/* [I] while tracing */
/* Close t's open chunk: zero its unfilled slots, forget it. */
void kcb_chunk_close(struct kcb_task *t);

/*
 * Threads.  kcb_thread_attach() makes the calling thread a CPU of the
 * simulated machine (userland) or installs a fresh task on this CPU
 * (kernel): curcpu() and current then point at it.  With pin, it is bound
 * to CPU idx % ncpus first.  Returns the CPU it runs on, or -errno.
 */
int  kcb_thread_attach(int idx, bool pin);
void kcb_thread_detach(void);
/* Run fn(idx, arg) on n attached threads that start together; 0 or -errno. */
int  kcb_parallel(int n, void (*fn)(int idx, void *arg), void *arg);
int  kcb_ncpus(void);

/*
 * Remote sections (variants/remote_*.c) also use, from kcb_user.h or
 * kcb_kernel.h:
 *	kcb_preempt_rt()	PREEMPT_RT semantics: IS_ENABLED(CONFIG_PREEMPT_RT)
 *				in the kernel, a runtime switch in userland
 *	kcb_preempt_point(what)	a place where a preemptible kernel may switch
 *				tasks; a no-op except in the explorer (like
 *				might_sleep(), it marks, it does not sleep)
 *	kcb_lock_name(l, name)	names a lock for the explorer's traces
 *	kcb_possible_cpus()	num_possible_cpus(); kcb_for_each_possible_cpu()
 *	kcb_local_lock_irqsave_pcpu(var, member, f)  local_lock_irqsave(&var.member)
 *				on a per-CPU variable (and _unlock_, _init_)
 *	kcb_wait_a_while()	sleep briefly in task context (barriers)
 *	KCB_IRQ_AREA_WORDS	CONFIG_KCOV_IRQ_AREA_SIZE (smaller in userland)
 *	kcb_max_threads()	the most threads kcb_parallel() takes: online
 *				CPUs in the kernel, unbounded in userland
 */

/* Interrupt bookkeeping that the OSes keep beside the preempt count:
 * ci_idepth (OpenBSD, NetBSD) and td_intr_nesting_level (FreeBSD). */
void kcb_intr_enter(bool soft);
void kcb_intr_exit(bool soft);

/* The words of a trace-cmp type for a comparison of 1 << size_log2 bytes. */
static __always_inline uint64_t kcb_cmp_type(unsigned int size_log2, int is_const)
{
	return KCB_CMP_SIZE(size_log2) | (is_const ? KCB_CMP_CONST : 0);
}

#endif /* KCB_H */
