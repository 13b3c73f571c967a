/* SPDX-License-Identifier: MIT */
/*
 * test_workload.c - the instrumented workload, once per configuration,
 * reaches that configuration's hooks: every build computes the checksum of
 * the uninstrumented one, and all record the same number of PCs (trace-pc
 * mode) and comparisons (trace-cmp mode), since they run the same code.
 */
#include <stdlib.h>
#include "../variants/variant.h"
#include "../workload/variants.h"

#define WORDS	(1u << 22)

static const struct kcb_workload_variant wl[] = KCB_WORKLOAD_VARIANTS;
#define NWL ((int)(sizeof(wl) / sizeof(wl[0])))

/* A padded claim's count covers reserved slots: what a reader parses
 * (non-zero records) must match instead.  Rewrites the count to that. */
static void parsed_count(const char *config, int mode, struct kcb_dev *kd)
{
	const struct kcb_combo *c = kcb_find(config);
	int stride = mode == KCB_MODE_TRACE_PC ? 1 : 4;
	uint64_t n = 0, i;

	if (!c || !(mode == KCB_MODE_TRACE_PC ? c->pair->padded_pc : c->pair->padded_cmp))
		return;
	for (i = 0; i < kd->buf[0] && (i + 1) * stride < kd->nwords; i++)
		n += kd->buf[1 + i * stride + (stride == 4 ? 3 : 0)] != 0;
	kd->buf[0] = n;
}

int main(void)
{
	uint64_t want, pcs = 0, cmps = 0, got;
	void *scratch = kcb_zalloc(KCB_WORKLOAD_SCRATCH);
	struct kcb_dev kd;
	int i, passed = 0, failed = 0;

	if (!scratch || kcb_thread_attach(0, true) < 0 || kcb_dev_init(&kd, WORDS))
		return 2;
	want = kcb_workload__none(42, scratch);
	for (i = 0; i < NWL - 1; i++) {
		int mode, ok = 1;

		for (mode = KCB_MODE_TRACE_PC; mode <= KCB_MODE_TRACE_CMP; mode++) {
			uint64_t *first = mode == KCB_MODE_TRACE_PC ? &pcs : &cmps;

			kcb_dev_reset(&kd);
			kcb_task_enable(kcb_current(), &kd, mode);
			got = wl[i].run(42, scratch);
			kcb_task_disable(kcb_current());
			if (got != want) {
				printf("%s: checksum %llx, uninstrumented %llx\n", wl[i].config,
				    (unsigned long long)got, (unsigned long long)want);
				ok = 0;
			}
			parsed_count(wl[i].config, mode, &kd);
			if (!*first)
				*first = kd.buf[0];
			/* A full buffer would make every variant agree: refuse it. */
			if (kd.buf[0] == 0 || kd.buf[0] != *first ||
			    (kd.buf[0] + 1) * (mode == KCB_MODE_TRACE_PC ? 1 : 4) > kd.nmemb) {
				printf("%s: mode %d recorded %llu, first config %llu\n",
				    wl[i].config, mode, (unsigned long long)kd.buf[0],
				    (unsigned long long)*first);
				ok = 0;
			}
		}
		printf("%s workload %s (pcs %llu, cmps %llu)\n", ok ? "ok" : "not ok",
		    wl[i].config, (unsigned long long)pcs, (unsigned long long)cmps);
		ok ? passed++ : failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	/* Nothing checked (an empty filter or list) is a failure, not a pass. */
	if (passed + failed == 0) {
		fprintf(stderr, "%s: no test ran: 0 passed is a failure\n",
		    __FILE__);
		return 1;
	}
	return failed != 0;
}
