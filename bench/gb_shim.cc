// SPDX-License-Identifier: MIT
// gb_shim.cc - the C shim over Google Benchmark (see gb_shim.h).
#include <benchmark/benchmark.h>
#include <atomic>
#include <cstring>
#include "gb_shim.h"

// SkipWithError calls, for the exit status: Google Benchmark itself only
// marks the row, and a dropped row must not pass for a finished run.
static std::atomic<int> errors;

static benchmark::State &S(kcb_gb_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

extern "C" {

void kcb_gb_register(const char *name, kcb_gb_fn fn, void *arg,
    const int *nthreads, int n)
{
	auto *b = benchmark::RegisterBenchmark(name,
	    [fn, arg](benchmark::State &st) {
		    fn(reinterpret_cast<kcb_gb_state *>(&st), arg);
	    });
	// One iteration per repetition: the C side runs its own time window
	// with warm-up and reports the measured window as manual time.
	b->Iterations(1)->UseManualTime();
	for (int i = 0; i < n; i++)
		b->Threads(nthreads[i]);
}

int kcb_gb_init(int *argc, char **argv)
{
	benchmark::Initialize(argc, argv);
	return benchmark::ReportUnrecognizedArguments(*argc, argv) ? 2 : 0;
}

void kcb_gb_context(const char *key, const char *value)
{
	benchmark::AddCustomContext(key, value);
}

int kcb_gb_run(void)
{
	return (int)benchmark::RunSpecifiedBenchmarks();
}

int kcb_gb_errors(void)
{
	return errors.load();
}

int kcb_gb_thread_index(kcb_gb_state *st) { return S(st).thread_index(); }
int kcb_gb_threads(kcb_gb_state *st) { return S(st).threads(); }
bool kcb_gb_keep_running(kcb_gb_state *st) { return S(st).KeepRunning(); }
void kcb_gb_set_time(kcb_gb_state *st, double s) { S(st).SetIterationTime(s); }

void kcb_gb_counter(kcb_gb_state *st, const char *name, double v, int how)
{
	S(st).counters[name] = benchmark::Counter(v, how == KCB_GB_AVG ?
	    benchmark::Counter::kAvgThreads : benchmark::Counter::kDefaults);
}

void kcb_gb_label(kcb_gb_state *st, const char *label) { S(st).SetLabel(label); }
void kcb_gb_error(kcb_gb_state *st, const char *msg)
{
	errors++;
	S(st).SkipWithError(msg);
}

}
