/* SPDX-License-Identifier: MIT */
/*
 * kcovbench - the userland binary: `list`, and the benchmarks (bench.c).
 * The top-level ./kcovbench script builds this and dispatches to it.
 */
#include <string.h>
#include "list.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return kcb_list(stdout);
	fprintf(stderr, "usage: kcovbench list\n");
	return 2;
}
