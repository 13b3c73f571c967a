/* SPDX-License-Identifier: MIT */
/*
 * ops.c - `kcovbench ops`: exactly N hook calls of one config and mode on
 * one pinned thread, for instruction counts (callgrind's
 * --toggle-collect='kcb_*__loop_*', or perf stat --control).  No timing.
 * The set-up and the batch are the benchmark's own (modes.h), so the gate
 * counts what `kcovbench run` times.
 *
 *   kcovbench ops --config=NAME [--mode=MODE (any but workload)] [--ops=N]
 *                 [--perf-ctl=CTL_FIFO,ACK_FIFO]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench.h"

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
	if (end == s || *end || errno || !*n || *n % KCB_BATCH) {
		fprintf(stderr, "kcovbench ops: --ops=%s: want a positive multiple of %d "
			"in decimal\n", s, KCB_BATCH);
		return -1;
	}
	return 0;
}

/* The set-up the benchmark does (modes.c) for one thread, with a buffer
 * room for one batch: 0, or 1 with the reason printed. */
static int ops_setup(struct mode_run *r, struct mode_thread *t,
    const struct kcb_combo *c, const char *config, int mode)
{
	int err = mode_run_init(r, c, mode, KCB_BUFFER_BATCH);

	if (err) {
		fprintf(stderr, "kcovbench ops: %s cannot run mode %s: %s\n",
		    config, kcb_mode_names[mode], strerror(-err));
		return 1;
	}
	mode_run_reset(r);
	if (kcb_thread_attach(0, true) < 0 || mode_thread_init(r, t)) {
		fprintf(stderr, "kcovbench ops: thread set-up failed\n");
		return 1;
	}
	/* One batch that sees every guard or PC, so the repeat modes count
	 * calls that find theirs seen.  Outside perf's window; callgrind's
	 * toggle counts it, in both modes, as it always has (the baseline). */
	if (r->guards)
		c->loop_guard(KCB_BATCH, r->guards, KCB_GUARD_SITES - 1);
	if (r->rets)
		c->loop_pc_at(KCB_BATCH, r->rets, KCB_GUARD_SITES - 1);
	return 0;
}

/* The modes of single hook calls: all but the workload's rounds. */
static int ops_mode(const char *name)
{
	int mode = kcb_mode_find(name);

	return mode < 0 || (kcb_modes[mode].flags & KCB_MF_WORKLOAD) ? -1 : mode;
}

int ops_main(int argc, char **argv)
{
	const char *config = NULL, *mname = "pertask";
	uint64_t n = 1 << 20, done;
	const struct kcb_combo *c;
	struct mode_run r;
	struct mode_thread t;
	int ctl = -1, ack = -1, mode, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "--config=", 9)) {
			config = a + 9;
		} else if (!strncmp(a, "--mode=", 7)) {
			mname = a + 7;
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
	mode = ops_mode(mname);
	if (mode < 0) {
		fprintf(stderr, "kcovbench ops: bad mode '%s'\n", mname);
		return 2;
	}
	/* the unique modes count their own hooks: not the empty hook's */
	if ((kcb_modes[mode].flags & KCB_MF_GUARD) && (!c || !c->loop_guard)) {
		fprintf(stderr, "kcovbench ops: %s has no trace_pc_guard\n", config);
		return 2;
	}
	if ((kcb_modes[mode].flags & KCB_MF_HASH) && (!c || !c->loop_pc_at)) {
		fprintf(stderr, "kcovbench ops: %s has no hash-table unique mode\n", config);
		return 2;
	}
	if (ops_setup(&r, &t, c, config, mode))
		return 1;
	if (perf_cmd(ctl, ack, "enable\n"))
		return 1;
	/* the benchmark's batch; a switch mode's op is one trace_switch call */
	for (done = 0; done < n; )
		done += mode_batch(&r, &t, 0);
	if (perf_cmd(ctl, ack, "disable\n"))
		return 1;
	mode_thread_fini(&r, &t);
	mode_run_fini(&r);
	printf("%s %s %llu ops\n", config, mname, (unsigned long long)n);
	return 0;
}
