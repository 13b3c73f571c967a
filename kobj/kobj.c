/* SPDX-License-Identifier: MIT */
/*
 * kobj.c - the runtime of the real kernel objects (kobj.h): each thread's
 * per-CPU block and task_structs, the context copy, the returns.
 */
#include <asm/prctl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kobj.h"

#define KOBJ_MAX	64
#define PAGE		4096ul

const char *kobj_return = "ret";

/* This thread's per-CPU block (%gs base) and one task_struct per kernel. */
static __thread char *block;
static __thread char *tasks[KOBJ_MAX];
static pthread_key_t free_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_free(void *p);

static void key_init(void)
{
	pthread_key_create(&free_key, thread_free);
}

static void thread_free(void *p)
{
	(void)p;
	for (int i = 0; i < KOBJ_MAX; i++) {
		free(tasks[i]);
		tasks[i] = NULL;
	}
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
	free(block);
	block = NULL;
}

/* First call on a thread: kcb_thread_attach(), never a signal handler. */
static int thread_init(void)
{
	size_t size = (kobj_nkernels + 1) * PAGE;

	block = aligned_alloc(PAGE, size);
	if (!block)
		return -1;
	memset(block, 0, size);
	for (int i = 0; i < kobj_nkernels; i++) {
		size_t ts = (kobj_kernels[i]->task_size + PAGE - 1) & ~(PAGE - 1);

		/* a page-aligned task_struct: its fields at their page offsets */
		tasks[i] = aligned_alloc(PAGE, ts);
		if (!tasks[i])
			return -1;
		memset(tasks[i], 0, ts);
	}
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)block)) {
		perror("kobj: arch_prctl(ARCH_SET_GS)");
		abort();
	}
	pthread_once(&key_once, key_init);
	pthread_setspecific(free_key, block);
	return 0;
}

void kobj_early_thread(void)
{
	if (!kobj_nkernels || block)
		return;
	if (thread_init()) {
		fprintf(stderr, "kobj: no memory for the per-CPU block\n");
		abort();
	}
	/* current points at the zeroed task_struct (tracing off), task
	 * context: what ctx_sync() writes for a thread with no task yet */
	for (int i = 0; i < kobj_nkernels; i++)
		kobj_kernels[i]->sync(block, tasks[i], NULL, 0);
}

static void ctx_sync(void)
{
	if (!block && (!kcb_tls_current || thread_init()))
		return;
	for (int i = 0; i < kobj_nkernels; i++)
		kobj_kernels[i]->sync(block, tasks[i], kcb_tls_current,
		    kcb_tls_preempt_count);
}

/* `jmp thunk` -> `ret; int3 x4`, as the kernel's apply_returns() leaves a
 * CPU that needs no return thunk. */
static void patch_returns(const struct kobj_kernel *k)
{
	for (int i = 0; i < k->nret; i++) {
		unsigned char *site = (unsigned char *)k->text + k->ret_sites[i];
		uintptr_t pg = (uintptr_t)site & ~(PAGE - 1);

		if (mprotect((void *)pg, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC)) {
			perror("kobj: mprotect");
			abort();
		}
		if (site[0] != 0xe9) {
			fprintf(stderr, "kobj: %s: return site +0x%x is not a jmp\n",
			    k->name, k->ret_sites[i]);
			abort();
		}
		site[0] = 0xc3;
		memset(site + 1, 0xcc, 4);
		mprotect((void *)pg, 2 * PAGE, PROT_READ | PROT_EXEC);
	}
}

__attribute__((constructor)) static void kobj_init(void)
{
	const char *r = getenv("KCB_KERNEL_RETURN");

	if (!kobj_nkernels)
		return;
	if (kobj_nkernels > KOBJ_MAX) {
		fprintf(stderr, "kobj: %d kernels, at most %d\n", kobj_nkernels, KOBJ_MAX);
		abort();
	}
	if (r && strcmp(r, "ret") && strcmp(r, "thunk")) {
		fprintf(stderr, "kobj: KCB_KERNEL_RETURN=%s: use ret or thunk\n", r);
		exit(2);
	}
	if (r)
		kobj_return = r;
	if (!strcmp(kobj_return, "ret"))
		for (int i = 0; i < kobj_nkernels; i++)
			patch_returns(kobj_kernels[i]);
	pthread_once(&key_once, key_init);
	kcb_ctx_hook = ctx_sync;
}

const struct kcb_combo *kcb_kobj_find(const char *name)
{
	for (int i = 0; i < kobj_nkernels; i++)
		if (!kobj_kernels[i]->control && !kobj_kernels[i]->shift &&
		    !strcmp(name, kobj_kernels[i]->name))
			return &kobj_kernels[i]->combo;
	return NULL;
}

const struct kcb_combo *kcb_kobj_placed(const struct kcb_combo *c, void (*hook)(void),
    int layout)
{
	const struct kobj_kernel *k = NULL;
	long off;
	int i, want;

	for (i = 0; i < kobj_nkernels; i++)
		if (&kobj_kernels[i]->combo == c)
			k = kobj_kernels[i];
	if (!k)
		return NULL;
	/* the hook's offset in the object's .text, then the shift that puts
	 * it at +layout (the .text starts at page offset shift) */
	off = (char *)hook - k->text;
	want = (int)(((layout - off) % 64 + 64) % 64);
	for (i = 0; i < kobj_nkernels; i++)
		if (!kobj_kernels[i]->control && kobj_kernels[i]->shift == want &&
		    !strcmp(kobj_kernels[i]->name, k->name))
			return &kobj_kernels[i]->combo;
	return NULL;
}

uint64_t (*kcb_kobj_workload(const struct kcb_combo *c))(uint64_t, void *)
{
	const struct kobj_kernel *k = NULL;

	for (int i = 0; i < kobj_nkernels; i++)
		if (&kobj_kernels[i]->combo == c)
			k = kobj_kernels[i];
	for (int i = 0; k && i < kobj_nkernels; i++)
		if (kobj_kernels[i]->workload && kobj_kernels[i]->control == k->control &&
		    !strcmp(kobj_kernels[i]->name, k->name))
			return kobj_kernels[i]->workload;
	return NULL;
}

const char *kcb_kobj_list(int i, const char **key)
{
	for (int j = 0; j < kobj_nkernels; j++) {
		if (kobj_kernels[j]->control || kobj_kernels[j]->shift || i--)
			continue;
		*key = kobj_kernels[j]->key;
		return kobj_kernels[j]->name;
	}
	return NULL;
}
