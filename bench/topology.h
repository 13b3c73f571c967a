/* SPDX-License-Identifier: MIT */
/*
 * topology.h - where the benchmark's threads run: the machine's CPUs as
 * sysfs describes them, and the placement classes built from them.
 */
#ifndef KCB_TOPOLOGY_H
#define KCB_TOPOLOGY_H

#include <stdio.h>

#define TOPO_MAX_CPUS	1024

struct topo_cpu {
	int cpu;	/* logical CPU number */
	int core;	/* first CPU of its SMT sibling list: one id per core */
	int llc;	/* first CPU sharing its last-level cache */
	int node;	/* NUMA node, 0 without NUMA */
	int package;	/* physical_package_id */
	int leader;	/* the first of its core's CPUs that we may use */
};

/* The CPUs this process may run on, in CPU-number order. */
struct topology {
	struct topo_cpu cpus[TOPO_MAX_CPUS];
	int ncpus;
	int ncores, nllcs, nnodes, npackages;
	int smt;	/* most threads any core has */
};

/* Read sysfs below root ("/sys" normally; tests pass a fake tree). */
int topo_load(struct topology *t, const char *root);
/* The CPU of one number, or NULL. */
const struct topo_cpu *topo_find(const struct topology *t, int cpu);

/*
 * The pin order of a placement class ("smt", "core", "llc", "node",
 * "spread", "list:0,4,8"): thread i runs on out[i].  Returns how many CPUs
 * the class offers, or -1 with a reason in why when this machine cannot
 * form it.
 */
int topo_order(const struct topology *t, const char *cls, int *out, int max,
    char *why, size_t whylen);

/* The default thread points of a class: 1, 2, 4, ... up to its physical
 * cores, then its CPU count. */
int topo_points(const struct topology *t, const int *order, int n, int *out, int max);

/* `kcovbench topology [--placement=CLASS]`: the machine and each class. */
int topo_main(int argc, char **argv);

#endif
