"""kcovbench gate: an instruction-count regression gate for the hook hot paths.

Each configuration and mode runs `kcovbench ops` (a fixed number of hook
calls on one pinned thread) under a counter backend, and the counts per
operation are compared with a committed baseline, one threshold per event.

Backends: `perf` (hardware counters, perf stat --control around the loop
only, user-space events, minimum over runs) where the machine has them;
`callgrind` (valgrind, exact counts of the loop and its hooks, branches
from --branch-sim) where it does not.  `auto` takes the baseline's backend
if it works here, else perf, else callgrind.

Exit codes: 0 no regression; 1 regression (table on stdout); 2 bad usage or
input (a damaged baseline, a count below 1, an unwritable --json or
--update target), found before measuring; 3 not comparable (no baseline, or one made with another backend,
compiler, tool version, op count or CPU): nothing was judged; 4 the
measurement itself failed (no backend works, the binary failed, or counts
that must be exact differed between runs).
"""
import argparse
import contextlib
import json
import os
import re
import sys

from . import binary, registry
from .common import Lazy, UsageError, atomic_write, writable_dir
from .gate_baseline import (BASELINE, DEFAULT_ABS_LIMITS, DEFAULT_THRESHOLDS, REQUIRED_KEY,
                            comparable, load_baseline, write_baseline)
from .gate_counts import (BACKEND_EVENTS, BATCH, DEFAULT_OPS, DEFAULT_RUNS, EVENTS,
                          MeasureError, choose_backend, make_info, make_key, measure)
from .gate_verdict import judge, render, render_regressions


NAME = "gate"
HELP = "instruction-count regression gate against results/gate/baseline.json"
EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCOMPARABLE, EXIT_MEASURE = 0, 1, 2, 3, 4


def default_kernels():
    """The real kernel objects (kobj/) the gate counts unless --configs says
    otherwise: the Debian references scripts/setup builds (source deb:, no
    patch: kernel-6.1, kernel-6.12), which CI's clean clone builds too.  A
    user's own kernel-NAME, or a patched one, is counted when --configs
    names it."""
    return [k["name"] for k in registry.kernels()
            if "[deb:" in k["key"] and " patch=none " in k["key"]]


# Every upstream configuration, the linked Debian kernel objects and the
# empty hook, in the binary's default modes plus one switch of each flavour
# (the registry's, read when used).  A kernel object runs only its hooks'
# modes (registry.kernels()' "modes"): the others are left out, said so.
DEFAULT_CONFIGS = Lazy(lambda: list(registry.upstream_configs()) + default_kernels() + ["empty"])
DEFAULT_MODES = Lazy(lambda: list(registry.default_modes()) + ["switch16", "switch16-pc"])


class Incomparable(Exception):
    """Nothing to compare with: exit 3."""


def _threshold(s):
    m = re.match(r"^\s*([a-z]+)\s*=\s*([0-9]*\.?[0-9]+)\s*%?\s*$", s)
    if not m or m.group(1) not in EVENTS:
        raise argparse.ArgumentTypeError(
            "want EVENT=PERCENT with EVENT one of %s, e.g. instructions=2" % ", ".join(EVENTS))
    return m.group(1), float(m.group(2))


def _positive(s):
    """--runs, --ops, --jobs: 0 or less used to fall back to the default."""
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError("want a whole number above 0, not %r" % s)
    return v


def _csv(s):
    return [x for x in s.split(",") if x]


