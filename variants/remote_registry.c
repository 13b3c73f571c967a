/* SPDX-License-Identifier: MIT */
/* remote_registry.c - the remote-section variants of remotes.h. */
#include "remote.h"
#include "remotes.h"

#define DECL_REMOTE(id)	extern const struct kcb_remote_ops kcb_remote_##id;
KCB_REMOTES(DECL_REMOTE)

#define REF_REMOTE(id)	&kcb_remote_##id,
const struct kcb_remote_ops *const kcb_remotes[] = { KCB_REMOTES(REF_REMOTE) };
const int kcb_nremotes = sizeof(kcb_remotes) / sizeof(kcb_remotes[0]);

const struct kcb_remote_ops *kcb_remote_find(const char *name)
{
	for (int i = 0; i < kcb_nremotes; i++)
		if (!strcmp(kcb_remotes[i]->name, name))
			return kcb_remotes[i];
	return NULL;
}
