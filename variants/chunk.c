/* SPDX-License-Identifier: MIT */
/*
 * chunk.c - the chunk claim's tunable and the close of a task's chunk.
 */
#include "chunk.h"

/* 32: the knee of `./kcovbench run --chunk-records K` at 2 threads
 * (results/proposals/chunk-k.txt). */
uint64_t kcb_chunk_records = 32;

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
