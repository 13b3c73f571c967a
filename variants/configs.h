/* SPDX-License-Identifier: MIT */
/* Upstream configurations: X("name", front end, pair).  linux-5.x is 5.x's
 * store-first claim behind the 2024 front end (5.x itself tested
 * in_serving_softirq(); see fe_lnx.c): it isolates the claim's change. */
#define KCB_CONFIGS(X)							\
	X("openbsd-1.48",	obsd_148,	cas)			\
	X("openbsd-1.49",	obsd_149,	cas)			\
	X("linux",		lnx,		plain_count_first)	\
	X("linux-5.x",		lnx,		plain_store_first)	\
	X("freebsd",		freebsd,	store_first_wcas)	\
	X("netbsd",		netbsd,		plain_store_first)

/* Proposals (marked so in `list` and every table): X("name", front end,
 * pair), each the upstream configuration it would patch with one part
 * replaced.  An upstream patch that was not merged is here too, its front
 * end marked KCB_FE_UNMERGED (`list` says so). */
#define KCB_PROPOSED_CONFIGS(X)						\
	X("proposed-openbsd",	obsd_149,	owner_plain)		\
	X("proposed-openbsd-chunk", obsd_149,	chunk)			\
	X("proposed-linux",	lnx_once,	plain_count_first)	\
	X("proposed-linux-unique", lnx_unique,	plain_count_first)	\
	X("proposed-linux-uniq-hash", lnx_uniq_hash, plain_count_first) \
	X("linux-ext-records",	lnx_ext_v1,	plain_count_first)	\
	X("proposed-linux-ext-mode", lnx_ext_mode, plain_count_first)
