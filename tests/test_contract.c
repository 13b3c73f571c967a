/* SPDX-License-Identifier: MIT */
/*
 * test_contract.c - the userland contract keeps the costs the kernel has
 * (issue 9): a !RT spinlock disables preemption while held, per-CPU copies
 * sit on lines of their own, and a thread's buffer is emptied only when
 * the next batch might not fit; the KCOV_EXT_RECORDS front ends tag
 * records in the extended mode only (issue 25).  Each check fails if that
 * rule is undone.
 */
#include "../bench/modes.h"
#include "../variants/lnx_ext.h"

static int passed, failed;

static void check(const char *what, int ok)
{
	printf("%sok %s\n", ok ? "" : "not ", what);
	ok ? passed++ : failed++;
}

static KCB_DEFINE_PER_CPU(uint64_t, pcpu_probe);

static void lock_fn(int idx, void *arg)
{
	kcb_spinlock_t l;
	kcb_irqflags_t f;
	unsigned int before = kcb_preempt_count(), held, held_irq;

	(void)idx;
	(void)arg;
	kcb_spin_lock_init(&l);
	kcb_spin_lock(&l);
	held = kcb_preempt_count();
	kcb_spin_unlock(&l);
	kcb_spin_lock_irqsave(&l, f);
	held_irq = kcb_preempt_count();
	kcb_spin_unlock_irqrestore(&l, f);
	check("spin_lock() disables preemption while held (!RT)", held == before + 1);
	check("spin_lock_irqsave() disables preemption while held (!RT)", held_irq == before + 1);
	check("spin_unlock() enables it again", kcb_preempt_count() == before);
}

/* One trace_pc from one call site: the same PC every time (the barrier
 * keeps the call from becoming a tail jump, which would record our
 * caller's call site). */
static kcb_noinline void one_pc(const struct kcb_combo *c)
{
	c->trace_pc();
	barrier();
}

/* KCOV_EXT_RECORDS (issue 25): both front ends record plain PCs in the
 * legacy mode and tagged ones in the extended mode; linux-ext-mode's byte
 * compare still refuses a task switched out. */
static void ext_records_fn(int idx, void *arg)
{
	const struct kcb_combo *v1 = kcb_find("linux-ext-records");
	const struct kcb_combo *ours = kcb_find("proposed-linux-ext-mode");
	struct kcb_task *t = kcb_current();
	struct kcb_dev kd;
	uint64_t pc;

	if (!v1 || !ours || kcb_dev_init(&kd, 64)) {
		check("linux-ext-records and proposed-linux-ext-mode built", 0);
		return;
	}
	kcb_task_enable(t, &kd, KCB_MODE_TRACE_PC);
	one_pc(v1);
	pc = kd.buf[1];
	t->kcov_ext_format = 1;
	one_pc(v1);
	t->kcov_ext_format = 0;
	check("v1: a plain PC, then the same one tagged with the task's flag",
	    kd.buf[0] == 2 && pc >> KCB_REC_TYPE_SHIFT != KCB_REC_TYPE_BB &&
	    kd.buf[2] == lnx_ext_tag(pc, KCB_REC_TYPE_BB));
	kd.buf[0] = 0;
	one_pc(ours);
	t->kcov_mode = KCB_MODE_TRACE_PC | KCB_MODE_EXT_FORMAT;
	one_pc(ours);
	t->kcov_mode = KCB_MODE_TRACE_PC | KCB_MODE_EXT_FORMAT | KCB_MODE_IN_CTXSW;
	one_pc(ours);
	t->kcov_mode = KCB_MODE_TRACE_PC | KCB_MODE_IN_CTXSW;
	one_pc(ours);
	check("linux-ext-mode: plain, then tagged in the extended mode, none while switched out",
	    kd.buf[0] == 2 && kd.buf[1] == pc && kd.buf[2] == lnx_ext_tag(pc, KCB_REC_TYPE_BB));
	t->kcov_mode = KCB_MODE_TRACE_CMP | KCB_MODE_EXT_FORMAT;
	kd.buf[0] = 0;
	one_pc(ours);
	check("linux-ext-mode: the comparison mode refuses trace_pc", kd.buf[0] == 0);
	kcb_task_disable(t);
	kcb_dev_fini(&kd);
}

int main(void)
{
	uintptr_t a = (uintptr_t)kcb_per_cpu_ptr(pcpu_probe, 0);
	uintptr_t b = (uintptr_t)kcb_per_cpu_ptr(pcpu_probe, 1);
	struct kcb_dev own;

	if (kcb_parallel(1, lock_fn, NULL))
		check("a thread of the simulated machine", 0);
	if (kcb_parallel(1, ext_records_fn, NULL))
		check("a thread of the simulated machine", 0);
	check("per-CPU copies 128 bytes apart or more", b - a >= 128);
	check("per-CPU copies start a 128-byte block", a % 128 == 0 && b % 128 == 0);

	/* syzkaller-sized buffer: appended to until a batch may not fit */
	if (kcb_dev_init(&own, KCB_BUFFER_WORDS_DEFAULT))
		return 2;
	own.buf[0] = own.nmemb - KCB_BATCH;
	mode_own_reset(&own, KCB_STRIDE_PC);
	check("a buffer with room for a batch is kept", own.buf[0] == own.nmemb - KCB_BATCH);
	own.buf[0] = own.nmemb - KCB_BATCH + 1;
	mode_own_reset(&own, KCB_STRIDE_PC);
	check("a buffer without room for a batch is emptied", own.buf[0] == 0);
	own.buf[0] = own.nmemb / KCB_STRIDE_CMP - KCB_BATCH;
	mode_own_reset(&own, KCB_STRIDE_CMP);
	check("the same rule in cmp records", own.buf[0] == own.nmemb / KCB_STRIDE_CMP - KCB_BATCH);
	check("the default buffer is syzkaller's 256K words", own.nwords == 256u << 10);
	kcb_dev_fini(&own);

	printf("%d passed, %d failed\n", passed, failed);
	if (passed + failed == 0) {
		fprintf(stderr, "%s: no test ran: 0 passed is a failure\n", __FILE__);
		return 1;
	}
	return failed ? 1 : 0;
}
