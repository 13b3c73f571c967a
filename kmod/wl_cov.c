// SPDX-License-Identifier: MIT
/*
 * The workload, built with -fsanitize-coverage=trace-pc,trace-cmp (Kbuild):
 * kbuild makes one object per source, and the workload needs two builds,
 * this and wl_plain.c.  Never linked as it is: Kbuild copies it once per
 * upstream configuration with the hooks renamed (wl__<fe>__<pair>.o).
 */
#include "../workload/workload.c"
