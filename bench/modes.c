/* SPDX-License-Identifier: MIT */
/*
 * modes.c - set-up and tear-down around mode_batch() (modes.h), shared by
 * the userland benchmark and the module.
 */
#include "modes.h"
#include "../workload/variants.h"

#define KCB_MODE_DESC(id, name, cases, flags)	{ name, cases, flags },
const struct kcb_mode kcb_modes[MODE_MAX] = { KCB_MODES(KCB_MODE_DESC) };
#define KCB_MODE_NAME(id, name, cases, flags)	name,
const char *const kcb_mode_names[MODE_MAX] = { KCB_MODES(KCB_MODE_NAME) };

int kcb_mode_find(const char *name)
{
	int m;

	for (m = 0; m < MODE_MAX; m++)
		if (!strcmp(name, kcb_mode_names[m]))
			return m;
	return -1;
}

/* The modes whose flags include all of want (0: those with cases too). */
static unsigned int modes_with(unsigned int want)
{
	unsigned int bits = 0;
	int m;

	for (m = 0; m < MODE_MAX; m++)
		if (want ? (kcb_modes[m].flags & want) == want : kcb_modes[m].cases > 0)
			bits |= 1u << m;
	return bits;
}

unsigned int kcb_modes_default(void)
{
	return modes_with(KCB_MF_DEFAULT);
}

unsigned int kcb_modes_switch(void)
{
	return modes_with(0);
}

static const struct kcb_workload_variant workloads[] = KCB_WORKLOAD_VARIANTS;

kcb_workload_fn kcb_workload_of(const struct kcb_combo *c)
{
	const char *config = c ? NULL : "none";
	unsigned int i;
	int j;

#ifndef __KERNEL__
	/* a real kernel/kcov.o (kobj/): scripts/kobj-bundle's copy of the
	 * workload, its hooks that object's */
	if (c && c->fe->real_kernel)
		return kcb_kobj_workload ? kcb_kobj_workload(c) : NULL;
#endif
	for (j = 0; j < kcb_nconfigs && !config; j++)
		if (kcb_configs[j].combo == c)
			config = kcb_configs[j].name;
	for (i = 0; config && i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].config, config))
			return workloads[i].run;
	return NULL;
}

int kcb_mode_fits(int mode, const struct kcb_combo *c)
{
	unsigned int f = kcb_modes[mode].flags;

	/* a real kernel/kcov.o (kobj/) runs its hooks' modes only: the shared
	 * mode needs kcov_move_area(), not a hook; the workload runs where
	 * kobj-bundle linked a copy against the object's hooks (below) */
	if (c && c->fe->real_kernel && ((f & (KCB_MF_SHARED |
	    KCB_MF_GUARD | KCB_MF_HASH))))
		return 0;
	if (f & KCB_MF_WORKLOAD)
		return kcb_workload_of(c) != NULL;
	/* the empty hook runs trace_pc in the unique modes */
	if (f & KCB_MF_GUARD)
		return !c || c->loop_guard;
	if (f & KCB_MF_HASH)
		return !c || c->loop_pc_at;
	return 1;
}

