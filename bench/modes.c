/* SPDX-License-Identifier: MIT */
/*
 * modes.c - set-up and tear-down around mode_batch() (modes.h), shared by
 * the userland benchmark and the module.
 */
#include "modes.h"
#include "../workload/variants.h"

const char *const kcb_mode_names[MODE_MAX] = {
	"pertask", "shared", "cmp", "workload",
	"switch4", "switch16", "switch64", "switch256",
	"switch4-pc", "switch16-pc", "switch64-pc", "switch256-pc",
	"guard-first", "guard-repeat",
	"hash-first", "hash-repeat",
};

int kcb_mode_find(const char *name)
{
	int m;

	for (m = 0; m < MODE_MAX; m++)
		if (!strcmp(name, kcb_mode_names[m]))
			return m;
	return -1;
}

static const struct kcb_workload_variant workloads[] = KCB_WORKLOAD_VARIANTS;

kcb_workload_fn kcb_workload_of(const struct kcb_combo *c)
{
	const char *config = c ? NULL : "none";
	unsigned int i;
	int j;

	for (j = 0; j < kcb_nconfigs && !config; j++)
		if (kcb_configs[j].combo == c)
			config = kcb_configs[j].name;
	for (i = 0; config && i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].config, config))
			return workloads[i].run;
	return NULL;
}

int mode_run_init(struct mode_run *r, const struct kcb_combo *c, int mode,
    uint64_t buf_words)
{
	uint64_t batch_words;

	memset(r, 0, sizeof(*r));
	if (mode < 0 || mode >= MODE_MAX)
		return -EINVAL;
	/* issue 24: a real kernel/kcov.o (kobj/) runs its hooks' modes only:
	 * the shared mode needs kcov_move_area(), which is not a hook, and the
	 * workload has no copy linked against it yet */
	if (c && c->fe->real_kernel && mode != MODE_PERTASK && mode != MODE_CMP &&
	    !mode_switch_cases(mode))
		return -EOPNOTSUPP;
	batch_words = (uint64_t)KCB_BATCH *
	    (mode == MODE_CMP || mode_switch_cases(mode) ? KCB_STRIDE_CMP : 1) + 1;
	if (buf_words == KCB_BUFFER_BATCH)
		buf_words = batch_words;
	if (buf_words < batch_words || buf_words > KCB_BUFFER_WORDS_MAX)
		return -EINVAL;
	r->c = c;
	r->mode = mode;
	r->buf_words = buf_words;
	if (mode == MODE_WORKLOAD) {
		r->workload = kcb_workload_of(c);
		if (!r->workload)
			return -EINVAL;
	}
	if (mode == MODE_GUARD_FIRST || mode == MODE_GUARD_REPEAT) {
		uint32_t i;

		if (!c || !c->loop_guard)
			return c ? -EINVAL : 0;	/* the empty hook runs trace_pc */
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
	if (mode == MODE_HASH_FIRST || mode == MODE_HASH_REPEAT) {
		uintptr_t base = (uintptr_t)&mode_run_init;
		uint32_t i;

		if (!c || !c->loop_pc_at)
			return c ? -EINVAL : 0;	/* the empty hook runs trace_pc */
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
	if (mode == MODE_SHARED && c) {
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
	if (r->mode == MODE_WORKLOAD) {
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
	else if (r->mode == MODE_SHARED && r->c && r->c->pair->shareable_pc)
		kcb_task_attach(task, &r->owner);
	else
		kcb_task_enable(task, &t->own, r->mode == MODE_CMP ||
		    (mode_switch_cases(r->mode) && !mode_switch_pc(r->mode)) ?
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
