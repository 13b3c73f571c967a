/* SPDX-License-Identifier: MIT */
/* The remote-section variants: one remote_<id>.c each, defining
 * kcb_remote_<id>.  Add a line here and the file to scripts/configure's
 * CORE (and kmod/Kbuild). */
#define KCB_REMOTES(X)		\
	X(linux_percpu)		\
	X(linux_pertask_v4)	\
	X(obsd_kcov_cpu)	\
	X(netbsd_task)
