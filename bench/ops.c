/* SPDX-License-Identifier: MIT */
/*
 * ops.c - `kcovbench ops`: exactly N hook calls of one config and mode on
 * one pinned thread, for instruction counts (callgrind's
 * --toggle-collect='kcb_*__loop_*', or perf stat --control).  No timing.
 *
 *   kcovbench ops --config=NAME [--mode=pertask|shared|cmp|switchN[-pc]|guard-first|guard-repeat|hash-first|hash-repeat] [--ops=N]
 *                 [--perf-ctl=CTL_FIFO,ACK_FIFO]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench.h"

#define BATCH	1024

/* perf stat --control fifo:CTL,ACK: count only the measured loop. */
static int perf_cmd(int ctl, int ack, const char *cmd)
{
	char buf[8];

	if (ctl < 0)
		return 0;
	if (write(ctl, cmd, strlen(cmd)) < 0 || read(ack, buf, sizeof(buf)) <= 0)
		return -1;
	return 0;
}

/*
 * --ops=N: decimal digits only.  strtoull alone takes a sign (-1024 is
 * 2^64 - 1024, a loop without end), blanks and hex, and saturates on
 * overflow.
 */
static int parse_ops(const char *s, uint64_t *n)
{
	char *end = (char *)s;

	errno = 0;
	if (*s >= '0' && *s <= '9')
		*n = strtoull(s, &end, 10);
	if (end == s || *end || errno || !*n || *n % BATCH) {
		fprintf(stderr, "kcovbench ops: --ops=%s: want a positive multiple of %d "
			"in decimal\n", s, BATCH);
		return -1;
	}
	return 0;
}

