/* SPDX-License-Identifier: MIT */
/*
 * test_kobj.c - the replicas' twins against the real kernel objects
 * (kobj/, issue 24): per-task records with 2 threads each into its own
 * buffer and its buffer-full limit (twin_per_thread), the pc/cmp/switch
 * record layouts, cross-mode and disabled (twin_cmp_layout), hardirq and
 * softirq policy (twin_irq).  Each kernel runs in a child of its own, so a
 * crash is a failure, not the end of the test; the broken control (the
 * 6.12 object with 6.1's facts) must fail, in one attempt.
 *
 *   test_kobj [-r kernel-6.1,kernel-6.12] [filter]
 *   -r: fail unless these configurations (and, with both, the control)
 *   are linked and twinned.  Prints "N passed, N failed"; exit 1 on any
 *   failure, and when no kernel's twins ran (nothing linked, or a filter
 *   that matches none): a suite that checked nothing does not pass.  An
 *   empty -r is a usage error (exit 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_irq.h"
#include "../kobj/kobj.h"

/* workload/workload.h's KCB_WORKLOAD_SCRATCH (not included: its
 * declarations are the benchmark's) */
#define KCB_WORKLOAD_SCRATCH_BYTES	(64 * 1024)

static int passed, failed;

static void report(const char *what, const char *name, int ok)
{
	printf("%s %s %s\n", ok ? "ok" : "not ok", what, name);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

/* The twins, in a child: its exit status is the number of failed twins,
 * 128 + a signal if it crashed. */
static int twins_in_child(const struct kobj_kernel *k, uint64_t nrec)
{
	const struct kcb_combo *c = &k->combo;
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 255;
	if (pid == 0) {
		int bad = 0, r;

		r = twin_per_thread(c, 2, nrec) == 0;
		printf("  %s per-thread (2 threads, buffer-full) %s\n", r ? "ok" : "FAIL", k->name);
		bad += !r;
		r = twin_cmp_layout(c) == 0;
		printf("  %s cmp-layout (pc, cmp, switch, disabled) %s\n", r ? "ok" : "FAIL", k->name);
		bad += !r;
		r = twin_irq(c) == 0;
		printf("  %s irq (hardirq, softirq, kcov_softirq) %s\n", r ? "ok" : "FAIL", k->name);
		bad += !r;
		fflush(stdout);
		_exit(bad);
	}
	if (waitpid(pid, &st, 0) < 0)
		return 255;
	if (WIFSIGNALED(st)) {
		printf("  %s: killed by signal %d\n", k->name, WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}

/*
 * The workload linked against k's hooks (kobj-bundle's copy): one round
 * records the same PCs twice running, nothing while tracing is disabled,
 * and the same count in every kernel (one instrumented object): *records
 * is that count.  0 if it holds, else 1 (in a child: a crash is a failure).
 */
static int workload_in_child(const struct kobj_kernel *k, uint64_t *records)
{
	int fds[2], st;
	pid_t pid;

	if (!k->workload || pipe(fds))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct kcb_dev kd;
		uint64_t n[2] = { 0, 0 }, idle;
		void *scratch = calloc(1, KCB_WORKLOAD_SCRATCH_BYTES);

		if (!scratch || kcb_thread_attach(0, true) < 0 || kcb_dev_init(&kd, 1u << 20))
			_exit(1);
		kcb_task_disable(kcb_current());
		k->workload(42, scratch);
		idle = kd.buf[0];
		for (int r = 0; r < 2; r++) {
			kd.buf[0] = 0;
			kcb_task_enable(kcb_current(), &kd, KCB_MODE_TRACE_PC);
			k->workload(42, scratch);
			kcb_task_disable(kcb_current());
			n[r] = kd.buf[0];
		}
		printf("  %s workload: %llu PCs a round, twice; %llu disabled %s\n",
		    n[0] && n[0] == n[1] && !idle ? "ok" : "FAIL",
		    (unsigned long long)n[0], (unsigned long long)idle, k->name);
		fflush(stdout);
		if (write(fds[1], &n[0], sizeof(n[0])) != sizeof(n[0]))
			_exit(1);
		_exit(!(n[0] && n[0] == n[1] && !idle));
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], records, sizeof(*records)) != sizeof(*records))
		*records = 0;
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	return !WIFEXITED(st) || WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	const char *require = NULL, *filter = NULL;
	uint64_t nrec = getenv("KCB_TEST_RECORDS") ?
	    strtoull(getenv("KCB_TEST_RECORDS"), NULL, 0) : 200000;
	int opt, i, controls = 0, twinned = 0, linked = 0;
	uint64_t wl_records = 0;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt == 'r')
			require = optarg;
		else
			return 2;
	}
	if (optind < argc)
		filter = argv[optind];
	if (require && strspn(require, ",") == strlen(require)) {
		fprintf(stderr, "test_kobj: -r lists no configuration (use -r kernel-6.1,...)\n");
		return 2;
	}
	if (require) {
		char *list = strdup(require), *tok, *save = NULL;
		int n = 0;

		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
			int found = kcb_kobj_find(tok) != NULL;

			if (!found)
				fprintf(stderr, "test_kobj: %s is not linked: build it with "
				    "scripts/kernel-obj (./kcovbench kernel add), then ninja\n", tok);
			report("linked", tok, found);
		}
		free(list);
		if (n >= 2) {
			for (i = 0; i < kobj_nkernels; i++)
				controls += kobj_kernels[i]->control;
			report("linked", "broken control (6.12 object, 6.1 facts)", controls > 0);
		}
	}
	for (i = 0; i < kobj_nkernels; i++) {
		const struct kobj_kernel *k = kobj_kernels[i];
		int bad;

		if (filter && !strstr(k->name, filter))
			continue;
		if (k->shift)	/* ab's placement copies: the same object */
			continue;
		printf("# %s (returns: %s)\n#   %s\n", k->name, kobj_return, k->key);
		bad = twins_in_child(k, nrec / 10);
		twinned += !k->control;
		if (k->control) {
			report("broken-control-caught-first-attempt", k->name, bad != 0);
		} else {
			uint64_t n;

			report("twins", k->name, bad == 0);
			bad = workload_in_child(k, &n);
			/* one instrumented copy: every kernel records the same */
			if (!wl_records)
				wl_records = n;
			report("workload", k->name, !bad && n == wl_records);
		}
	}
	if (require) {
		/* every required kernel must have run its twins, not only linked */
		char *list = strdup(require), *tok, *save = NULL;

		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (kcb_kobj_find(tok) && filter && !strstr(tok, filter)) {
				fprintf(stderr, "test_kobj: %s is required but the filter '%s' "
				    "leaves it out: not checked\n", tok, filter);
				report("twinned", tok, 0);
			}
		free(list);
	}
	printf("%d passed, %d failed\n", passed, failed);
	for (i = 0; i < kobj_nkernels; i++)
		linked += !kobj_kernels[i]->shift;
	if (!twinned) {
		fprintf(stderr, "test_kobj: FAIL: no kernel configuration's twins ran "
		    "(%d kernel objects linked%s%s%s): nothing checked.  Build them with "
		    "scripts/setup or ./kcovbench kernel add, then ninja\n", linked,
		    filter ? ", filter '" : "", filter ? filter : "", filter ? "'" : "");
		return 1;
	}
	return failed ? 1 : 0;
}
