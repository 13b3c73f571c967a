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
/* The proposals' modes are 4 (variants/uniq_guard.h) and 5 (uniq_hash.h). */
/* Linux ORs this in while a task is switched out (KCOV_IN_CTXSW, 1 << 30
 * upstream).  Any bit outside the modes fails the front ends' equality
 * test; bit 7 because the linux-ext-mode proposal compares the mode's low
 * byte only (variants/fe_lnx_ext_mode.c), which must still see it. */
#define KCB_MODE_IN_CTXSW	(1u << 7)

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
	/* KCOV_EXT_RECORDS v1 (variants/fe_lnx_ext_v1.c): records in the
	 * extended format; in the hole before kcov_bitmap, so no other
	 * field moves. */
	unsigned int	 kcov_ext_format;	/* [o] */
	/* Fields the proposals add to task_struct, kept here so that every
	 * variant's hooks see the same offsets.  The unique mode
	 * (variants/uniq_guard.h): a bit per guard index seen. */
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
	unsigned int	 mode;		/* the mode the lookup read, where a
					 * front end keeps it (linux-ext-mode's
					 * record format); else 0 */
};

/* The sink of a descriptor that keeps both bounds (all but Linux's task). */
static __always_inline struct kcb_sink kcb_sink_of(const struct kcb_dev *kd)
{
	struct kcb_sink s = { kd->buf, kd->nwords, kd->nmemb, kd->shared, NULL, 0 };

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
/*
 * State the proposals keep in a task or a descriptor (the fields above
 * marked as theirs), released by the set-up here as a patched
 * kcov_task_reset() and kcov_put() would; defined beside the proposals.
 */
/* Close t's open chunk: zero its unfilled slots, forget it (variants/chunk.c). */
void kcb_chunk_close(struct kcb_task *t);
/* Free kd's hash table and pool, if any (variants/uniq_hash.c). */
void kcb_uniq_map_free(struct kcb_dev *kd);

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
 *	kcb_clock_ms()		a monotonic clock in milliseconds (bounds waits)
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
