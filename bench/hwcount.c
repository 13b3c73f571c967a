/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include "hwcount.h"

static int open_one(uint64_t config, int group)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0);
}

int hw_open(struct hwcount *h)
{
	h->fd_cycles = open_one(PERF_COUNT_HW_CPU_CYCLES, -1);
	if (h->fd_cycles < 0)
		return -1;
	h->fd_insns = open_one(PERF_COUNT_HW_INSTRUCTIONS, h->fd_cycles);
	if (h->fd_insns < 0) {
		close(h->fd_cycles);
		return -1;
	}
	return 0;
}

void hw_read(const struct hwcount *h, uint64_t *cycles, uint64_t *insns)
{
	if (read(h->fd_cycles, cycles, sizeof(*cycles)) != sizeof(*cycles))
		*cycles = 0;
	if (read(h->fd_insns, insns, sizeof(*insns)) != sizeof(*insns))
		*insns = 0;
}

void hw_close(struct hwcount *h)
{
	close(h->fd_insns);
	close(h->fd_cycles);
}

const char *hw_unsupported(void)
{
	static char why[96];
	struct hwcount h;

	if (hw_open(&h) == 0) {
		hw_close(&h);
		return NULL;
	}
	snprintf(why, sizeof(why), "perf_event_open(cycles): %s", strerror(errno));
	return why;
}
