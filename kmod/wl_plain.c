// SPDX-License-Identifier: MIT
/*
 * The workload uninstrumented, copied as kcb_workload__none (Kbuild): the
 * baseline that the per-configuration copies of wl_cov.c are read against.
 */
#include "../workload/workload.c"
