/* SPDX-License-Identifier: MIT */
/*
 * ab_sets.c - the working tree's variants at the four offsets a 16-byte
 * function alignment allows in a 64-byte line: +0 is the ordinary build
 * (64-byte aligned, scripts/configure), +16/+32/+48 its copies with
 * -fpatchable-function-entry=N,N (padding before each function, never
 * run).  `kcovbench ab --base REV` links a generated file in its place
 * that adds REV's sets (scripts/kcb/ab_build.py).
 */
#include "ab.h"

#define AB_LAYOUTS(X)	X(16) X(32) X(48)
#define DECL(l)	const struct kcb_combo *kcbL##l##_kcb_find(const char *name);
AB_LAYOUTS(DECL)
#define SET(l)	{ "work", l, kcbL##l##_kcb_find },

const struct kcb_ab_set kcb_ab_sets[] = {
	{ "work", 0, kcb_find },
	AB_LAYOUTS(SET)
};
const int kcb_nab_sets = sizeof(kcb_ab_sets) / sizeof(kcb_ab_sets[0]);