int mode_run_init(struct mode_run *r, const struct kcb_combo *c, int mode,
    uint64_t buf_words)
{
	uint64_t batch_words;
	unsigned int f;

	memset(r, 0, sizeof(*r));
	if (mode < 0 || mode >= MODE_MAX)
		return -EINVAL;
	/* a real kernel/kcov.o: refused by name (bench.c) */
	if (c && c->fe->real_kernel && !kcb_mode_fits(mode, c))
		return -EOPNOTSUPP;
	/* switch modes' buffers are reset at the cmp stride, -pc ones too */
	batch_words = (uint64_t)KCB_BATCH *
	    (mode_cmp(mode) || mode_switch_cases(mode) ? KCB_STRIDE_CMP : 1) + 1;
	if (buf_words == KCB_BUFFER_BATCH)
		buf_words = batch_words;
	if (buf_words < batch_words || buf_words > KCB_BUFFER_WORDS_MAX)
		return -EINVAL;
	if (!kcb_mode_fits(mode, c))
		return -EINVAL;
	r->c = c;
	r->mode = mode;
	r->buf_words = buf_words;
	f = kcb_modes[mode].flags;
	if (f & KCB_MF_WORKLOAD)
		r->workload = kcb_workload_of(c);
	if ((f & KCB_MF_GUARD) && c) {
		uint32_t i;

		r->guards = kcb_zalloc(KCB_GUARD_SITES * sizeof(*r->guards));
		if (!r->guards)
			return -ENOMEM;
		/* indices given in order, so the batch knows their words */
		for (i = 0; i < KCB_GUARD_SITES; i++)
			kcb_guard_init(&r->guards[i]);
		if (r->guards[KCB_GUARD_SITES - 1] >= KCB_GUARD_BITS) {
			kcb_free(r->guards);
			r->guards = NULL;
			return -ENOSPC;
		}
		return 0;
	}
	if ((f & KCB_MF_HASH) && c) {
		uintptr_t base = (uintptr_t)&mode_run_init;
		uint32_t i;

		r->rets = kcb_zalloc(KCB_GUARD_SITES * sizeof(*r->rets));
		r->rets_bucket = kcb_zalloc(KCB_GUARD_SITES * sizeof(*r->rets_bucket));
		if (!r->rets || !r->rets_bucket) {
			mode_run_fini(r);
			return -ENOMEM;
		}
		/* call sites 5 bytes apart, as `call` instructions are */
		for (i = 0; i < KCB_GUARD_SITES; i++) {
			r->rets[i] = base + 5 * i;
			r->rets_bucket[i] = kcb_uniq_bucket(kcb_jhash_u64(
			    r->rets[i] - kcb_kaslr_offset()));
		}
		return 0;
	}
	if ((f & KCB_MF_SHARED) && c) {
		int err = kcb_dev_init(&r->owner, KCB_SHARED_WORDS);

		/* other threads write it: a remote attached before tracing */
		return err ? err : kcb_dev_share(&r->owner);
	}
	if (mode_switch_cases(mode)) {
		uint64_t n = mode_switch_cases(mode), i;

		r->cases = kcb_zalloc((2 + n) * sizeof(*r->cases));
		if (!r->cases)
			return -ENOMEM;
		r->cases[0] = n;
		r->cases[1] = 32;		/* a switch on an int */
		for (i = 0; i < n; i++)
			r->cases[2 + i] = 3 * i + 1;
	}
	return 0;
}

void mode_run_reset(struct mode_run *r)
{
	if (!r->owner.buf)
		return;
	kcb_dev_reset(&r->owner);
	r->owner.mode = KCB_MODE_TRACE_PC;
	r->owner.state = KCB_STATE_TRACE;
	r->owner.enabled = 1;
}

void mode_run_fini(struct mode_run *r)
{
	if (r->owner.buf)
		kcb_dev_fini(&r->owner);
	kcb_free(r->cases);
	r->cases = NULL;
	kcb_free(r->guards);
	r->guards = NULL;
	kcb_free(r->rets);
	r->rets = NULL;
	kcb_free(r->rets_bucket);
	r->rets_bucket = NULL;
}

int mode_thread_init(struct mode_run *r, struct mode_thread *t)
{
	uint64_t words = r->buf_words;
	int err;

	memset(t, 0, sizeof(*t));
	if (kcb_modes[r->mode].flags & KCB_MF_WORKLOAD) {
		words = KCB_WORKLOAD_WORDS;
		t->scratch = kcb_zalloc(KCB_WORKLOAD_SCRATCH);
		if (!t->scratch)
			return -ENOMEM;
	}
	err = kcb_dev_init(&t->own, words);
	if (err) {
		kcb_free(t->scratch);
		t->scratch = NULL;
		return err;
	}
	if (r->guards) {
		t->bitmap = kcb_zalloc(KCB_GUARD_BITS / 8);
		if (!t->bitmap) {
			kcb_dev_fini(&t->own);
			return -ENOMEM;
		}
	} else if (r->rets) {
		/* the pool holds an entry per buffer word: KCB_GUARD_SITES fit */
		err = kcb_uniq_map_init(&t->own);
		if (err) {
			kcb_dev_fini(&t->own);
			return err;
		}
	}
	mode_thread_enable(r, t);
	return 0;
}

void mode_thread_enable(struct mode_run *r, struct mode_thread *t)
{
	struct kcb_task *task = kcb_current();

	if (r->guards)
		kcb_task_enable_unique(task, &t->own, t->bitmap, KCB_GUARD_BITS);
	else if (r->rets)
		kcb_task_enable_uniq_hash(task, &t->own);
	else if ((kcb_modes[r->mode].flags & KCB_MF_SHARED) && r->c &&
	    r->c->pair->shareable_pc)
		kcb_task_attach(task, &r->owner);
	else
		kcb_task_enable(task, &t->own, mode_cmp(r->mode) ?
		    KCB_MODE_TRACE_CMP : KCB_MODE_TRACE_PC);
}

void mode_thread_fini(struct mode_run *r, struct mode_thread *t)
{
	(void)r;
	kcb_task_disable(kcb_current());
	kcb_dev_fini(&t->own);
	kcb_free(t->scratch);
	t->scratch = NULL;
	kcb_free(t->bitmap);
	t->bitmap = NULL;
}
