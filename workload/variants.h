/* SPDX-License-Identifier: MIT */
/*
 * The workload once per configuration (upstream and proposed): build.ninja (and the
 * module's Kbuild) copy the instrumented object with objcopy, renaming
 * __sanitizer_cov_* to that configuration's hooks and kcb_workload to
 * kcb_workload__<fe>__<pair>.  "none" is the uninstrumented build.
 */
#ifndef KCB_WORKLOAD_VARIANTS_H
#define KCB_WORKLOAD_VARIANTS_H
#include "workload.h"
#include "../variants/configs.h"

#define KCB_WL_DECL(name, fe, pair) uint64_t kcb_workload__##fe##__##pair(uint64_t, void *);
KCB_CONFIGS(KCB_WL_DECL)
KCB_PROPOSED_CONFIGS(KCB_WL_DECL)
uint64_t kcb_workload__none(uint64_t, void *);

struct kcb_workload_variant {
	const char *config;		/* upstream configuration, or "none" */
	uint64_t (*run)(uint64_t seed, void *scratch);
};

#define KCB_WL_ENTRY(name, fe, pair) { name, kcb_workload__##fe##__##pair },
#define KCB_WORKLOAD_VARIANTS { KCB_CONFIGS(KCB_WL_ENTRY) KCB_PROPOSED_CONFIGS(KCB_WL_ENTRY) \
	{ "none", kcb_workload__none } }

#endif
