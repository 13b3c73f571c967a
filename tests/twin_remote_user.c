/* SPDX-License-Identifier: MIT */
/*
 * twin_remote_user.c - the softirq source twin_remote.c needs, in userland:
 * the simulated interrupt (a per-thread timer signal, and one raised on
 * demand) raises a softirq that runs fn(arg) on top of the thread.
 */
#include "twin_remote.h"

#define PERIOD_NS	30000

static __thread void (*soft_fn)(void *);

static void hard(void *arg)
{
	(void)arg;
	if (soft_fn)
		kcb_raise_softirq();
}

static void soft(void *arg)
{
	if (soft_fn)
		soft_fn(arg);
}

int twin_softirq_arm(void (*fn)(void *), void *arg)
{
	soft_fn = fn;
	kcb_sim_irq_handlers(hard, soft, arg);
	return kcb_sim_irq_timer(PERIOD_NS);
}

void twin_softirq_kick(void)
{
	kcb_sim_irq_raise();
}

void twin_softirq_disarm(void)
{
	kcb_sim_irq_timer(0);
	kcb_sim_irq_handlers(NULL, NULL, NULL);
	soft_fn = NULL;
}
