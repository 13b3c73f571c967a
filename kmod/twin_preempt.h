/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twin_preempt.h - a softirq remote section preempted on its CPU by a
 * higher-priority task with a section of its own (twin_preempt_kernel.c).
 * Returns the number of problems, logged.
 */
#ifndef KCB_TWIN_PREEMPT_H
#define KCB_TWIN_PREEMPT_H

#include "../variants/remote.h"

int twin_preempt(const struct kcb_remote_ops *r, unsigned long rounds);

#endif
