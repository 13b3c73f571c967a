/* SPDX-License-Identifier: MIT */
#include "twins.h"
/* (d) userland only: simulated hardirq and softirq records. */
int twin_irq(const struct kcb_combo *c);
