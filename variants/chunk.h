/* SPDX-License-Identifier: MIT */
/*
 * chunk.h - the chunk claim's tunable and its close (claim_chunk.h): a
 * task reserves kcb_chunk_records records per atomic and fills them with
 * plain stores; what it reserved and did not fill is zeroed on close.
 */
#ifndef KCB_CHUNK_H
#define KCB_CHUNK_H

#include "../hotpath/kcb.h"

/* Records reserved per atomic; `kcovbench run --chunk-records K` sets it. */
extern uint64_t kcb_chunk_records;	/* [I] while tracing */
/* kcb_chunk_close(t), declared in hotpath/kcb.h: the set-up calls it. */

#endif
