/* SPDX-License-Identifier: MIT */
/*
 * remote "obsd-owner-plain": PROPOSAL.  OpenBSD rev 1.49's remote sections
 * (remote_obsd_kcov_cpu.c, unchanged) under the proposed-openbsd hooks:
 * kd_claim() plain unless a remote is attached.  kcov_remote_attach() sets
 * kd->shared while the descriptor is still READY, so every buffer these
 * sections write (the owner's, in task context; kd_copy() into it from a
 * kcov_cpu) is claimed with CAS, and the owner's own records too.  This is
 * the twin the owner-plain claim needs: a remote attached before enabling,
 * remote sections in task and softirq context while the owner traces.
 */
#define OB_ID		obsd_owner_plain
#define OB_NAME		"obsd-owner-plain"
#define OB_ORIGIN	"patch to OpenBSD sys/dev/kcov.c rev 1.49: the remote sections of obsd-kcov-cpu with the owner-plain claim"
#define OB_CONFIG	"proposed-openbsd"
#define OB_HOOK		kcb_obsd_149__owner_plain__trace_cmp8
#define OB_PROPOSAL	1
#include "remote_obsd_kcov_cpu.c"
