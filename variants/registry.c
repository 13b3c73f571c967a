/* SPDX-License-Identifier: MIT */
/*
 * registry.c - every front end x claim pair, and the upstream configurations,
 * from the lists in frontends.h, claims.h and configs.h.
 */
#include "variant.h"
#include "frontends.h"
#include "claims.h"
#include "configs.h"

#define DECL_FE(fe)							\
	extern const struct kcb_frontend kcb_fe_##fe;			\
	extern const struct kcb_combo *const kcb_combos_##fe[];
KCB_FRONTENDS(DECL_FE)


#define DECL_BROKEN_FE(fe)	extern const struct kcb_combo kcb_##fe##__cas__combo;
KCB_BROKEN_FRONTENDS(DECL_BROKEN_FE)
#define REF_BROKEN_FE(fe)	&kcb_##fe##__cas__combo,
const struct kcb_combo *const kcb_broken_fe_combos[] = { KCB_BROKEN_FRONTENDS(REF_BROKEN_FE) };
const int kcb_nbroken_fe = sizeof(kcb_broken_fe_combos) / sizeof(kcb_broken_fe_combos[0]);

#define REF_FE(fe)	&kcb_fe_##fe,
const struct kcb_frontend *const kcb_frontends[] = { KCB_FRONTENDS(REF_FE) };
const int kcb_nfrontends = sizeof(kcb_frontends) / sizeof(kcb_frontends[0]);

#define COUNT_PAIR(pair, n, p, c, b)	+1
const int kcb_npairs = 0 KCB_PAIRS(COUNT_PAIR);
const int kcb_ncombos = (0 KCB_PAIRS(COUNT_PAIR)) * (int)(sizeof(kcb_frontends) / sizeof(kcb_frontends[0]));

#define REF_FE_COMBOS(fe)	kcb_combos_##fe,
static const struct kcb_combo *const *const fe_combos[] = { KCB_FRONTENDS(REF_FE_COMBOS) };

const struct kcb_combo *kcb_combo(int i)
{
	if (i < 0 || i >= kcb_ncombos)
		return NULL;
	return fe_combos[i / kcb_npairs][i % kcb_npairs];
}

const struct kcb_pair *kcb_pair(int i)
{
	return i >= 0 && i < kcb_npairs ? fe_combos[0][i]->pair : NULL;
}

#define DECL_CONFIG(name, fe, pair) extern const struct kcb_combo kcb_##fe##__##pair##__combo;
KCB_CONFIGS(DECL_CONFIG)
KCB_PROPOSED_CONFIGS(DECL_CONFIG)
#define REF_CONFIG(name, fe, pair)	{ name, &kcb_##fe##__##pair##__combo, 0 },
#define REF_PROPOSED(name, fe, pair)	{ name, &kcb_##fe##__##pair##__combo, 1 },
const struct kcb_config kcb_configs[] = {
	KCB_CONFIGS(REF_CONFIG)
	KCB_PROPOSED_CONFIGS(REF_PROPOSED)
};
const int kcb_nconfigs = sizeof(kcb_configs) / sizeof(kcb_configs[0]);

const struct kcb_combo *kcb_find(const char *name)
{
	int i;

	for (i = 0; i < kcb_nconfigs; i++)
		if (!strcmp(name, kcb_configs[i].name))
			return kcb_configs[i].combo;
	for (i = 0; i < kcb_ncombos; i++) {
		const struct kcb_combo *c = kcb_combo(i);
		size_t n = strlen(c->fe->name);

		if (!strncmp(name, c->fe->name, n) && name[n] == '/' &&
		    !strcmp(name + n + 1, c->pair->name))
			return c;
	}
	/* real kernel objects (kobj/), when linked */
	return kcb_extra_find(name);
}

/* The empty hook: what the harness costs with nothing recorded. */
kcb_notrace kcb_noinline void kcb_empty_trace_pc(void)
{
	barrier();
}

kcb_noinline void kcb_empty_loop_pc(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kcb_empty_trace_pc();
}

kcb_notrace kcb_noinline void kcb_empty_trace_switch(uint64_t val, uint64_t *cases)
{
	barrier();
}

kcb_noinline void kcb_empty_loop_switch(uint64_t n, uint64_t *cases)
{
	for (uint64_t i = 0; i < n; i++)
		kcb_empty_trace_switch(i, cases);
}
