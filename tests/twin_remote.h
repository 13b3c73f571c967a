/* SPDX-License-Identifier: MIT */
/*
 * twin_remote.h - correctness twins of the remote-section variants, written
 * against the contract so that the module can run them too.
 *
 * The module must provide the three twin_softirq_* functions below (an
 * hrtimer in HRTIMER_MODE_REL_SOFT, or a tasklet that kick schedules
 * between local_bh_disable() and local_bh_enable()); tests/twin_remote_user.c
 * provides them in userland with the simulated interrupts.
 */
#ifndef KCB_TWIN_REMOTE_H
#define KCB_TWIN_REMOTE_H

#include "../variants/remote.h"

/* Run fn(arg) in softirq context on this CPU, on top of whatever the
 * calling thread is doing: now and then, and at every kick. */
int  twin_softirq_arm(void (*fn)(void *), void *arg);
void twin_softirq_kick(void);
void twin_softirq_disarm(void);

/*
 * Sections by nthreads threads (task context) and by softirqs on top of
 * threads that trace into their own buffers, all for one owner:
 *  - exactly once: every record of an opened section is in the owner's
 *    buffer once; nothing torn, nothing from a section that did not open;
 *  - overflow: a small owner buffer; records present + owner->lost ==
 *    records made (moved variants; direct ones drop in the hook unseen);
 *  - saved state: a task's own kcov fields and records are its own after
 *    every softirq section on top of it;
 *  - areas: none leaked, none handed out twice (the variant's fini);
 *  - teardown: disable while sections run returns (a hang is the caller's
 *    watchdog's to catch), and nothing reaches the owner afterwards.
 * Returns the number of problems, logged; notes (upstream assertions that
 * fire only in teardown) are logged and not counted.
 */
int twin_remote(const struct kcb_remote_ops *r, int nthreads, uint64_t nsections);

/* Lookups: add, find, del of many handles from many threads. */
int twin_lookup(const struct kcb_lookup_ops *l, int nthreads, uint64_t nhandles);

#endif
