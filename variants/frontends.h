/* SPDX-License-Identifier: MIT */
/* The front ends: one fe_<id>.c each.  Add a line here and in build.ninja. */
#define KCB_FRONTENDS(X)	\
	X(obsd_148)		\
	X(obsd_149)		\
	X(lnx)		\
	X(lnx_once)	\
	X(lnx_unique)	\
	X(freebsd)		\
	X(netbsd)
