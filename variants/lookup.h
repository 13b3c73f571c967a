/* SPDX-License-Identifier: MIT */
/*
 * lookup.h - finding a remote section's owner by its handle: the shapes
 * the OSes use, as inline code a remote variant calls under its own lock,
 * and (lookups.c) as benchmarkable flavours with their locks.
 *
 *   list	OpenBSD sys/dev/kcov.c rev 1.49 kr_lookup(): TAILQ scan on
 *		(subsystem, id) under kcov_mtx; NetBSD's list of preallocated
 *		remotes, scanned without a lock (entries are never removed
 *		while sections may run).
 *   hash16	Linux kernel/kcov.c kcov_remote_find(): DEFINE_HASHTABLE(, 4),
 *		hash_64(handle, 4), under kcov_remote_lock.
 *   rcu16	the same buckets read under RCU: no upstream OS does this; the
 *		alternative to a global lock on every section.
 */
#ifndef KCB_LOOKUP_H
#define KCB_LOOKUP_H

#include "../hotpath/kcb.h"

/* A registered remote: OpenBSD struct kcov_remote, Linux struct kcov_remote. */
struct kcb_remote {
	uint64_t		 handle;	/* [I] Linux handle; OpenBSD
						 *     (subsystem, id) as one key */
	struct kcb_dev		*kd;		/* [M] kr_kd / remote->kcov
						 *     ([a] in NetBSD's list) */
	int			 nsections;	/* [M] OpenBSD kr_nsections */
	uint64_t		 refcount;	/* [a] NetBSD kr->refcount (u_int there) */
	int			 state;		/* [M] OpenBSD kr_state */
	struct kcb_remote	*next;		/* [M] the lookup's chain
						 *     ([a] in list_unlocked, rcu16) */
	struct kcb_remote	*gone;		/* [M] removed, waiting for a
						 *     grace period (rcu16 users) */
};

/* ---- list: insert at the tail, scan from the head ---- */
struct kcb_rlist {
	struct kcb_remote	*head;		/* [M] */
	struct kcb_remote	**tail;		/* [M] */
};

static inline void rlist_init(struct kcb_rlist *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static inline void rlist_insert_tail(struct kcb_rlist *l, struct kcb_remote *r)
{
	r->next = NULL;
	if (!l->tail)
		rlist_init(l);
	/* Release: NetBSD's readers scan without the lock. */
	kcb_store_release(l->tail, r);
	l->tail = &r->next;
}

/* NetBSD's LIST_INSERT_HEAD: the newest remote is found first. */
static inline void rlist_insert_head(struct kcb_rlist *l, struct kcb_remote *r)
{
	if (!l->tail)
		rlist_init(l);
	r->next = l->head;
	if (l->tail == &l->head)
		l->tail = &r->next;
	kcb_store_release(&l->head, r);
}

static inline void rlist_remove(struct kcb_rlist *l, struct kcb_remote *r)
{
	struct kcb_remote **pp;

	for (pp = &l->head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (l->tail == &r->next)
				l->tail = pp;
			return;
		}
	}
}

static __always_inline struct kcb_remote *rlist_find(struct kcb_rlist *l, uint64_t handle)
{
	struct kcb_remote *r;

	for (r = kcb_load_acquire(&l->head); r; r = kcb_load_acquire(&r->next))
		if (r->handle == handle)
			return r;
	return NULL;
}

/* ---- hash16: Linux's 16 hlist buckets ---- */
#define KCB_HASH_BITS	4
#define KCB_HASH_SIZE	(1u << KCB_HASH_BITS)

struct kcb_rhash {
	struct kcb_remote	*bucket[KCB_HASH_SIZE];	/* [M] */
};

/* hash_64(): multiply by the 64-bit golden ratio, keep the top bits. */
static __always_inline unsigned int kcb_hash_64(uint64_t v, unsigned int bits)
{
	return (unsigned int)((v * 0x61c8864680b583ebull) >> (64 - bits));
}

static inline void rhash_add(struct kcb_rhash *h, struct kcb_remote *r)
{
	struct kcb_remote **b = &h->bucket[kcb_hash_64(r->handle, KCB_HASH_BITS)];

	r->next = *b;		/* hlist_add_head() */
	*b = r;
}

static inline void rhash_del(struct kcb_rhash *h, struct kcb_remote *r)
{
	struct kcb_remote **pp = &h->bucket[kcb_hash_64(r->handle, KCB_HASH_BITS)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

static __always_inline struct kcb_remote *rhash_find(struct kcb_rhash *h, uint64_t handle)
{
	struct kcb_remote *r = h->bucket[kcb_hash_64(handle, KCB_HASH_BITS)];

	for (; r; r = r->next)
		if (r->handle == handle)
			return r;
	return NULL;
}

/* ---- rcu16: the same buckets, published and read under RCU ---- */
/* Updaters hold the table's lock; a removed entry is freed only after
 * kcb_synchronize_rcu(). */
static inline void rcu16_add(struct kcb_rhash *h, struct kcb_remote *r)
{
	struct kcb_remote **b = &h->bucket[kcb_hash_64(r->handle, KCB_HASH_BITS)];

	r->next = *b;
	kcb_rcu_assign_pointer(*b, r);
}

static inline void rcu16_del(struct kcb_rhash *h, struct kcb_remote *r)
{
	struct kcb_remote **pp = &h->bucket[kcb_hash_64(r->handle, KCB_HASH_BITS)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			/* Readers on r still see r->next: it stays valid. */
			kcb_rcu_assign_pointer(*pp, r->next);
			return;
		}
	}
}

/* Caller is inside kcb_rcu_read_lock(). */
static __always_inline struct kcb_remote *rcu16_find(struct kcb_rhash *h, uint64_t handle)
{
	struct kcb_remote *r;

	r = kcb_rcu_dereference(h->bucket[kcb_hash_64(handle, KCB_HASH_BITS)]);
	for (; r; r = kcb_rcu_dereference(r->next))
		if (r->handle == handle)
			return r;
	return NULL;
}

/* ---- the benchmarkable flavours (lookups.c) ---- */
struct kcb_lookup_ops {
	const char *name;		/* "rcu-hash16" */
	const char *origin;
	int del_with_readers;		/* del may run while finds do */
	/* Register handle -> kd; -EEXIST if taken, -ENOMEM. Task context. */
	int  (*add)(uint64_t handle, struct kcb_dev *kd);
	/* Unregister; 0 or -ENOENT.  Frees the entry (after a grace period
	 * where readers are lockless). Task context. */
	int  (*del)(uint64_t handle);
	/* The owner, read under the flavour's lock; NULL if none. */
	struct kcb_dev *(*find)(uint64_t handle);
	/* n finds of handles[i % nh], called directly; returns hits. */
	uint64_t (*loop_find)(const uint64_t *handles, uint64_t nh, uint64_t n);
	/* Remove and free every entry. */
	void (*reset)(void);
};

extern const struct kcb_lookup_ops *const kcb_lookups[];
extern const int kcb_nlookups;
const struct kcb_lookup_ops *kcb_lookup_find(const char *name);

#endif
