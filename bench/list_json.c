/* SPDX-License-Identifier: MIT */
/*
 * `kcovbench list --json`: the registry as the binary was built with it,
 * for scripts/kcb/registry.py (the one reader on the Python side).  Every
 * fact comes from a descriptor; nothing here names a variant or a mode.
 */
#include "list.h"
#include "modes.h"
#include "../variants/remote.h"
#include "../variants/lookup.h"

/* A JSON string, or null: quotes, backslashes and control characters
 * escaped. */
static void jstr(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void jkey(FILE *out, const char *key, const char *val, const char *sep)
{
	fprintf(out, "\"%s\": ", key);
	jstr(out, val);
	fputs(sep, out);
}

static const char *bool_s(int v)
{
	return v ? "true" : "false";
}

static const char *irq_policy(enum kcb_irq_policy p)
{
	switch (p) {
	case KCB_IRQ_TASK_OR_KD_INTR:		return "task-or-kd-intr";
	case KCB_IRQ_TASK_OR_KCOV_SOFTIRQ:	return "task-or-kcov-softirq";
	case KCB_IRQ_TASK_ONLY:			return "task-only";
	}
	return NULL;
}

static const char *switch_layout(enum kcb_switch_layout l)
{
	switch (l) {
	case KCB_SWITCH_CASE_VAL:	return "case-val";
	case KCB_SWITCH_VAL_CONST_CASE:	return "val-const-case";
	}
	return NULL;
}

static void frontend(FILE *out, const struct kcb_frontend *fe, int broken)
{
	fputs("    {", out);
	jkey(out, "name", fe->name, ", ");
	jkey(out, "id", fe->id, ", ");
	jkey(out, "origin", fe->origin, ", ");
	fprintf(out, "\"proposal\": %s, \"unmerged\": %s, \"upstream\": %s, \"broken\": %s, ",
	    bool_s(fe->proposal), bool_s(fe->proposal == KCB_FE_UNMERGED),
	    bool_s(!fe->proposal && !broken), bool_s(broken));
	fprintf(out, "\"FE_IRQ_POLICY\": \"%s\", \"FE_SWITCH_LAYOUT\": \"%s\", ",
	    irq_policy(fe->irq_policy), switch_layout(fe->switch_layout));
	jkey(out, "FE_SHAPE", fe->shape, ", ");
	fprintf(out, "\"FE_SWITCH_PER_CASE\": %d, \"FE_INDIRECT\": %d, "
	    "\"FE_CMP_CALL\": %d, \"FE_SWITCH_VAL_CONST\": %d, \"FE_GUARD\": %d, "
	    "\"FE_UNIQ_HASH\": %d}", fe->switch_per_case, fe->indirect,
	    fe->cmp_call, fe->switch_val_const, fe->guard, fe->uniq_hash);
}

static const char *control(const struct kcb_pair *p)
{
	return p->broken ? "BROKEN CONTROL" : p->planted ? "PLANTED CONTROL" : NULL;
}

static void pair(FILE *out, const struct kcb_pair *p)
{
	fputs("    {", out);
	jkey(out, "name", p->name, ", ");
	jkey(out, "id", p->id, ", ");
	fprintf(out, "\"proposal\": %s, \"upstream\": %s, ", bool_s(p->proposal),
	    bool_s(!p->proposal && !control(p)));
	jkey(out, "control", control(p), ", ");
	jkey(out, "pc_claim", p->pc_claim, ", ");
	jkey(out, "cmp_claim", p->cmp_claim, ", ");
	jkey(out, "pc_origin", p->pc_origin, ", ");
	jkey(out, "cmp_origin", p->cmp_origin, ", ");
	jkey(out, "pc_shape", p->pc_shape, ", ");
	jkey(out, "cmp_shape", p->cmp_shape, ", ");
	fprintf(out, "\"shareable_pc\": %s, \"shareable_cmp\": %s, "
	    "\"padded_pc\": %s, \"padded_cmp\": %s}", bool_s(p->shareable_pc),
	    bool_s(p->shareable_cmp), bool_s(p->padded_pc), bool_s(p->padded_cmp));
}

/* The modes c (NULL: the empty hook) can run, as names. */
static void fitting_modes(FILE *out, const struct kcb_combo *c)
{
	int m, n = 0;

	fputc('[', out);
	for (m = 0; m < MODE_MAX; m++)
		if (kcb_mode_fits(m, c))
			fprintf(out, "%s\"%s\"", n++ ? ", " : "", kcb_mode_names[m]);
	fputc(']', out);
}

static void config(FILE *out, const struct kcb_config *cf)
{
	const struct kcb_combo *c = cf->combo;
	int prop = cf->proposal || kcb_combo_proposal(c);
	/* as `list` marks it: upstream's unmerged patch only when all of it is */
	int unmerged = c->fe->proposal == KCB_FE_UNMERGED && !c->pair->proposal;

	fputs("    {", out);
	jkey(out, "name", cf->name, ", ");
	jkey(out, "frontend", c->fe->name, ", ");
	jkey(out, "pair", c->pair->name, ", ");
	jkey(out, "frontend_id", c->fe->id, ", ");
	jkey(out, "pair_id", c->pair->id, ", ");
	/* the OS, file and revision each part copies */
	jkey(out, "origin", c->fe->origin, ", ");
	jkey(out, "pc_origin", c->pair->pc_origin, ", ");
	jkey(out, "cmp_origin", c->pair->cmp_origin, ", ");
	fprintf(out, "\"proposal\": %s, \"unmerged\": %s, \"upstream\": %s, ",
	    bool_s(prop), bool_s(unmerged), bool_s(!prop));
	jkey(out, "control", control(c->pair), ", ");
	fprintf(out, "\"workload\": %s, \"modes\": ", bool_s(kcb_workload_of(c) != NULL));
	fitting_modes(out, c);
	fputc('}', out);
}

static void remote(FILE *out, const struct kcb_remote_ops *r)
{
	fputs("    {", out);
	jkey(out, "name", r->name, ", ");
	jkey(out, "origin", r->origin, ", ");
	jkey(out, "config", r->config, ", ");
	jkey(out, "lookup", r->lookup, ", ");
	fprintf(out, "\"proposal\": %s, \"upstream\": %s, \"softirq\": %s, "
	    "\"direct\": %s, \"max_writers\": %d}", bool_s(r->proposal),
	    bool_s(!r->proposal), bool_s(r->softirq), bool_s(r->direct), r->max_writers);
}

static void mode(FILE *out, int m)
{
	const struct kcb_mode *d = &kcb_modes[m];
	unsigned int f = d->flags;

	fputs("    {", out);
	jkey(out, "name", d->name, ", ");
	fprintf(out, "\"switch_cases\": %u, \"pc\": %s, \"cmp\": %s, \"default\": %s, "
	    "\"shared\": %s, \"workload\": %s, \"guard\": %s, \"hash\": %s, "
	    "\"first\": %s, \"needs\": ", d->cases, bool_s(!(f & KCB_MF_CMP)),
	    bool_s(f & KCB_MF_CMP), bool_s(f & KCB_MF_DEFAULT), bool_s(f & KCB_MF_SHARED),
	    bool_s(f & KCB_MF_WORKLOAD), bool_s(f & KCB_MF_GUARD), bool_s(f & KCB_MF_HASH),
	    bool_s(f & KCB_MF_FIRST));
	/* what a configuration needs to run it (kcb_mode_fits) */
	jstr(out, f & KCB_MF_WORKLOAD ? "workload copy" : f & KCB_MF_GUARD ?
	    "FE_GUARD" : f & KCB_MF_HASH ? "FE_UNIQ_HASH" : NULL);
	fputs(", \"empty\": ", out);
	fputs(bool_s(kcb_mode_fits(m, NULL)), out);
	fputc('}', out);
}

#define SEP(i, n)	((i) + 1 < (n) ? ",\n" : "\n")

int kcb_list_json(FILE *out)
{
	int i;

	fputs("{\n  \"frontends\": [\n", out);
	for (i = 0; i < kcb_nfrontends + kcb_nbroken_fe; i++) {
		if (i < kcb_nfrontends)
			frontend(out, kcb_frontends[i], 0);
		else
			frontend(out, kcb_broken_fe_combos[i - kcb_nfrontends]->fe, 1);
		fputs(SEP(i, kcb_nfrontends + kcb_nbroken_fe), out);
	}
	fputs("  ],\n  \"pairs\": [\n", out);
	for (i = 0; i < kcb_npairs; i++) {
		pair(out, kcb_pair(i));
		fputs(SEP(i, kcb_npairs), out);
	}
	fputs("  ],\n  \"configs\": [\n", out);
	for (i = 0; i < kcb_nconfigs; i++) {
		config(out, &kcb_configs[i]);
		fputs(SEP(i, kcb_nconfigs), out);
	}
	/* real kernel objects (kobj/), when linked: configurations too */
	fputs("  ],\n  \"kernels\": [\n", out);
	for (i = 0; ; i++) {
		const char *key, *name = kcb_extra_list(i, &key);

		if (!name)
			break;
		fprintf(out, "%s    {", i ? ",\n" : "");
		jkey(out, "name", name, ", ");
		jkey(out, "key", key, ", ");
		fputs("\"real_kernel\": true, \"modes\": ", out);
		fitting_modes(out, kcb_extra_find(name));
		fputc('}', out);
	}
	fputs(i ? "\n" : "", out);
	fputs("  ],\n  \"remotes\": [\n", out);
	for (i = 0; i < kcb_nremotes; i++) {
		remote(out, kcb_remotes[i]);
		fputs(SEP(i, kcb_nremotes), out);
	}
	fputs("  ],\n  \"lookups\": [\n", out);
	for (i = 0; i < kcb_nlookups; i++) {
		fputs("    {", out);
		jkey(out, "name", kcb_lookups[i]->name, ", ");
		jkey(out, "origin", kcb_lookups[i]->origin, "}");
		fputs(SEP(i, kcb_nlookups), out);
	}
	fputs("  ],\n  \"modes\": [\n", out);
	for (i = 0; i < MODE_MAX; i++) {
		mode(out, i);
		fputs(SEP(i, MODE_MAX), out);
	}
	fputs("  ],\n  \"empty\": {\"modes\": ", out);
	fitting_modes(out, NULL);
	fprintf(out, "},\n  \"hooks\": [");
	for (i = 0; kcb_hook_names[i]; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", kcb_hook_names[i]);
	fprintf(out, "],\n  \"combos\": %d\n}\n", kcb_ncombos);
	return ferror(out) ? 1 : 0;
}
