/* SPDX-License-Identifier: MIT */
/*
 * kcb_common.c - descriptor and task set-up, shared by both builds.
 */
#include "kcb.h"

int kcb_cold = 1;
const char *kcb_panicstr;
int kcb_db_active;

int kcb_dev_init(struct kcb_dev *kd, uint64_t nwords)
{
	memset(kd, 0, sizeof(*kd));
	if (nwords < 2 || nwords > (1ull << 28))
		return -EINVAL;
	kd->buf = kcb_zalloc(nwords * sizeof(uint64_t));
	if (!kd->buf)
		return -ENOMEM;
	kd->nwords = nwords;
	kd->nmemb = nwords - 1;
	kd->state = KCB_STATE_READY;
	kcb_spin_lock_init(&kd->lock);
	/* OpenBSD: tracing starts once the first descriptor is opened. */
	WRITE_ONCE(kcb_cold, 0);
	return 0;
}

void kcb_dev_fini(struct kcb_dev *kd)
{
	if (kd->map) {
		kcb_free(kd->map->pool->mem);
		kcb_free(kd->map->pool);
		kcb_free(kd->map);
		kd->map = NULL;
	}
	kcb_free(kd->buf);
	kd->buf = NULL;
}

void kcb_dev_reset(struct kcb_dev *kd)
{
	memset(kd->buf, 0, kd->nwords * sizeof(uint64_t));
	kd->lost = 0;
}

/* 32: the knee of `./kcovbench run --chunk-records K` at 2 threads
 * (results/proposals/chunk-k.txt). */
uint64_t kcb_chunk_records = 32;

/* [a] the last guard index given out */
static uint32_t kcb_guard_last;

uint32_t kcb_guard_init(uint32_t *guard)
{
	uint32_t idx = (uint32_t)kcb_fetch_add_u32(&kcb_guard_last, 1) + 1;
	uint32_t was = kcb_cmpxchg_u32(guard, 0, idx);

	return was ? was : idx;		/* another CPU gave it one first */
}

/* clang's trace_pc_guard_init(start, stop), from its module constructor:
 * nothing to do, the hook gives each guard its index on its first call. */
void kcb_guard_init_range(uint32_t *start, uint32_t *stop)
{
	(void)start;
	(void)stop;
}

void kcb_task_enable_unique(struct kcb_task *t, struct kcb_dev *kd,
    uint64_t *bitmap, uint64_t bits)
{
	t->kcov_bitmap = bitmap;
	t->kcov_bitmap_bits = bits;
	kcb_task_enable(t, kd, KCB_MODE_TRACE_UNIQUE_PC);
}

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

int kcb_dev_share(struct kcb_dev *kd)
{
	if (kd->state != KCB_STATE_READY)
		return -EBUSY;
	kd->shared = 1;
	return 0;
}

/* A reader parses [1, count]: the slots a writer reserved and did not fill
 * read as zero records (PC 0, or {0, 0, 0, 0}), which no hook writes. */
void kcb_chunk_close(struct kcb_task *t)
{
	uint64_t *buf = t->ck_buf;

	if (!buf)
		return;
	for (uint64_t i = t->ck_pos; i < t->ck_end; i++)
		buf[i] = 0;
	t->ck_buf = NULL;
	t->ck_pos = t->ck_end = 0;
}

/* Make t trace into kd, filling every OS's view of "enabled". */
void kcb_task_enable(struct kcb_task *t, struct kcb_dev *kd, int mode)
{
	kd->mode = mode;
	kd->state = KCB_STATE_TRACE;
	kd->enabled = 1;
	kd->silenced = 0;
	kcb_task_attach(t, kd);
}

/* Point t at kd, already enabled (a buffer shared by many tasks). */
void kcb_task_attach(struct kcb_task *t, struct kcb_dev *kd)
{
	unsigned int mode = (unsigned int)kd->mode;

	kcb_chunk_close(t);
	t->kd = kd;
	t->kcov_shared = kd->shared;
	t->kcov = kd;
	t->kcov_area = kd->buf;
	t->kcov_size = (unsigned int)kd->nwords;
	t->kcov_nmemb = (unsigned int)kd->nmemb;
	t->kcov_sequence++;
	barrier();
	WRITE_ONCE(t->kcov_mode, mode);
}

/* Stop t tracing; the descriptor (maybe shared) is left as it is. */
void kcb_task_disable(struct kcb_task *t)
{
	WRITE_ONCE(t->kcov_mode, KCB_MODE_NONE);
	barrier();
	kcb_chunk_close(t);
	t->kd = NULL;
	t->kcov_shared = 0;
	t->kcov_bitmap = NULL;
	t->kcov_bitmap_bits = 0;
	t->kcov = NULL;
	t->kcov_area = NULL;
	t->kcov_size = 0;
	t->kcov_nmemb = 0;
}
