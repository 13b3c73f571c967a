/* SPDX-License-Identifier: MIT */
/* `kcovbench list`: every front end, claim, pair, configuration, remote
 * design and lookup, with the OS, file and revision it copies; controls
 * and proposals are marked as such. */
#include "list.h"
#include "modes.h"
#include "../variants/remote.h"
#include "../variants/lookup.h"

/* How `list` marks a front end that is not upstream's merged code. */
static const char *fe_mark(const struct kcb_frontend *fe)
{
	return fe->proposal == KCB_FE_UNMERGED ? "[UNMERGED UPSTREAM] " :
	    fe->proposal ? "[PROPOSAL] " : "";
}

/* A configuration's: upstream's unmerged patch only when all of it is. */
static const char *config_mark(const struct kcb_config *c)
{
	if (!c->proposal)
		return "";
	if (c->combo->fe->proposal == KCB_FE_UNMERGED && !c->combo->pair->proposal)
		return "[UNMERGED UPSTREAM] ";
	return "[PROPOSAL] ";
}

const char *const kcb_hook_names[] = {
	"trace_pc", "trace_cmp1", "trace_cmp2", "trace_cmp4", "trace_cmp8",
	"trace_const_cmp1", "trace_const_cmp2", "trace_const_cmp4",
	"trace_const_cmp8", "trace_switch", NULL
};

int kcb_list(FILE *out)
{
	int i;

	fprintf(out, "front ends:\n");
	for (i = 0; i < kcb_nfrontends; i++)
		fprintf(out, "  %-17s %s%s\n", kcb_frontends[i]->name,
		    fe_mark(kcb_frontends[i]), kcb_frontends[i]->origin);
	fprintf(out, "claim pairs (trace-pc claim / trace-cmp claim):\n");
	for (i = 0; i < kcb_npairs; i++) {
		const struct kcb_pair *p = kcb_pair(i);

		fprintf(out, "  %-33s pc: %s%s\n  %-33s cmp: %s%s%s\n", p->name,
		    p->proposal ? "[PROPOSAL] " : "",
		    p->pc_origin, "", p->cmp_origin,
		    p->shareable_cmp ? " [shareable]" : "",
		    p->broken ? " [BROKEN CONTROL]" :
		    p->planted ? " [PLANTED CONTROL]" : "");
	}
	fprintf(out, "configurations (front end + claim pair):\n");
	for (i = 0; i < kcb_nconfigs; i++)
		fprintf(out, "  %-16s %s%s + %s\n", kcb_configs[i].name,
		    config_mark(&kcb_configs[i]),
		    kcb_configs[i].combo->fe->name,
		    kcb_configs[i].combo->pair->name);
	/* issue 24: real kernel objects (kobj/, scripts/kernel-obj), if built */
	for (i = 0; ; i++) {
		const char *key, *name = kcb_extra_list(i, &key);

		if (!name)
			break;
		fprintf(out, "  %-16s [REAL KERNEL] %s\n", name, key);
	}
	fprintf(out, "remote-section designs (hooks of the config named):\n");
	for (i = 0; i < kcb_nremotes; i++)
		fprintf(out, "  %-25s %s%s\n  %-25s config %s, lookup %s%s\n",
		    kcb_remotes[i]->name, kcb_remotes[i]->proposal ? "[PROPOSAL] " : "",
		    kcb_remotes[i]->origin, "", kcb_remotes[i]->config,
		    kcb_remotes[i]->lookup, kcb_remotes[i]->softirq ? ", softirq too" : "");
	fprintf(out, "handle lookups:\n");
	for (i = 0; i < kcb_nlookups; i++)
		fprintf(out, "  %-25s %s\n", kcb_lookups[i]->name, kcb_lookups[i]->origin);
	fprintf(out, "modes (--modes; a configuration that cannot run one refuses it):\n");
	for (i = 0; i < MODE_MAX; i++)	/* six a line */
		fprintf(out, "%s%s", i % 6 ? " " : i ? "\n  " : "  ", kcb_mode_names[i]);
	fprintf(out, "\n  remote-request: each op one remote section (start, N records, "
	    "stop), N = 1, 16, 256,\n  in task and softirq context, each remote design on Linux's "
	    "hooks (io_uring's per-request sections, 7.3)\n");
	fprintf(out, "hooks (each an out-of-line function per combo):\n");
	for (i = 0; kcb_hook_names[i]; i++)	/* five a line */
		fprintf(out, "%s%s", i % 5 ? " " : i ? "\n  " : "  ", kcb_hook_names[i]);
	fprintf(out, "\n");
	fprintf(out, "combos: %d (any front end with any pair: \"<front end>/<pair>\")\n",
	    kcb_ncombos);
	return 0;
}

/* Append name to buf (a comma first unless empty), if it fits. */
static void add(char *buf, size_t len, const char *name, const char *tag)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s%s%s", n ? "," : "", name,
	    tag ? ":" : "", tag ? tag : "");
}

void kcb_list_context(void (*put)(const char *key, const char *val))
{
	static char controls[1024], proposals[2048], unmerged[512];
	int i;

	controls[0] = proposals[0] = unmerged[0] = 0;
	for (i = 0; i < kcb_npairs; i++) {
		const struct kcb_pair *p = kcb_pair(i);

		if (p->broken || p->planted)
			add(controls, sizeof(controls), p->name,
			    p->broken ? "BROKEN CONTROL" : "PLANTED CONTROL");
		if (p->proposal)
			add(proposals, sizeof(proposals), p->name, NULL);
	}
	for (i = 0; i < kcb_nfrontends; i++) {
		if (kcb_frontends[i]->proposal)
			add(proposals, sizeof(proposals), kcb_frontends[i]->name, NULL);
		if (kcb_frontends[i]->proposal == KCB_FE_UNMERGED)
			add(unmerged, sizeof(unmerged), kcb_frontends[i]->name, NULL);
	}
	for (i = 0; i < kcb_nconfigs; i++) {
		if (kcb_configs[i].proposal)
			add(proposals, sizeof(proposals), kcb_configs[i].name, NULL);
		if (!strcmp(config_mark(&kcb_configs[i]), "[UNMERGED UPSTREAM] "))
			add(unmerged, sizeof(unmerged), kcb_configs[i].name, NULL);
	}
	for (i = 0; i < kcb_nremotes; i++)
		if (kcb_remotes[i]->proposal)
			add(proposals, sizeof(proposals), kcb_remotes[i]->name, NULL);
	put("kcb_controls", controls);
	put("kcb_proposals", proposals);	/* unmerged upstream ones too */
	put("kcb_unmerged", unmerged);
}
