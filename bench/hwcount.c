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

/*
 * One counter's value.  A failed read ends the process (exit 1, from any
 * thread): a 0 in its place would pass for a count, and the callers have
 * no way to drop the row.
 */
static uint64_t read_one(int fd, const char *name)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n == (ssize_t)sizeof(v))
		return v;
	fprintf(stderr, "kcovbench: reading the %s counter failed: %s\n", name,
	    n < 0 ? strerror(errno) : "short read");
	_exit(1);
}

void hw_read(const struct hwcount *h, uint64_t *cycles, uint64_t *insns)
{
	*cycles = read_one(h->fd_cycles, "cycles");
	*insns = read_one(h->fd_insns, "instructions");
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
