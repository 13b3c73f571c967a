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
	kcb_uniq_map_free(kd);
	kcb_free(kd->buf);
	kd->buf = NULL;
}

void kcb_dev_reset(struct kcb_dev *kd)
{
	memset(kd->buf, 0, kd->nwords * sizeof(uint64_t));
	kd->lost = 0;
}

int kcb_dev_share(struct kcb_dev *kd)
{
	if (kd->state != KCB_STATE_READY)
		return -EBUSY;
	kd->shared = 1;
	return 0;
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
	kcb_ctx_changed();
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
	kcb_ctx_changed();
}
