/* SPDX-License-Identifier: MIT */
/*
 * uniq_hash.c - Jiao's unique mode's table and pool (uniq_hash.h): set-up,
 * the bench's emptying, and gen_pool_alloc()'s replica.
 */
#include "uniq_hash.h"

/* gen_pool_first_fit(): bitmap_find_next_zero_area() from bit 0, so a
 * miss scans every word of entries already taken. */
static uint64_t kcb_uniq_first_fit(const uint64_t *bits, uint64_t nbits)
{
	for (uint64_t w = 0; w * 64 < nbits; w++) {
		uint64_t v = READ_ONCE(bits[w]);

		if (~v) {
			uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(~v);

			return i < nbits ? i : nbits;
		}
	}
	return nbits;
}

int kcb_uniq_map_init(struct kcb_dev *kd)
{
	uint64_t words = (kd->nwords + 63) / 64;
	struct kcb_uniq_map *map = kcb_zalloc(sizeof(*map));
	struct kcb_uniq_pool *pool = kcb_zalloc(sizeof(*pool) + words * sizeof(uint64_t));
	struct kcb_uniq_entry *mem = kcb_zalloc(kd->nwords * sizeof(*mem));

	if (!map || !pool || !mem) {
		kcb_free(mem);
		kcb_free(pool);
		kcb_free(map);
		return -ENOMEM;
	}
	pool->nbits = kd->nwords;
	pool->avail = (long)kd->nwords;
	pool->mem = mem;
	pool->algo = kcb_uniq_first_fit;
	map->pool = pool;
	kd->map = map;
	return 0;
}

void kcb_uniq_map_forget(struct kcb_uniq_map *map, const uint32_t *buckets, uint32_t n)
{
	struct kcb_uniq_pool *pool = map->pool;

	for (uint32_t i = 0; i < n; i++)
		map->buckets[buckets[i]] = NULL;
	memset(pool->bits, 0, (pool->nbits + 63) / 64 * sizeof(uint64_t));
	pool->avail = (long)pool->nbits;
}

void kcb_uniq_map_clear(struct kcb_uniq_map *map)
{
	memset(map->buckets, 0, sizeof(map->buckets));
	kcb_uniq_map_forget(map, NULL, 0);
}

/* gen_pool_alloc_algo_owner() on one chunk: the avail test, the algo
 * through its pointer, a cmpxchg to set the bit (bitmap_set_ll(); from
 * the start again if another CPU set it first), then avail -= 1. */
kcb_notrace kcb_noinline struct kcb_uniq_entry *kcb_uniq_alloc(struct kcb_uniq_map *map)
{
	struct kcb_uniq_pool *pool = map->pool;
	uint64_t i, v, bit;

	if (READ_ONCE(pool->avail) < 1)
		return NULL;
	for (;;) {
		i = pool->algo(pool->bits, pool->nbits);
		if (i >= pool->nbits)
			return NULL;
		bit = 1ull << (i % 64);
		v = READ_ONCE(pool->bits[i / 64]);
		if (!(v & bit) && kcb_cmpxchg(&pool->bits[i / 64], v, v | bit) == v)
			break;
	}
	kcb_fetch_add((uint64_t *)&pool->avail, (uint64_t)-1);
	return &pool->mem[i];
}

void kcb_task_enable_uniq_hash(struct kcb_task *t, struct kcb_dev *kd)
{
	kcb_task_enable(t, kd, KCB_MODE_TRACE_UNIQ_HASH);
}

void kcb_uniq_map_free(struct kcb_dev *kd)
{
	if (!kd->map)
		return;
	kcb_free(kd->map->pool->mem);
	kcb_free(kd->map->pool);
	kcb_free(kd->map);
	kd->map = NULL;
}
