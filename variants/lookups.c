/* SPDX-License-Identifier: MIT */
/*
 * lookups.c - the handle lookups of lookup.h, each with the lock its origin
 * holds around it, as benchmarkable flavours:
 *
 *   obsd-list		OpenBSD sys/dev/kcov.c rev 1.49 kr_lookup() under
 *			kcov_mtx (a spinning mutex at IPL_MPFLOOR: interrupts
 *			are blocked while it is held)
 *   linux-hash16	Linux kernel/kcov.c kcov_remote_find() under
 *			kcov_remote_lock (v4: spin_lock_irqsave)
 *   netbsd-list	NetBSD subr_kcov.c: preallocated remotes on a list
 *			read without a lock
 *   rcu-hash16		Linux's buckets read under RCU (no upstream user)
 */
#include "lookup.h"

#define LOOP_FIND(fl)							\
static kcb_noinline uint64_t fl##_loop_find(const uint64_t *h, uint64_t nh, \
    uint64_t n)								\
{									\
	uint64_t hits = 0, j = 0;					\
									\
	for (uint64_t i = 0; i < n; i++) {				\
		hits += fl##_find(h[j]) != NULL;			\
		if (++j == nh)						\
			j = 0;						\
	}								\
	return hits;							\
}

/* Entries are unlinked under the flavour's lock, then freed. */
static void free_chain(struct kcb_remote *r)
{
	while (r) {
		struct kcb_remote *next = r->next;

		kcb_free(r);
		r = next;
	}
}

static struct kcb_remote *new_remote(uint64_t handle, struct kcb_dev *kd)
{
	struct kcb_remote *r = kcb_zalloc(sizeof(*r));

	if (r) {
		r->handle = handle;
		r->kd = kd;
	}
	return r;
}

/* ---- obsd-list ---- */
static KCB_DEFINE_SPINLOCK(obsd_mtx);
static struct kcb_rlist obsd_list;		/* [M] obsd_mtx */

static int obsd_add(uint64_t handle, struct kcb_dev *kd)
{
	struct kcb_remote *r = new_remote(handle, kd);
	kcb_irqflags_t f;
	int err = 0;

	if (!r)
		return -ENOMEM;
	kcb_spin_lock_irqsave(&obsd_mtx, f);
	if (rlist_find(&obsd_list, handle))
		err = -EEXIST;
	else
		rlist_insert_tail(&obsd_list, r);
	kcb_spin_unlock_irqrestore(&obsd_mtx, f);
	if (err)
		kcb_free(r);
	return err;
}

static int obsd_del(uint64_t handle)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&obsd_mtx, f);
	r = rlist_find(&obsd_list, handle);
	if (r)
		rlist_remove(&obsd_list, r);
	kcb_spin_unlock_irqrestore(&obsd_mtx, f);
	kcb_free(r);
	return r ? 0 : -ENOENT;
}

static __always_inline struct kcb_dev *obsd_find(uint64_t handle)
{
	struct kcb_remote *r;
	struct kcb_dev *kd;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&obsd_mtx, f);
	r = rlist_find(&obsd_list, handle);
	kd = r ? r->kd : NULL;
	kcb_spin_unlock_irqrestore(&obsd_mtx, f);
	return kd;
}
LOOP_FIND(obsd)

static void obsd_reset(void)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&obsd_mtx, f);
	r = obsd_list.head;
	rlist_init(&obsd_list);
	kcb_spin_unlock_irqrestore(&obsd_mtx, f);
	free_chain(r);
}

/* ---- linux-hash16 ---- */
static KCB_DEFINE_SPINLOCK(lnx_lock);
static struct kcb_rhash lnx_map;		/* [M] lnx_lock */

static int lnx_add(uint64_t handle, struct kcb_dev *kd)
{
	struct kcb_remote *r = new_remote(handle, kd);
	kcb_irqflags_t f;
	int err = 0;

	if (!r)
		return -ENOMEM;
	kcb_spin_lock_irqsave(&lnx_lock, f);
	if (rhash_find(&lnx_map, handle))
		err = -EEXIST;
	else
		rhash_add(&lnx_map, r);
	kcb_spin_unlock_irqrestore(&lnx_lock, f);
	if (err)
		kcb_free(r);
	return err;
}

static int lnx_del(uint64_t handle)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&lnx_lock, f);
	r = rhash_find(&lnx_map, handle);
	if (r)
		rhash_del(&lnx_map, r);
	kcb_spin_unlock_irqrestore(&lnx_lock, f);
	kcb_free(r);
	return r ? 0 : -ENOENT;
}

static __always_inline struct kcb_dev *lnx_find(uint64_t handle)
{
	struct kcb_remote *r;
	struct kcb_dev *kd;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&lnx_lock, f);
	r = rhash_find(&lnx_map, handle);
	kd = r ? r->kd : NULL;
	kcb_spin_unlock_irqrestore(&lnx_lock, f);
	return kd;
}
LOOP_FIND(lnx)

static void lnx_reset(void)
{
	kcb_irqflags_t f;
	unsigned int b;

	for (b = 0; b < KCB_HASH_SIZE; b++) {
		struct kcb_remote *r;

		kcb_spin_lock_irqsave(&lnx_lock, f);
		r = lnx_map.bucket[b];
		lnx_map.bucket[b] = NULL;
		kcb_spin_unlock_irqrestore(&lnx_lock, f);
		free_chain(r);
	}
}

/* ---- netbsd-list: registration serialized by its caller ---- */
static KCB_DEFINE_SPINLOCK(nb_reg_lock);	/* registration only */
static struct kcb_rlist nb_list;		/* [a] readers, nb_reg_lock writers */

