"""kcovbench realprog: each configuration's slowdown on real programs that
no one here wrote, built from Debian source by the recipes in realprog/
(the format: realprog/README.md).

For each program: fetch (`apt-get source`, with a private apt
configuration in .cache/apt whose deb-src entries are derived from this
machine's own apt sources; the system's configuration is not touched),
set up (the recipe's Setup, once), build (its Build in a fresh copy of the
tree, once per instrumentation set: none, trace-pc, trace-pc,trace-cmp),
link per set: the empty hooks (the calls alone), each front end with no
claim (build/feonly/: the lookup alone), and each configuration's hooks
(build/plain/variants_fe_<fe>.o, renamed to __sanitizer_cov_* by
objcopy), with bench/instrument_rt.c as the runtime.  Check: every build
prints what the uninstrumented one prints, every full build of a set
drains the same number of PCs (the drain is exact: instrument_rt.c), the
front-end-only builds none.  Count: callgrind's instructions per hook.
Time: hyperfine over all builds in interleaved rounds, pinned.  Results:
results/realprog/<program>/ (README.md with the tables, summary.json,
key.txt, hyperfine's JSON, build-commands.sh) and results/realprog/README.md,
the index.  Every step but timing is skipped when its output is up to date.
"""
import datetime
import glob
import os
import platform
import shutil
import sys
import time

from . import machine, recipe, realprog_report as report
from . import realprog_work as work
from .common import ROOT, Failure, Staging, UsageError, first_line
from .realprog_build import BUILD_CMDS, OPT, SETS, build, configs, kernel_configs
from .realprog_measure import CG_SET, PIN, callgrind, check, hyperfine
from .realprog_source import fetch
from .realprog_work import say


NAME = "realprog"
HELP = "slowdown of each configuration on real programs (Debian source, realprog/*.recipe)"
OUT = os.path.join(ROOT, "results", "realprog")
DEFAULT_RUNS = 2
DEFAULT_ROUNDS = 5


def _rel(p):
    return os.path.relpath(p, ROOT)


def tree_git():
    """This tree's commit, "-dirty" if it has changes; "unknown" without git.
    results/ does not make a build dirty (scripts/build-version's rule):
    this run's own output lands there."""
    return machine.tree_git(".", ":!results")


def machine_key(rc):
    dsc = sorted(glob.glob(os.path.join(work.WORK, rc.name, "src", "%s_*.dsc" % rc.source)))
    deb = os.path.basename(dsc[-1])[len(rc.source) + 1:-len(".dsc")] if dsc else "?"
    cores = machine.cores(machine.lscpu())
    git = tree_git()
    return [("cpu", machine.cpuinfo_model() or "?"),
            ("cores", "?" if cores is None else str(cores)),
            ("cpus", str(len(os.sched_getaffinity(0)))),
            ("kernel", platform.release()),
            ("compiler", machine.compiler() or "?"),
            ("flags", OPT + " (program), hooks as build/plain"),
            ("glibc", platform.libc_ver()[1] or "?"),
            ("liburcu", machine.package_version("liburcu-dev") or "?"),
            ("program", "%s (Debian source %s %s)" % (rc.name, rc.source, deb)),
            ("hyperfine", first_line(["hyperfine", "--version"]) or "?"),
            ("valgrind", first_line(["valgrind", "--version"]) or "?"),
            ("virt", "+".join(machine.detected_virt()) or "none"),
            ("git", git)]


def add_arguments(p):
    p.add_argument("--list", action="store_true", help="list the programs (realprog/*.recipe)")
    p.add_argument("--program", action="append", default=[],
                   help="a program to run (repeatable; default: every one)")
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                   help="hyperfine runs per build and round (default %d)" % DEFAULT_RUNS)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help="hyperfine invocations, the build order rotated (default %d)"
                   % DEFAULT_ROUNDS)
    p.add_argument("--configs", default="proposals",
                   help="comma-separated configurations, upstream (the 6 upstream ones) "
                        "or proposals (those and every proposal's, marked; the default)")
    p.add_argument("--cpu", type=int, help="the CPU to pin the timing to (default: the last "
                   "allowed one); given, the checks and callgrind run there too, one at a time")
    p.add_argument("--out", default=OUT, help="results directory (default results/realprog)")
    p.add_argument("--build-only", action="store_true",
                   help="fetch, build and check; do not count or time")
    p.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    p.add_argument("--allow-dirty", action="store_true",
                   help="publish into results/ from a tree with changes (the key says "
                        "git=...-dirty); refused otherwise, as run refuses it")


def which_configs(arg):
    """The configurations asked for; a real kernel object (kernel-*) only
    when named, so the default sets stay the replicas'."""
    allc = configs()
    kernels = kernel_configs() if any(c.startswith("kernel-") for c in arg.split(",")) else []
    allc = allc + kernels
    if arg == "upstream":
        return configs(upstream_only=True)
    if arg == "proposals":   # each beside the upstream ones, marked
        return allc
    want = [c for c in arg.split(",") if c]
    bad = [c for c in want if c not in {n for n, _, _ in allc}]
    if any(c.startswith("kernel-") for c in bad):
        raise UsageError("%s: no such kernel object linked into build/plain/kcovbench "
                         "(scripts/setup builds kernel-6.1 and kernel-6.12; `kcovbench "
                         "kernel add` others)" % ", ".join(c for c in bad if c.startswith("kernel-")))
    if bad or not want:
        raise UsageError("unknown configuration %s (configurations: %s)"
                         % (", ".join(bad) or "(none)", " ".join(n for n, _, _ in allc)))
    return [c for c in allc if c[0] in want]


