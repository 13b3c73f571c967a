/* SPDX-License-Identifier: MIT */
/* Upstream configurations: X("name", front end, pair). */
#define KCB_CONFIGS(X)							\
	X("openbsd-1.48",	obsd_148,	cas)			\
	X("openbsd-1.49",	obsd_149,	cas)			\
	X("linux",		lnx,		plain_count_first)	\
	X("linux-5.x",		lnx,		plain_store_first)	\
	X("freebsd",		freebsd,	store_first_wcas)	\
	X("netbsd",		netbsd,		plain_store_first)