static int nb_add(uint64_t handle, struct kcb_dev *kd)
{
	struct kcb_remote *r = new_remote(handle, kd);
	int err = 0;

	if (!r)
		return -ENOMEM;
	kcb_spin_lock(&nb_reg_lock);
	if (rlist_find(&nb_list, handle))
		err = -EEXIST;
	else
		rlist_insert_head(&nb_list, r);
	kcb_spin_unlock(&nb_reg_lock);
	if (err)
		kcb_free(r);
	return err;
}

/* NetBSD never removes a remote while sections may run; here the bench
 * removes only when no finds are running. */
static int nb_del(uint64_t handle)
{
	struct kcb_remote *r;

	kcb_spin_lock(&nb_reg_lock);
	r = rlist_find(&nb_list, handle);
	if (r)
		rlist_remove(&nb_list, r);
	kcb_spin_unlock(&nb_reg_lock);
	kcb_free(r);
	return r ? 0 : -ENOENT;
}

static __always_inline struct kcb_dev *nb_find(uint64_t handle)
{
	struct kcb_remote *r = rlist_find(&nb_list, handle);

	return r ? READ_ONCE(r->kd) : NULL;
}
LOOP_FIND(nb)

static void nb_reset(void)
{
	struct kcb_remote *r;

	kcb_spin_lock(&nb_reg_lock);
	r = nb_list.head;
	rlist_init(&nb_list);
	kcb_spin_unlock(&nb_reg_lock);
	free_chain(r);
}

/* ---- rcu-hash16 ---- */
static KCB_DEFINE_SPINLOCK(rcu_lock);		/* updaters */
static struct kcb_rhash rcu_map;		/* [M] rcu_lock, RCU readers */

static int rcu_add(uint64_t handle, struct kcb_dev *kd)
{
	struct kcb_remote *r = new_remote(handle, kd);
	kcb_irqflags_t f;
	int err = 0;

	if (!r)
		return -ENOMEM;
	kcb_spin_lock_irqsave(&rcu_lock, f);
	if (rhash_find(&rcu_map, handle))
		err = -EEXIST;
	else
		rcu16_add(&rcu_map, r);
	kcb_spin_unlock_irqrestore(&rcu_lock, f);
	if (err)
		kcb_free(r);
	return err;
}

static int rcu_del(uint64_t handle)
{
	struct kcb_remote *r;
	kcb_irqflags_t f;

	kcb_spin_lock_irqsave(&rcu_lock, f);
	r = rhash_find(&rcu_map, handle);
	if (r)
		rcu16_del(&rcu_map, r);
	kcb_spin_unlock_irqrestore(&rcu_lock, f);
	if (!r)
		return -ENOENT;
	kcb_synchronize_rcu();
	kcb_free(r);
	return 0;
}

static __always_inline struct kcb_dev *rcu_find(uint64_t handle)
{
	struct kcb_remote *r;
	struct kcb_dev *kd;

	kcb_rcu_read_lock();
	r = rcu16_find(&rcu_map, handle);
	kd = r ? READ_ONCE(r->kd) : NULL;
	kcb_rcu_read_unlock();
	return kd;
}
LOOP_FIND(rcu)

static void rcu_reset(void)
{
	struct kcb_remote *chains[KCB_HASH_SIZE];
	kcb_irqflags_t f;
	unsigned int b;

	kcb_spin_lock_irqsave(&rcu_lock, f);
	for (b = 0; b < KCB_HASH_SIZE; b++) {
		chains[b] = rcu_map.bucket[b];
		kcb_rcu_assign_pointer(rcu_map.bucket[b], NULL);
	}
	kcb_spin_unlock_irqrestore(&rcu_lock, f);
	kcb_synchronize_rcu();
	for (b = 0; b < KCB_HASH_SIZE; b++)
		free_chain(chains[b]);
}

#define FLAVOUR(fl, nm, org, dr)					\
static const struct kcb_lookup_ops fl##_ops = {				\
	.name = nm, .origin = org, .del_with_readers = dr, .add = fl##_add, .del = fl##_del,	\
	.find = fl##_find_fn, .loop_find = fl##_loop_find,		\
	.reset = fl##_reset,						\
};
#define FIND_FN(fl)							\
static struct kcb_dev *fl##_find_fn(uint64_t h) { return fl##_find(h); }
FIND_FN(obsd)
FIND_FN(lnx)
FIND_FN(nb)
FIND_FN(rcu)
FLAVOUR(obsd, "obsd-list", "OpenBSD sys/dev/kcov.c rev 1.49 kr_lookup() under kcov_mtx", 1)
FLAVOUR(lnx, "linux-hash16", "Linux kernel/kcov.c kcov_remote_find() under kcov_remote_lock", 1)
FLAVOUR(nb, "netbsd-list", "NetBSD sys/kern/subr_kcov.c: unlocked list of preallocated remotes", 0)
FLAVOUR(rcu, "rcu-hash16", "Linux's 16 buckets under RCU (no upstream user)", 1)

const struct kcb_lookup_ops *const kcb_lookups[] = {
	&obsd_ops, &lnx_ops, &nb_ops, &rcu_ops,
};
const int kcb_nlookups = sizeof(kcb_lookups) / sizeof(kcb_lookups[0]);

const struct kcb_lookup_ops *kcb_lookup_find(const char *name)
{
	for (int i = 0; i < kcb_nlookups; i++)
		if (!strcmp(kcb_lookups[i]->name, name))
			return kcb_lookups[i];
	return NULL;
}
