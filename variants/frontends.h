/* SPDX-License-Identifier: MIT */
/* The front ends: one fe_<id>.c each, and a line here (scripts/configure
 * and kmod/Kbuild read the X() lines). */
#define KCB_FRONTENDS(X)	\
	X(obsd_148)		\
	X(obsd_149)		\
	X(lnx)		\
	X(lnx_once)	\
	X(lnx_unique)	\
	X(lnx_uniq_hash)	\
	X(lnx_ext_v1)		\
	X(lnx_ext_mode)	\
	X(freebsd)		\
	X(netbsd)

/* Broken on purpose, for the tests only: built like the others, never in
 * kcb_frontends (so never benchmarked), each one's first combo a broken
 * control its proposal's twin must catch (registry.c): the unique twin for
 * an FE_GUARD one, the uniq-hash twin for an FE_UNIQ_HASH one, else the
 * cmp-layout twin. */
#define KCB_BROKEN_FRONTENDS(X)	\
	X(lnx_once_broken)	\
	X(lnx_unique_broken)	\
	X(lnx_uniq_hash_broken)
