/* SPDX-License-Identifier: MIT */
/*
 * Linux kernel/kcov.c check_kcov_mode() and canonicalize_ip() in their
 * 2024 form, for the front ends that share them (fe_lnx.c, and the
 * linux-switch-once and unique-mode proposals).  See fe_lnx.c for the
 * origin.
 */
/* The mode this context may record in (0 for none), as check_kcov_mode()
 * tests one: the unique mode's hook accepts two. */
static __always_inline unsigned int lnx_mode(struct kcb_task *t)
{
	if (!kcb_in_task() && !(kcb_in_softirq_really() && t->kcov_softirq))
		return 0;
	return READ_ONCE(t->kcov_mode);
}

static __always_inline void lnx_sink(struct kcb_task *t, struct kcb_sink *s)
{
	s->buf = t->kcov_area;
	s->nwords = t->kcov_size;
	s->nmemb = t->kcov_nmemb;
	s->shared = t->kcov_shared;
	s->t = t;
	s->mode = 0;	/* no claim reads it: the compiler drops the store */
}

/* check_kcov_mode()'s compare, and the mode word a claim may read: a front
 * end with more than the mode in the word replaces them (fe_lnx_ext_mode.c) */
#ifndef LNX_MODE_MATCH
#define LNX_MODE_MATCH(m, mode)	((m) == (unsigned int)(mode))
#endif
#ifndef LNX_SINK_MODE
#define LNX_SINK_MODE(m)	0
#endif

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_task *t = kcb_current();
	unsigned int m;

	if (!kcb_in_task() && !(kcb_in_softirq_really() && t->kcov_softirq))
		return false;
	m = READ_ONCE(t->kcov_mode);
	barrier();
	if (!LNX_MODE_MATCH(m, mode))
		return false;
	lnx_sink(t, s);
	s->mode = LNX_SINK_MODE(m);
	return true;
}

/* The unique mode's hook takes trace-pc or unique mode (template.h). */
static __always_inline unsigned int fe_lookup_guard(struct kcb_sink *s)
{
	struct kcb_task *t = kcb_current();
	unsigned int m = lnx_mode(t);

	barrier();
	if (m == KCB_MODE_TRACE_PC || m == KCB_MODE_TRACE_UNIQUE_PC)
		lnx_sink(t, s);
	return m;
}

/* canonicalize_ip(): image-relative PCs under KASLR */
#define FE_PC(ret)		((ret) - kcb_kaslr_offset())

/* Jiao's KCOV_TRACE_UNIQ_PC trace_pc test (fe_lnx_uniq_hash.c): true if
 * the PC of ret is to be appended.  chain false looks at a bucket's first
 * entry only: its broken control. */
static __always_inline bool lnx_uniq_hash_rec(struct kcb_sink *s, uintptr_t ret, bool chain)
{
	struct kcb_task *t = kcb_current();
	unsigned int m = lnx_mode(t);

	barrier();
	if (m != KCB_MODE_TRACE_PC && m != KCB_MODE_TRACE_UNIQ_HASH)
		return false;
	lnx_sink(t, s);
	/* the patch reads t->kcov_mode a second time to pick the path */
	m = READ_ONCE(t->kcov_mode);
	return m == KCB_MODE_TRACE_PC ||
	    kcb_uniq_test(t, FE_PC(ret), chain);
}
