/* SPDX-License-Identifier: MIT */
/*
 * kobj.h - real kernel objects as configurations (userland only, never in
 * the module): a kernel tree's compiled kernel/kcov.o, linked unmodified
 * with its symbols renamed (scripts/kobj-bundle), run on a simulated CPU:
 *
 *  - per-CPU data: each attached thread's GS base points at its own block
 *    (arch_prctl(ARCH_SET_GS)); the linker script fragment gives every
 *    per-CPU symbol the hooks read (current_task, __preempt_count,
 *    pcpu_hot) an offset in it, page 0 left empty as vmlinux's first
 *    per-CPU page is not, kernel i's variables in page i + 1 at their page
 *    offset (place.h: System.map's, or a default away from offset 0);
 *  - current: a zeroed task_struct-sized block per thread and kernel,
 *    fields at the offsets kbuild's asm-offsets technique found (facts.h);
 *  - context: the contract's simulated preempt count (kcb_user.c), mapped
 *    onto the kernel's bits (PREEMPT_ENABLED | softirq/hardirq/NMI counts
 *    at the kernel's offsets) whenever it changes, and the contract's task
 *    (kcov_mode, kcov_size, kcov_area, kcov_softirq) copied into the
 *    task_struct whenever it changes (kcb_ctx_changed());
 *  - returns: kcov.o's `jmp __x86_return_thunk` rewritten at start-up to
 *    `ret; int3` as a booted kernel without return thunks does, or, with
 *    KCB_KERNEL_RETURN=thunk, left jumping to a thunk that is `ret; int3`.
 */
#ifndef KCB_KOBJ_H
#define KCB_KOBJ_H

#include "../variants/variant.h"

struct kobj_kernel {
	const char *name;		/* "kernel-6.1" */
	const char *key;		/* scripts/kernel-obj's key line */
	int control;			/* the broken control: tests only */
	struct kcb_frontend fe;
	struct kcb_pair pair;
	struct kcb_combo combo;
	uint64_t task_size;		/* sizeof(struct task_struct) */
	/* Write the contract's task t and preempt count pc into this
	 * kernel's task_struct and per-CPU variables of block. */
	void (*sync)(char *block, char *task, const struct kcb_task *t, unsigned int pc);
	char *text;			/* the object's .text (after the pad) */
	int shift;			/* its page offset: 0 is the configuration,
					 * 16, 32, 48 copies for ab's layouts */
	/* the instrumented workload linked against this object's hooks
	 * (the +0 copy only; NULL elsewhere) */
	uint64_t (*workload)(uint64_t seed, void *scratch);
	const uint32_t *ret_sites;	/* offsets in text of `jmp thunk` */
	int nret;
};

extern const struct kobj_kernel *const kobj_kernels[];
extern const int kobj_nkernels;
/* "thunk" or "ret": what the hooks' returns run (KCB_KERNEL_RETURN) */
extern const char *kobj_return;

/* registry.c and list.c through the contract's weak hooks */
const struct kcb_combo *kcb_kobj_find(const char *name);
/* c (a kernel configuration's combo) linked so that its hook sits at
 * +layout in its 64-byte line: the copy with the right .text shift; NULL
 * when no copy puts it there. */
const struct kcb_combo *kcb_kobj_placed(const struct kcb_combo *c, void (*hook)(void),
    int layout);
/* The workload copy that calls kernel configuration c's hooks (any
 * placement's copy of it: the +0 copy's), or NULL. */
uint64_t (*kcb_kobj_workload(const struct kcb_combo *c))(uint64_t, void *);
/* Give the calling thread its per-CPU block (%gs base) and task_structs
 * now, not at its first kcb_thread_attach(): for a program whose hooks
 * may run before that (realprog's instrumented programs, from a
 * constructor).  Tracing is off in them until the contract enables it. */
void kobj_early_thread(void);
/* The i-th listed (non-control) kernel configuration's name and key line;
 * NULL past the end. */
const char *kcb_kobj_list(int i, const char **key);

#endif
