/* SPDX-License-Identifier: MIT */
/*
 * front end "obsd-1.48": OpenBSD sys/dev/kcov.c rev 1.48, kd_curproc().
 * panicstr/db_active first, then kcov_cold, then curproc->p_kd (curcpu()
 * read #1) and its mode; then inintr() reads curcpu() again (#2) for
 * ci_idepth and rejects unless kd_intr.  trace_switch looks up once.
 */
#include "variant.h"

#define FE			obsd_148
#define FE_NAME			"obsd-1.48"
#define FE_ORIGIN		"OpenBSD sys/dev/kcov.c rev 1.48 kd_curproc()"
#define FE_SWITCH_PER_CASE	0
#define FE_INDIRECT		0

static __always_inline bool fe_lookup(int mode, struct kcb_sink *s)
{
	struct kcb_dev *kd;

	if (unlikely(READ_ONCE(kcb_panicstr) || READ_ONCE(kcb_db_active)))
		return false;
	if (unlikely(READ_ONCE(kcb_cold)))
		return false;
	kd = kcb_curcpu()->curtask->kd;		/* curproc->p_kd */
	if (likely(kd == NULL) || kd->mode != mode)
		return false;
	if (kcb_curcpu()->idepth > 0 && kd->intr == 0)	/* inintr() */
		return false;
	*s = kcb_sink_of(kd);
	return true;
}

#include "template.h"
