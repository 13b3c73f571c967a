/* SPDX-License-Identifier: MIT */
/*
 * kcovbench - the userland binary.  Its verbs: `list` (list.c), `bench`
 * (bench.c, remote_bench.c) through Google Benchmark, `ab` (ab.c: paired
 * windows, pairs as JSON), `topology` (topology.c), `ops` (ops.c: the
 * gate's exact hook calls) and `unique-shrink` (shrink.c).  The top-level
 * ./kcovbench script drives list, bench and ab; topology, ops and
 * unique-shrink are run here directly (build/plain/kcovbench VERB).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include "ab.h"
#include "bench.h"
#include "gb_shim.h"
#include "hwcount.h"
#include "kcb_version.h"
#include "list.h"
#include "remote_bench.h"
#include "topology.h"


/* The CPU model as /proc/cpuinfo names it, into buf; "" if unreadable. */
static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		snprintf(buf, len, "%s", v + 2);
		buf[strcspn(buf, "\n")] = 0;
		break;
	}
	if (f)
		fclose(f);
}

/* The build and machine facts a results key needs, each through put(). */
void kcb_context(void (*put)(const char *key, const char *val))
{
	const char *why = hw_unsupported();

	struct utsname u;
	char buf[256];

	put("kcb_hwcounters", why ? why : "yes");
	put("kcb_compiler", "gcc " __VERSION__);
	if (!uname(&u)) {
		snprintf(buf, sizeof(buf), "%s %s", u.sysname, u.release);
		put("kcb_kernel", buf);
	}
	/* The binary's own commit, "-dirty" if its tree differed from it. */
	put("kcb_git", KCB_GIT_DIRTY ? KCB_GIT "-dirty" : KCB_GIT);
#ifdef KCB_HOT_CFLAGS
	put("kcb_hot_cflags", "-O2 " KCB_HOT_CFLAGS);
#endif
	cpu_model(buf, sizeof(buf));
	put("kcb_cpu_model", buf);
	put("kcb_libbenchmark", "1.7.1 (Debian 12 libbenchmark-dev)");
	kcb_list_context(put);
}

/*
 * Run the registered benchmarks: 1 when none ran or one ended with an
 * error (Google Benchmark drops that row, and the driver would publish
 * the rest as if the run were whole).
 */
static int run_all(void)
{
	int ran = kcb_gb_run(), errors = kcb_gb_errors();

	if (errors) {
		fprintf(stderr, "kcovbench: a benchmark ended with an error (%d report%s, "
		    "see ERROR OCCURRED above): the run is incomplete\n", errors,
		    errors == 1 ? "" : "s");
		return 1;
	}
	return ran > 0 ? 0 : 1;
}

static int bench_main(int argc, char **argv)
{
	struct bench_opts o = { 0 };
	struct remote_bench_opts ro;
	const char *why = hw_unsupported();
	int err = remote_bench_parse(&argc, argv, &ro);

	if (!err)
		err = bench_parse(&argc, argv, &o);

	if (err)
		return err;
	if (ro.request_only)
		o.modes = 0;	/* --modes=remote-request: the sections only */
	if (kcb_gb_init(&argc, argv))
		return 2;
	o.hw = why == NULL;
	kcb_context(kcb_gb_context);
	if (!o.hw)
		fprintf(stderr, "kcovbench: no hardware counters here (%s): "
		    "cycles/instructions per op are not reported\n", why);
	if (bench_register(&o) || remote_bench_register(&ro, &o))
		return 1;
	return run_all();
}

/*
 * KCOVBENCH_PDEATHSIG=<pid of the driver>: die with the thread that
 * started us (a SIGKILLed driver cannot stop us, and an orphan would run on
 * and disturb the next run).  The driver may have died before the prctl:
 * then the parent is no longer that pid and the pid is gone.  A wrapper
 * between (perf, a shell) leaves the driver alive: keep running then.
 * 0, or the exit status to end with.
 */
static int die_with_driver(void)
{
	const char *v = getenv("KCOVBENCH_PDEATHSIG");
	char *end;
	long driver;

	if (!v)
		return 0;
	errno = 0;
	driver = strtol(v, &end, 10);
	if (errno || end == v || *end || driver <= 0 || driver != (pid_t)driver) {
		fprintf(stderr, "kcovbench: bad KCOVBENCH_PDEATHSIG '%s': want the "
		    "driver's pid\n", v);
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL)) {
		perror("kcovbench: prctl(PR_SET_PDEATHSIG)");
		return 1;
	}
	if (getppid() != driver && kill((pid_t)driver, 0) && errno == ESRCH) {
		fprintf(stderr, "kcovbench: the driver (pid %ld) is gone: not starting\n",
		    driver);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int err = die_with_driver();

	if (err)
		return err;
	if (argc >= 3 && !strcmp(argv[1], "list") && !strcmp(argv[2], "--json"))
		return kcb_list_json(stdout);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return kcb_list(stdout);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return bench_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "ab"))
		return ab_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "topology"))
		return topo_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "ops"))
		return ops_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "unique-shrink"))
		return shrink_main(argc - 1, argv + 1);
	fprintf(stderr,
	    "usage: kcovbench list [--json]\n"
	    "       kcovbench bench [--configs=A,B|all|proposals]\n"
	    "                       [--modes=pertask,shared,cmp,workload,switch,switchN[-pc],\n"
	    "                       guard-first,guard-repeat,hash-first,hash-repeat]\n"
	    "                       [--irq=0,1] [--threads=1,2] [--window=S] [--warmup=S]\n"
	    "                       [--buffer-words=N|batch] [--chunk-records=K]\n"
	    "                       [--placement=smt|core|llc|node|spread|list:0,4]\n"
	    "                       [--oversubscribe]\n"
	    "                       [--remote=all|none|A,B] [--lookups=all|none|A,B]\n"
	    "                       [--remote-records=N] [--modes=remote-request]\n"
	    "                       [--benchmark_* flags of Google Benchmark]\n"
	    "       kcovbench ab --a=[base:]NAME --b=[base:]NAME [--mode=M] [--threads=N]\n"
	    "                    [--window-us=200] [--time=S] [--layouts=0,16,32,48]  (pairs as JSON)\n"
	    "       kcovbench ops --config=NAME [--mode=MODE (not workload)] [--ops=N]\n"
	    "                     [--perf-ctl=CTL_FIFO,ACK_FIFO]\n"
	    "       kcovbench unique-shrink [CONFIG]   (one workload round: records vs distinct PCs)\n"
	    "       kcovbench topology [--placement=CLASS] [--root=SYSFS]\n");
	return 2;
}
