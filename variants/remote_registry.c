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

/*
 * "hooks-only": the request-rate benchmark's baseline (bench/remote_bench.c
 * --modes=remote-request, the module's records= runs), not a design: it is
 * in no list, no explorer run and no table row of its own.  The same
 * measured loop as every design's (KCB_REMOTE_LOOP, the `linux` hooks, the
 * same records), with start and stop cut down to what makes those hooks
 * record: the task's kcov fields set (kcov_start(): area count reset, five
 * stores, kcov_softirq in softirq) and cleared (kcov_stop()).  No lookup,
 * lock, refcount, pool or move.  A design's section minus this is what its
 * kcov_remote_start/stop cost above the hooks, area reset and field
 * switch included in the hooks' part.  The handle picks one of HO_SLOTS
 * slots by its low bits (an index, ~1 ns; the benchmarks' handles are
 * BASE + thread); compiled here, with the designs' flags, in userland
 * and in the module alike.
 */
#include "remote_linux.h"

#define HO_SLOTS	256

static struct ho_slot {
	uint64_t	 handle;
	struct kcb_dev	*owner;
	uint64_t	*area;
	unsigned int	 words;
} ho_slots[HO_SLOTS];			/* [T] the enabling thread's own */

static int ho_init(void)
{
	memset(ho_slots, 0, sizeof(ho_slots));
	return 0;
}

static void ho_fini(struct kcb_remote_stats *st)
{
	uint64_t freed = 0;

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < HO_SLOTS; i++) {
		if (ho_slots[i].area) {
			kcb_area_free(ho_slots[i].area);
			ho_slots[i].area = NULL;
			freed++;
		}
	}
	st->areas = st->areas_free = freed;
}

static int ho_enable(struct kcb_dev *owner, uint64_t handle, uint64_t area_words)
{
	struct ho_slot *s = &ho_slots[handle % HO_SLOTS];
	uint64_t dummy = 0;

	if (area_words < 2 || area_words > 0xffffffffu)
		return -EINVAL;
	if (s->owner && s->handle != handle)
		return -EEXIST;
	if (!s->area || s->words != area_words) {
		kcb_area_free(s->area);
		s->area = kcb_area_alloc(area_words, &dummy);
		if (!s->area)
			return -ENOMEM;
	}
	s->handle = handle;
	s->owner = owner;
	s->words = (unsigned int)area_words;
	return 0;
}

static void ho_disable(struct kcb_dev *owner)
{
	for (int i = 0; i < HO_SLOTS; i++)
		if (ho_slots[i].owner == owner)
			ho_slots[i].owner = NULL;
}

static int ho_start(uint64_t handle)
{
	struct kcb_task *t = kcb_current();
	struct ho_slot *s = &ho_slots[handle % HO_SLOTS];

	WRITE_ONCE(s->area[0], 0);
	if (kcb_in_serving_softirq())
		t->kcov_softirq = 1;
	lnx_kcov_start(t, s->owner, s->words, s->area, KCB_MODE_TRACE_CMP, 0);
	return 1;
}

static void ho_stop(uint64_t handle)
{
	struct kcb_task *t = kcb_current();

	(void)handle;
	lnx_kcov_stop(t);
	if (kcb_in_serving_softirq())
		t->kcov_softirq = 0;
}

KCB_REMOTE_LOOP(ho_loop, ho_start, ho_stop, kcb_lnx__plain_count_first__trace_cmp8)

const struct kcb_remote_ops kcb_remote_hooks_only = {
	.name = "hooks-only",
	.origin = "baseline of the request-rate benchmark: the loop's hooks, "
	    "start/stop cut to kcov_start/kcov_stop's field stores",
	.config = "linux",
	.lookup = "none",
	.softirq = 1,
	.init = ho_init,
	.fini = ho_fini,
	.enable = ho_enable,
	.disable = ho_disable,
	.start = ho_start,
	.stop = ho_stop,
	.loop = ho_loop,
};