def main(args):
    recipes = recipe.all_recipes()
    if args.list:
        for rc in recipes:
            print("%-8s %s  [Debian source %s; realprog/%s.recipe]"
                  % (rc.name, rc.description, rc.source, rc.name))
        return 0
    chosen = [recipe.find(n) for n in args.program] if args.program else recipes
    which = which_configs(args.configs)
    if args.runs < 1 or args.rounds < 1 or args.runs * args.rounds < 10:
        raise UsageError("want --runs >= 1, --rounds >= 1 and at least 10 runs per build "
                         "(--runs x --rounds)")
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1] if args.cpu is None else args.cpu
    if cpu not in cpus:
        raise UsageError("--cpu %d is not one this process may use (%s)" % (cpu, cpus))
    for tool in ("gcc", "objcopy", "make", "hyperfine", "taskset", "valgrind", "ninja"):
        if not shutil.which(tool):
            raise Failure("need %s (scripts/setup installs it)" % tool)
    if not args.build_only:
        # run's rule, checked before the fetch and build of many minutes
        machine.publishable(args.out, tree_git(), args.allow_dirty)
    jobs = len(cpus)
    if args.cpu is not None:
        PIN[:] = ["taskset", "-c", str(cpu)]
        jobs = 1
    for rc in chosen:
        t0 = time.monotonic()
        BUILD_CMDS.clear()
        tree, run_dir = fetch(rc)
        t1 = time.monotonic()
        bins = build(rc, tree, which)
        t2 = time.monotonic()
        checked = check(rc, bins, run_dir, jobs)
        say("%s: check: all %d builds print the uninstrumented build's output; full builds "
            "drain %s records (Run-Small) and %s (Run), front-end-only builds none"
            % (rc.name, len(bins), ", ".join("%s %d" % (sid, next(
                st["records"] for n, st in checked["Run-Small"].items()
                if n.startswith(sid + "/") and "/fe-only/" not in n)) for sid, _, _ in SETS),
               ", ".join("%s %d" % (sid, next(
                   st["records"] for n, st in checked["Run"].items()
                   if n.startswith(sid + "/"))) for sid, _, _ in SETS)))
        if args.build_only:
            continue
        cg = {} if args.no_callgrind else callgrind(rc, bins, run_dir, jobs)
        t3 = time.monotonic()
        out = os.path.join(args.out, rc.name)
        # the old set stays whole until the new one replaces it at commit()
        with Staging(out, replace=True) as stage:
            publish(rc, args, stage, out, bins, run_dir, cpu, which, checked, cg,
                    (t0, t1, t2, t3))
        report.write_index(args.out)
    return 0


def publish(rc, args, stage, out, bins, run_dir, cpu, which, checked, cg, times0):
    """Time the builds into the staging directory, write the report there
    and commit it as out."""
    t0, t1, t2, t3 = times0
    load0 = os.getloadavg()
    cmds, times = hyperfine(rc, bins, run_dir, args.runs, args.rounds, cpu, stage.path,
                            out)
    load1 = os.getloadavg()
    t4 = time.monotonic()
    opts = " --program %s" % rc.name
    if args.configs != "proposals":
        opts += " --configs " + args.configs
    if (args.runs, args.rounds) != (DEFAULT_RUNS, DEFAULT_ROUNDS):
        opts += " --runs %d --rounds %d" % (args.runs, args.rounds)
    if args.cpu is not None:
        opts += " --cpu %d" % args.cpu
    if args.out != OUT:
        opts += " --out " + os.path.relpath(args.out, ROOT)
    key = machine_key(rc)
    machine.publishable(args.out, dict(key)["git"], args.allow_dirty)
    ctx = {"recipe": rc, "which": which, "times": times, "checked": checked, "cg": cg,
           "key": key, "opts": opts, "cmds": cmds, "runs": args.runs, "rounds": args.rounds,
           "cpu": cpu, "load": (load0[0], load1[0]),
           "steps": (t1 - t0, t2 - t1, t3 - t2, t4 - t3), "sets": SETS, "cg_set": CG_SET,
           "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "run_dir": _rel(run_dir)}
    report.write(stage.path, ctx, BUILD_CMDS)
    stage.commit()


if __name__ == "__main__":
    import argparse
    sys.dont_write_bytecode = True
    ap = argparse.ArgumentParser(prog="kcovbench realprog", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    try:
        sys.exit(main(ap.parse_args()))
    except UsageError as e:
        print("kcovbench realprog: error: %s" % e, file=sys.stderr)
        sys.exit(2)
    except Failure as e:
        print("kcovbench realprog: %s" % e, file=sys.stderr)
        sys.exit(1)
