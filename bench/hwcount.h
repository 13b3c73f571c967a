/* SPDX-License-Identifier: MIT */
/* Per-thread cycles and instructions through perf_event_open, where the
 * machine has hardware counters (many VMs, this one included, do not). */
#include <stdint.h>

struct hwcount {
	int fd_cycles, fd_insns;
};

/* NULL if supported, else why not (for the results' key line). */
const char *hw_unsupported(void);
int  hw_open(struct hwcount *h);		/* 0, or -1 if unsupported */
/* Both counts; a failed read is reported and ends the process, exit 1. */
void hw_read(const struct hwcount *h, uint64_t *cycles, uint64_t *insns);
void hw_close(struct hwcount *h);