def add_arguments(p):
    p.add_argument("--update", action="store_true",
                   help="measure and rewrite the baseline (atomically), then exit 0")
    p.add_argument("--baseline", default=BASELINE,
                   help="baseline file (default results/gate/baseline.json)")
    p.add_argument("--binary", help="the kcovbench binary to measure "
                   "(default: build/plain/kcovbench, built first)")
    p.add_argument("--backend", choices=("auto", "perf", "callgrind"), default="auto",
                   help="counter backend (default auto: the baseline's if it works "
                   "here, else perf with hardware counters, else callgrind)")
    p.add_argument("--configs", type=_csv, default=DEFAULT_CONFIGS,
                   help="comma-separated (default: %s)" % ",".join(DEFAULT_CONFIGS))
    p.add_argument("--modes", type=_csv, default=DEFAULT_MODES,
                   help="comma-separated modes (default: %s)" % ",".join(DEFAULT_MODES))
    p.add_argument("--ops", type=_positive, default=None,
                   help="hook calls per run, a multiple of %d (default: the baseline's, "
                   "else %d)" % (BATCH, DEFAULT_OPS))
    p.add_argument("--threshold", type=_threshold, action="append", default=[],
                   metavar="EVENT=PCT", help="fail when EVENT per op grows more than PCT "
                   "percent (repeatable; defaults: %s; a baseline's own thresholds "
                   "override the defaults)" % ", ".join(
                       "%s=%g" % kv for kv in DEFAULT_THRESHOLDS.items()))
    p.add_argument("--abs-limit", type=_threshold, action="append", default=[],
                   metavar="EVENT=COUNT", help="fail when EVENT per op grows by more than "
                   "COUNT, whatever the percentage (repeatable; default: %s; a "
                   "baseline's abs_limits override it)" % ", ".join(
                       "%s=%g" % kv for kv in DEFAULT_ABS_LIMITS.items()))
    p.add_argument("--runs", type=_positive, default=None,
                   help="runs per config and mode (default: callgrind 2, which must "
                   "agree exactly; perf 5, minimum kept)")
    p.add_argument("--jobs", type=_positive, default=None,
                   help="parallel runs (default: callgrind one per CPU; perf 1)")
    p.add_argument("--json", metavar="FILE", help="also write the verdict as JSON")


def _command_line(args):
    """The command that makes the same baseline (defaults left out)."""
    parts = ["kcovbench", "gate", "--update"]
    if args.configs != DEFAULT_CONFIGS:
        parts.append("--configs=" + ",".join(args.configs))
    if args.modes != DEFAULT_MODES:
        parts.append("--modes=" + ",".join(args.modes))
    if args.ops:
        parts.append("--ops=%d" % args.ops)
    if args.backend != "auto":
        parts.append("--backend=" + args.backend)
    parts += ["--threshold=%s=%g" % t for t in args.threshold]
    parts += ["--abs-limit=%s=%g" % t for t in args.abs_limit]
    return " ".join(parts)


