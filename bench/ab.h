/* SPDX-License-Identifier: MIT */
/* ab.h - `kcovbench ab` (ab.c) and the variant sets it picks from. */
#ifndef KCB_AB_H
#define KCB_AB_H
#include "../variants/variant.h"

/*
 * One build of every variant: the working tree's or a base commit's
 * (`kcovbench ab --base REV`), with its hooks at one offset in a 64-byte
 * line.  Each set's registry (its kcb_find) is its own, the symbols of its
 * objects renamed apart (scripts/ab-prefix).
 */
struct kcb_ab_set {
	const char *build;	/* "work" or "base" */
	int layout;		/* every function's offset in its 64-byte line */
	const struct kcb_combo *(*find)(const char *name);
};
extern const struct kcb_ab_set kcb_ab_sets[];
extern const int kcb_nab_sets;

int ab_main(int argc, char **argv);
/* kcovbench.c: the build and machine facts, each through put(). */
void kcb_context(void (*put)(const char *key, const char *val));

#endif
