/* SPDX-License-Identifier: MIT */
/*
 * test_remote.c - the remote-section and lookup twins in userland, under a
 * watchdog (a disable that never returns is a deadlock).  One line per
 * check and a closing "N passed, N failed"; exit 1 on any failure.
 *
 *   test_remote [filter]      KCB_TEST_SECTIONS=N (default 2000)
 *                             KCB_TEST_RT=1: PREEMPT_RT pool sizing
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "twin_remote.h"

#define WATCHDOG_S	120

static int passed, failed;
static const char *running = "";

static void report(const char *what, const char *name, int ok)
{
	printf("%s %s %s\n", ok ? "ok" : "not ok", what, name);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void watchdog(int sig)
{
	(void)sig;
	/* Not async-signal-safe in general; the process is stuck anyway. */
	fprintf(stderr, "test_remote: %s: no progress in %d s: deadlock\n",
	    running, WATCHDOG_S);
	_exit(1);
}

/*
 * The twin must fail when sections never open: the real design with its
 * task sections stubbed out (start never called), or every section.
 */
static const struct kcb_remote_ops *stubbed;
static int stub_all;

static uint64_t stub_loop(uint64_t handle, uint64_t nsec, uint64_t nrec,
    uint64_t tag, uint64_t seq0)
{
	if (stub_all || kcb_in_task())
		return 0;
	return stubbed->loop(handle, nsec, nrec, tag, seq0);
}

static int twin_catches_stub(const struct kcb_remote_ops *r, int nthreads, int all)
{
	struct kcb_remote_ops stub = *r;

	stubbed = r;
	stub_all = all;
	stub.loop = stub_loop;
	return twin_remote(&stub, nthreads, 50) != 0;
}

int main(int argc, char **argv)
{
	int ncpu = kcb_ncpus(), nthreads = ncpu < 2 ? 2 : ncpu, i;
	const char *filter = argc > 1 ? argv[1] : NULL;
	uint64_t nsec = getenv("KCB_TEST_SECTIONS") ?
	    strtoull(getenv("KCB_TEST_SECTIONS"), NULL, 0) : 2000;

	kcb_sim_preempt_rt = getenv("KCB_TEST_RT") && atoi(getenv("KCB_TEST_RT"));
	signal(SIGALRM, watchdog);
	for (i = 0; i < kcb_nremotes; i++) {
		const struct kcb_remote_ops *r = kcb_remotes[i];

		if (filter && !strstr(r->name, filter))
			continue;
		running = r->name;
		alarm(WATCHDOG_S);
		report("remote", r->name, twin_remote(r, nthreads, nsec) == 0);
		report("remote-oversubscribed", r->name,
		    twin_remote(r, nthreads * 2, nsec / 4) == 0);
		report("remote-fails-without-task-sections", r->name,
		    twin_catches_stub(r, nthreads, 0));
		report("remote-fails-without-any-section", r->name,
		    twin_catches_stub(r, nthreads, 1));
	}
	for (i = 0; i < kcb_nlookups; i++) {
		const struct kcb_lookup_ops *l = kcb_lookups[i];

		if (filter && !strstr(l->name, filter))
			continue;
		running = l->name;
		alarm(WATCHDOG_S);
		report("lookup", l->name, twin_lookup(l, nthreads * 2, 1024) == 0);
	}
	alarm(0);
	printf("%d passed, %d failed\n", passed, failed);
	/* Nothing checked (an empty filter or list) is a failure, not a pass. */
	if (passed + failed == 0) {
		fprintf(stderr, "%s: no test ran: 0 passed is a failure\n",
		    __FILE__);
		return 1;
	}
	return failed ? 1 : 0;
}