int ops_main(int argc, char **argv)
{
	const char *config = NULL, *mode = "pertask";
	uint64_t n = 1 << 20, i;
	const struct kcb_combo *c;
	struct kcb_dev own, owner;
	int ctl = -1, ack = -1, cmp, shared, guard, hash;
	static uint32_t guards[KCB_GUARD_SITES];
	static uintptr_t rets[KCB_GUARD_SITES];
	static uint64_t bitmap[KCB_GUARD_BITS / 64];
	uint64_t sw, cases[2 + KCB_SWITCH_MAX];

	for (i = 1; i < (uint64_t)argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "--config=", 9)) {
			config = a + 9;
		} else if (!strncmp(a, "--mode=", 7)) {
			mode = a + 7;
		} else if (!strncmp(a, "--ops=", 6)) {
			if (parse_ops(a + 6, &n))
				return 2;
		} else if (!strncmp(a, "--perf-ctl=", 11)) {
			char *p = strdup(a + 11), *comma = strchr(p, ',');

			if (!comma) {
				fprintf(stderr, "kcovbench ops: --perf-ctl=CTL,ACK\n");
				return 2;
			}
			*comma = 0;
			ctl = open(p, O_WRONLY);
			ack = open(comma + 1, O_RDONLY);
			if (ctl < 0 || ack < 0) {
				perror("kcovbench ops: perf control fifo");
				return 2;
			}
		} else {
			fprintf(stderr, "kcovbench ops: bad option '%s'\n", a);
			return 2;
		}
	}
	c = config ? kcb_find(config) : NULL;
	if (!c && !(config && !strcmp(config, "empty"))) {
		fprintf(stderr, "kcovbench ops: unknown config '%s'\n", config ? config : "");
		return 2;
	}
	cmp = !strcmp(mode, "cmp");
	shared = !strcmp(mode, "shared");
	sw = mode_switch_cases(kcb_mode_find(mode));
	guard = kcb_mode_find(mode) == MODE_GUARD_FIRST ? 1 :
	    kcb_mode_find(mode) == MODE_GUARD_REPEAT ? 2 : 0;
	if (guard && (!c || !c->loop_guard)) {
		fprintf(stderr, "kcovbench ops: %s has no trace_pc_guard\n", config);
		return 2;
	}
	hash = kcb_mode_find(mode) == MODE_HASH_FIRST ? 1 :
	    kcb_mode_find(mode) == MODE_HASH_REPEAT ? 2 : 0;
	if (hash && (!c || !c->loop_pc_at)) {
		fprintf(stderr, "kcovbench ops: %s has no hash-table unique mode\n", config);
		return 2;
	}
	if (!cmp && !shared && !sw && !guard && !hash && strcmp(mode, "pertask")) {
		fprintf(stderr, "kcovbench ops: bad mode '%s'\n", mode);
		return 2;
	}
	if (sw) {
		/* {n, 32, cases}, as the benchmark's switch modes (modes.c) */
		cases[0] = sw;
		cases[1] = 32;
		for (i = 0; i < sw; i++)
			cases[2 + i] = 3 * i + 1;
		cmp = !mode_switch_pc(kcb_mode_find(mode));
	}
	if (kcb_thread_attach(0, true) < 0 ||
	    kcb_dev_init(&own, (uint64_t)BATCH * (cmp || sw ? 4 : 1) + 1) ||
	    kcb_dev_init(&owner, 1u << 20))
		return 1;
	if (shared && c && c->pair->shareable_pc) {
		kcb_dev_share(&owner);		/* READY: cannot fail */
		owner.mode = KCB_MODE_TRACE_PC;
		owner.state = KCB_STATE_TRACE;
		owner.enabled = 1;
		kcb_task_attach(kcb_current(), &owner);
	} else if (guard) {
		for (i = 0; i < KCB_GUARD_SITES; i++)
			kcb_guard_init(&guards[i]);
		kcb_task_enable_unique(kcb_current(), &own, bitmap, KCB_GUARD_BITS);
		c->loop_guard(BATCH, guards, KCB_GUARD_SITES - 1);	/* bits set */
	} else if (hash) {
		for (i = 0; i < KCB_GUARD_SITES; i++)
			rets[i] = (uintptr_t)&ops_main + 5 * i;
		if (kcb_uniq_map_init(&own))
			return 1;
		kcb_task_enable_uniq_hash(kcb_current(), &own);
		c->loop_pc_at(BATCH, rets, KCB_GUARD_SITES - 1);	/* all added */
	} else {
		kcb_task_enable(kcb_current(), &own, cmp ? KCB_MODE_TRACE_CMP : KCB_MODE_TRACE_PC);
	}
	if (perf_cmd(ctl, ack, "enable\n"))
		return 1;
	for (i = 0; sw && i < n; i += BATCH / sw) {
		/* n switch calls, the buffer emptied before it can fill */
		if (c)
			c->loop_switch(BATCH / sw, cases);
		else
			kcb_empty_loop_switch(BATCH / sw, cases);
		WRITE_ONCE(own.buf[0], 0);
	}
	for (i = 0; !sw && i < n; i += BATCH) {
		if (guard == 1)		/* every call a guard's first */
			memset(bitmap, 0, sizeof(bitmap));
		if (hash == 1)		/* every call a PC's first */
			kcb_uniq_map_clear(own.map);
		if (!c)
			kcb_empty_loop_pc(BATCH);
		else if (guard)
			c->loop_guard(BATCH, guards, KCB_GUARD_SITES - 1);
		else if (hash)
			c->loop_pc_at(BATCH, rets, KCB_GUARD_SITES - 1);
		else if (cmp)
			c->loop_cmp(BATCH, 0);
		else
			c->loop_pc(BATCH);
		if (shared && c && !c->pair->shareable_pc)
			c->move(&owner, own.buf, KCB_STRIDE_PC);
		WRITE_ONCE(own.buf[0], 0);
		WRITE_ONCE(owner.buf[0], 0);
	}
	if (perf_cmd(ctl, ack, "disable\n"))
		return 1;
	printf("%s %s %llu ops\n", config, mode, (unsigned long long)n);
	return 0;
}