def main(args):
    try:
        return _main(args)
    except UsageError as e:
        print("kcovbench gate: error: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except Incomparable as e:
        print("kcovbench gate: NOT COMPARABLE: %s" % e, file=sys.stderr)
        return EXIT_INCOMPARABLE
    except MeasureError as e:
        print("kcovbench gate: MEASUREMENT FAILED: %s" % e, file=sys.stderr)
        return EXIT_MEASURE


def _check_writable(path, what):
    """UsageError now, not after the measurement, if path cannot be written."""
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError("%s %s is a directory" % (what, path))
    if os.path.exists(d) and not os.path.isdir(d):
        raise UsageError("%s %s: %s is not a directory" % (what, path, d))
    try:
        writable_dir(d)
    except UsageError as e:
        raise UsageError("%s %s: %s" % (what, path, e))


@contextlib.contextmanager
def _writing(what, path):
    """A write that still fails after _check_writable: a message and exit 2,
    not a traceback and exit 1, which CI reads as a regression."""
    try:
        yield
    except OSError as e:
        raise UsageError("%s: cannot write %s: %s" % (what, path, e.strerror or e))


def _kernel_plan(configs, modes, default, base, exe="build/plain/kcovbench"):
    """(skip, notes): the (config, mode) pairs a kernel configuration does
    not run, and a line saying so per kernel.  Fails closed (MeasureError,
    exit 4) when a kernel configuration the gate must count is not linked:
    one --configs names, or, by default, any the baseline holds, or none at
    all -- never a silent pass without them."""
    linked = {k["name"]: k for k in registry.kernels()}
    want = [c for c in configs if c.startswith("kernel-")]
    if default:
        want += sorted({e["config"] for e in (base or {}).get("entries", [])
                        if e["config"].startswith("kernel-")} - set(want))
    absent = [c for c in want if c not in linked]
    if absent or (default and not want):
        where = os.path.relpath(exe) if os.path.isabs(exe) else exe
        what = ("%s %s not linked into %s" % (
            ", ".join(absent), "is" if len(absent) == 1 else "are", where) if absent else
            "no real kernel object is linked into %s" % where)
        raise MeasureError(
            "%s (nothing built under .cache/kernel-obj/ here).  The gate counts the "
            "kernel configurations with the replicas: build them with scripts/setup "
            "(or scripts/kernel-obj 6.1 --source deb:6.1, and 6.12) and run it again, "
            "or gate the replicas alone with an explicit --configs" % what)
    skip, notes = set(), []
    for c in configs:
        if c in linked:
            out = [m for m in modes if m not in linked[c]["modes"]]
            skip |= {(c, m) for m in out}
            if out:
                notes.append("%s: %s not counted (a real kernel object runs its hooks' "
                             "modes only)" % (c, ", ".join(out)))
    if skip and all((c, m) in skip for c in configs for m in modes):
        raise UsageError("no mode asked for is one %s run%s" % (
            ", ".join(configs), "s" if len(configs) == 1 else ""))
    return skip, notes


def _main(args):
    default = args.configs is DEFAULT_CONFIGS
    args.configs, args.modes = list(args.configs), list(args.modes)   # the defaults are lazy
    import time
    t0 = time.monotonic()
    args.modes = binary.expand_modes(args.modes)
    for m in args.modes:
        if m not in binary.MODES:
            raise UsageError("bad mode %s (want %s)" % (m, ",".join(binary.MODES)))
    if not args.configs or not args.modes:
        raise UsageError("no configs or modes to measure")
    base = load_baseline(args.baseline)
    if args.update:
        _check_writable(args.baseline, "--update: baseline")
    if args.json:
        _check_writable(args.json, "--json")
    ops = args.ops or (base["key"].get("ops") if base and not args.update else None) or DEFAULT_OPS
    if ops <= 0 or ops % BATCH:
        raise UsageError("--ops must be a positive multiple of %d" % BATCH)
    if args.binary:
        exe = os.path.abspath(args.binary)
        if not os.access(exe, os.X_OK):
            raise UsageError("--binary %s is not an executable" % args.binary)
    else:
        try:
            exe = binary.ensure_built()
        except Exception as e:      # binary.Failure: the build broke
            raise MeasureError(str(e))
    backend, why = choose_backend(args.backend, base)
    runs = args.runs or DEFAULT_RUNS[backend]
    jobs = args.jobs or (len(os.sched_getaffinity(0)) if backend == "callgrind" else 1)
    thresholds = dict(DEFAULT_THRESHOLDS)
    if base and isinstance(base.get("thresholds"), dict):
        thresholds.update(base["thresholds"])
    thresholds.update(dict(args.threshold))
    abs_limits = dict(DEFAULT_ABS_LIMITS)
    if base and isinstance(base.get("abs_limits"), dict):
        abs_limits.update(base["abs_limits"])
    abs_limits.update(dict(args.abs_limit))
    key = make_key(backend, exe, ops)

    # Refuse before measuring what could not be compared anyway.
    if not args.update:
        if base is None:
            raise Incomparable("no baseline at %s; make one with `kcovbench gate "
                               "--update` and commit it" % args.baseline)
        diff = comparable(base, key)
        if diff:
            raise Incomparable(
                "baseline %s was made with another %s:\n%s\nre-make it here with "
                "`kcovbench gate --update` (and commit it), or run where it was made"
                % (args.baseline, ", ".join(f for f, _, _ in diff),
                   "".join("  %s: baseline %r, here %r\n" % d for d in diff)))

    skip, kernel_notes = _kernel_plan(args.configs, args.modes, default, base, exe)
    result = measure(backend, exe, args.configs, args.modes, ops, runs, jobs, skip)
    elapsed = time.monotonic() - t0
    exact = "identical in all %d runs" % runs if backend == "callgrind" else \
        "minimum of %d runs" % runs
    print("kcovbench gate: backend %s (%s; %s), %s" % (backend, key["tool"], why, key["compiler"]))
    print("  %d configs x %d modes, %d ops each, counts %s; %.1f s"
          % (len(args.configs), len(args.modes), ops, exact, elapsed))
    for n in kernel_notes:
        print("  " + n)
    if backend == "callgrind":
        print("  callgrind counts instructions and branches (Bc+Bi); cycles need "
              "hardware counters")
    if backend == "perf":
        spread = max(((max(r["instructions"] for r in v["runs"]) -
                       min(r["instructions"] for r in v["runs"])) /
                      max(1, min(r["instructions"] for r in v["runs"])) * 100, k)
                     for k, v in result.items())
        print("  largest instruction spread between runs: %.3f%% (%s %s)"
              % (spread[0], spread[1][0], spread[1][1]))

    if args.update:
        with _writing("--update", args.baseline):
            kept = write_baseline(args.baseline, base, key, make_info(exe),
                                  {e: thresholds[e] for e in EVENTS}, result, ops,
                                  _command_line(args), abs_limits)
        rows, _, _ = judge(None, result, ops, thresholds, backend)
        for r in rows:
            r["verdict"] = "recorded"
        print()
        sys.stdout.write(render(rows, backend))
        print("\nwrote %s (%d entries measured%s)" % (
            os.path.relpath(args.baseline), len(result),
            ", %d kept from the old baseline" % kept if kept else ""))
        return EXIT_OK

    rows, regs, missing = judge(base, result, ops, thresholds, backend, abs_limits)
    print("  baseline %s: made %s, git %s; thresholds %s; absolute %s" % (
        os.path.relpath(args.baseline), base.get("made", "?"),
        base.get("info", {}).get("git", "?"),
        ", ".join("%s +%g%%" % (e, thresholds[e]) for e in BACKEND_EVENTS[backend]),
        ", ".join("%s +%g/op" % kv for kv in sorted(abs_limits.items())) or "none"))
    for f in ("cpu", "kernel", "libc"):
        bv = base.get("key", {}).get(f, base.get("info", {}).get(f))
        nv = key.get(f, make_info(exe).get(f))
        if f not in REQUIRED_KEY[backend] and bv and bv != nv:
            print("  note: baseline %s %r, here %r (not required to match for %s)"
                  % (f, bv, nv, backend))
    print()
    sys.stdout.write(render(rows, backend))
    if args.json:
        with _writing("--json", args.json):
            atomic_write(args.json, json.dumps({
                "backend": backend, "key": key, "ops": ops, "thresholds": thresholds,
                "rows": rows, "regressions": regs, "missing": missing}, indent=1) + "\n")
    if regs:
        print("\nREGRESSIONS (%d):" % len(regs))
        sys.stdout.write(render_regressions(regs))
        print("gate: FAIL (exit 1): per-op counts grew past their thresholds. If this is "
              "intended, run `kcovbench gate --update` and commit %s."
              % os.path.relpath(args.baseline))
        return EXIT_REGRESSION
    if missing:
        print("\ngate: NOT COMPARABLE (exit 3): no baseline for %s; run `kcovbench gate "
              "--update` and commit it" % ", ".join("%s %s" % cm for cm in missing))
        return EXIT_INCOMPARABLE
    print("\ngate: PASS (%d configs x modes within thresholds)" % len(rows))
    return EXIT_OK


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    ap = argparse.ArgumentParser(prog="kcovbench gate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    sys.exit(main(ap.parse_args()))
