/* SPDX-License-Identifier: MIT */
/* The remote-section variants: one remote_<id>.c each, defining
 * kcb_remote_<id>; proposals (no upstream has them) set .proposal.  Add
 * a line here: scripts/configure and kmod/Kbuild read this list. */
#define KCB_REMOTES(X)		\
	X(linux_percpu)		\
	X(linux_pertask_v4)	\
	X(linux_pertask_locallock) \
	X(obsd_kcov_cpu)	\
	X(obsd_owner_plain)	\
	X(netbsd_task)		\
	X(pertask_pcpu_rcu)
