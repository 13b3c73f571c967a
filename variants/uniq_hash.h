/* SPDX-License-Identifier: MIT */
/*
 * uniq_hash.h - Jiao's unique mode: the hash table of PCs seen and its
 * gen_pool, as the patch adds them to kcov.  Used by fe_lnx_uniq_hash.c
 * (FE_UNIQ_HASH) and its broken control.
 */
#ifndef KCB_UNIQ_HASH_H
#define KCB_UNIQ_HASH_H

#include "../hotpath/kcb.h"

/* kcov's mode for it (the value is ours) */
#define KCB_MODE_TRACE_UNIQ_HASH	5

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
/* kcb_uniq_map_free(kd), declared in hotpath/kcb.h: kcb_dev_fini() frees
 * kd's map with it. */
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

#endif
