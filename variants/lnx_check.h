/* SPDX-License-Identifier: MIT */
/*
 * Linux kernel/kcov.c check_kcov_mode() and canonicalize_ip() in their
 * 2024 form, for the front ends that share them (fe_lnx.c, and the
 * linux-switch-once proposal).  See fe_lnx.c for the origin.
 */
static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_task *t = kcb_current();
	unsigned int m;

	if (!kcb_in_task() && !(kcb_in_softirq_really() && t->kcov_softirq))
		return false;
	m = READ_ONCE(t->kcov_mode);
	barrier();
	if (m != (unsigned int)mode)
		return false;
	s->buf = t->kcov_area;
	s->nwords = t->kcov_size;
	s->nmemb = t->kcov_nmemb;
	s->shared = t->kcov_shared;
	s->t = t;
	return true;
}

/* canonicalize_ip(): image-relative PCs under KASLR */
#define FE_PC(ret)		((ret) - kcb_kaslr_offset())
