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
import concurrent.futures
import contextlib
import datetime
import json
import math
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import tempfile

from . import binary, machine
from .common import ROOT, UsageError, atomic_write, first_line, writable_dir

NAME = "gate"
HELP = "instruction-count regression gate against results/gate/baseline.json"

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCOMPARABLE, EXIT_MEASURE = 0, 1, 2, 3, 4

FORMAT = "kcovbench-gate/1"
BASELINE = os.path.join(ROOT, "results", "gate", "baseline.json")
DEFAULT_CONFIGS = ["openbsd-1.48", "openbsd-1.49", "linux", "linux-5.x",
                   "freebsd", "netbsd", "empty"]
DEFAULT_MODES = ["pertask", "shared", "cmp", "switch16", "switch16-pc"]
# 64 batches of 1024: per-op counts resolve 1/65536 of an instruction, and
# one callgrind run takes ~0.4 s, most of it valgrind's start-up.
DEFAULT_OPS = 65536
BATCH = 1024
# Percent increase per op that fails the gate.  Instructions and branches
# are exact under callgrind and nearly so with perf's user-space counts;
# cycles move with the machine's load, hence the wider default.
DEFAULT_THRESHOLDS = {"instructions": 2.0, "branches": 2.0, "cycles": 10.0}
# Growth per op, in counts, that fails whatever the percentage: on a hook of
# 65 instructions +2% lets one more instruction through, and one more
# instruction on every basic block is what a reviewer asks about.  Half an
# instruction per op is a whole one on every call of a one-hook op, with
# room for perf's few stray user-space counts.
DEFAULT_ABS_LIMITS = {"instructions": 0.5}
EVENTS = ("instructions", "branches", "cycles")
BACKEND_EVENTS = {"callgrind": ("instructions", "branches"),
                  "perf": ("instructions", "branches", "cycles")}
DEFAULT_RUNS = {"callgrind": 2, "perf": 5}
# Key fields that must match for counts to be comparable.  The CPU matters
# to hardware counts (cycles above all), not to valgrind's.
REQUIRED_KEY = {"callgrind": ("backend", "tool", "compiler", "arch", "ops"),
                "perf": ("backend", "tool", "compiler", "arch", "ops", "cpu")}
# callgrind: collect inside the loops and the shared mode's move.  A second
# pattern starting with the same literal prefix as the first does not match
# in valgrind 3.19, so each starts differently.
CALLGRIND_TOGGLES = ("kcb_*__loop_*", "*__move", "*_empty_loop_pc", "*_empty_loop_switch")


class MeasureError(Exception):
    """The measurement failed: exit 4."""


class Incomparable(Exception):
    """Nothing to compare with: exit 3."""


# ---------------------------------------------------------------- backends

def _run(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        return subprocess.CompletedProcess(cmd, 127, "", str(e))
    except subprocess.TimeoutExpired:
        raise MeasureError("%s: timed out" % " ".join(cmd))


def perf_works():
    """None if perf stat counts instructions, cycles and branches in user
    space here; otherwise why not."""
    if not shutil.which("perf"):
        return "no perf"
    with tempfile.TemporaryDirectory(prefix="kcb-gate-") as d:
        out = os.path.join(d, "stat.csv")
        r = _run(["perf", "stat", "-x,", "-o", out, "-e",
                  ",".join(e + ":u" for e in BACKEND_EVENTS["perf"]), "true"])
        if r.returncode != 0:
            return "perf stat failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        try:
            counts = _parse_perf(open(out).read())
        except MeasureError as e:
            return str(e)
    if any(counts.get(e, 0) <= 0 for e in BACKEND_EVENTS["perf"]):
        return "perf counted nothing"
    return None


def callgrind_works():
    if not shutil.which("valgrind"):
        return "no valgrind"
    return None if _run(["valgrind", "--version"]).returncode == 0 else "valgrind fails"


def tool_version(backend):
    if backend == "perf":
        return first_line(["perf", "--version"]) or "perf ?"
    return first_line(["valgrind", "--version"]) or "valgrind ?"


def choose_backend(wanted, baseline):
    """(backend, notes): the backend to use and why."""
    why = {"perf": perf_works, "callgrind": callgrind_works}
    if wanted != "auto":
        w = why[wanted]()
        if w:
            raise MeasureError("backend %s does not work here: %s" % (wanted, w))
        return wanted, "as asked"
    notes = []
    order = ["perf", "callgrind"]
    if baseline and baseline.get("backend") in order:
        order.remove(baseline["backend"])
        order.insert(0, baseline["backend"])
    for b in order:
        w = why[b]()
        if w is None:
            reason = "the baseline's" if baseline and b == baseline.get("backend") else "first that works"
            return b, "; ".join(notes + [reason])
        notes.append("%s: %s" % (b, w))
    raise MeasureError("no counter backend works here (%s)" % "; ".join(notes))


def _parse_perf(text):
    """perf stat -x, output: {event: count}; MeasureError on <not ...>."""
    counts = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split(",")
        if len(f) < 3:
            continue
        ev = f[2].split(":")[0].strip()
        if ev not in EVENTS:
            continue
        if not re.match(r"^\d+(\.\d+)?$", f[0]):
            raise MeasureError("%s: %s" % (ev, f[0] or "no value"))
        counts[ev] = int(float(f[0]))
    return counts


def _parse_callgrind(path):
    events, totals = None, None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:") or (totals is None and line.startswith("summary:")):
                totals = [int(x) for x in line.split()[1:]]
    if not events or totals is None:
        raise MeasureError("%s: no events/totals lines" % path)
    v = dict(zip(events, totals + [0] * (len(events) - len(totals))))
    return {"instructions": v.get("Ir", 0), "branches": v.get("Bc", 0) + v.get("Bi", 0)}


def _ops_cmd(exe, config, mode, ops):
    return [exe, "ops", "--config=" + config, "--mode=" + mode, "--ops=%d" % ops]


def _check_ops(r, config, mode):
    if r.returncode == 2:
        raise UsageError("kcovbench ops --config=%s --mode=%s: %s"
                         % (config, mode, r.stderr.strip()))
    if r.returncode != 0 or " ops" not in r.stdout:
        raise MeasureError("kcovbench ops --config=%s --mode=%s exited %d: %s"
                           % (config, mode, r.returncode, (r.stderr.strip() or r.stdout.strip())[-500:]))


def measure_one(backend, exe, config, mode, ops, tmpdir, cpu):
    """One run: {event: total count over ops hook calls}."""
    pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
    tag = "%s.%s.%d" % (config.replace("/", "_"), mode, os.getpid())
    if backend == "callgrind":
        fd, out = tempfile.mkstemp(prefix=tag, suffix=".cg", dir=tmpdir)
        os.close(fd)
        cmd = pin + ["valgrind", "-q", "--tool=callgrind", "--branch-sim=yes",
                     "--read-inline-info=no", "--callgrind-out-file=" + out] + \
            ["--toggle-collect=" + t for t in CALLGRIND_TOGGLES] + \
            ["--"] + _ops_cmd(exe, config, mode, ops)
        r = _run(cmd)
        _check_ops(r, config, mode)
        counts = _parse_callgrind(out)
        os.unlink(out)
    else:
        d = tempfile.mkdtemp(prefix=tag, dir=tmpdir)
        ctl, ack, out = (os.path.join(d, n) for n in ("ctl", "ack", "stat.csv"))
        os.mkfifo(ctl)
        os.mkfifo(ack)
        cmd = pin + ["perf", "stat", "-x,", "-o", out, "-e",
                     ",".join(e + ":u" for e in BACKEND_EVENTS["perf"]),
                     "--control", "fifo:%s,%s" % (ctl, ack), "-D", "-1", "--"] + \
            _ops_cmd(exe, config, mode, ops) + ["--perf-ctl=%s,%s" % (ctl, ack)]
        r = _run(cmd, timeout=120)
        _check_ops(r, config, mode)
        with open(out) as f:
            counts = _parse_perf(f.read())
        shutil.rmtree(d, ignore_errors=True)
    if counts.get("instructions", 0) <= 0:
        raise MeasureError("%s %s: no instructions counted (is %s built with its "
                           "hook symbols?)" % (config, mode, exe))
    return counts


def measure(backend, exe, configs, modes, ops, runs, jobs):
    """{(config, mode): {"counts": {event: int}, "runs": [...]}}.  callgrind's
    runs must agree exactly; perf's minimum is kept."""
    cpus = sorted(os.sched_getaffinity(0))
    jobs = max(1, min(jobs, len(cpus)))
    free = queue.Queue()
    for c in cpus[:jobs]:
        free.put(c)
    tasks = [(c, m, i) for i in range(runs) for c in configs for m in modes]
    got = {}
    with tempfile.TemporaryDirectory(prefix="kcb-gate-") as tmp:
        def work(t):
            cpu = free.get()
            try:
                return t, measure_one(backend, exe, t[0], t[1], ops, tmp, cpu)
            finally:
                free.put(cpu)
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            for (c, m, i), counts in ex.map(work, tasks):
                got.setdefault((c, m), []).append(counts)
    result = {}
    for key, rs in got.items():
        evs = BACKEND_EVENTS[backend]
        if backend == "callgrind":
            if any(r != rs[0] for r in rs):
                raise MeasureError("%s %s: callgrind counts differ between runs: %s"
                                   % (key[0], key[1], rs))
            counts = dict(rs[0])
        else:
            counts = {e: min(r[e] for r in rs) for e in evs}
        result[key] = {"counts": counts, "runs": rs}
    return result


# ---------------------------------------------------------------- key

def compiler_of(exe):
    """The compilers that built exe, from its .comment section."""
    r = _run(["readelf", "-p", ".comment", exe])
    found = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*\[\s*[0-9a-f]+\]\s+(.*\S)", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return "; ".join(sorted(found)) or "unknown"


def make_key(backend, exe, ops):
    # cpu: /proc/cpuinfo's name first (not lscpu's, as the key line has
    # it), the name the committed baselines hold
    return {"backend": backend, "tool": tool_version(backend), "compiler": compiler_of(exe),
            "arch": platform.machine(), "ops": ops,
            "cpu": machine.cpuinfo_model() or platform.processor() or platform.machine()}


def make_info(exe):
    git = machine.git_head() or "unknown"
    return {"kernel": platform.release(), "libc": " ".join(platform.libc_ver()),
            "cpus": len(os.sched_getaffinity(0)), "git": git,
            "binary": os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe}


def comparable(base, key):
    """[(field, baseline value, ours)] that differ and must not."""
    bkey = base.get("key", {})
    return [(f, bkey.get(f), key[f]) for f in REQUIRED_KEY[key["backend"]]
            if bkey.get(f) != key[f]]


# ---------------------------------------------------------------- baseline

def load_baseline(path):
    """The baseline document, None if there is no file; UsageError if bad."""
    try:
        with open(path) as f:
            doc = json.load(f, parse_constant=_no_constant)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise UsageError("cannot read baseline %s: %s" % (path, e))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or \
            not isinstance(doc.get("entries"), list):
        raise UsageError("%s is not a %s baseline" % (path, FORMAT))
    bad = baseline_problems(doc)
    if bad:
        raise UsageError("baseline %s cannot judge anything:\n%s" % (
            path, "".join("  %s\n" % b for b in bad)))
    return doc


def _no_constant(name):
    # Python's json reads NaN and Infinity; compared with a limit they pass.
    raise ValueError("%s is not a number a baseline may hold" % name)


def _number(v):
    """A finite JSON number >= 0 (1e999 reads as infinity: refused too)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and \
        math.isfinite(v) and v >= 0


def baseline_problems(doc):
    """What makes a baseline unable to judge, each a line: a limit or count
    that is null, not a number or not finite would let any measurement pass;
    a malformed key or entry would crash the gate; a second entry for one
    config and mode would silently replace the first."""
    return _key_problems(doc) + _limit_problems(doc) + _entry_problems(doc)


def _key_problems(doc):
    bad = ["%s is %r, not %s" % (f, doc[f], what)
           for f, kind, what in (("backend", str, "a name"), ("info", dict, "an object"))
           if f in doc and not isinstance(doc[f], kind)]
    key = doc.get("key")
    if not isinstance(key, dict):
        return bad + ["key is %r, not an object" % (key,)]
    ops = key.get("ops")
    if not isinstance(ops, int) or isinstance(ops, bool) or ops <= 0 or ops % BATCH:
        bad.append("key ops is %r, not a positive multiple of %d" % (ops, BATCH))
    return bad


def _limit_problems(doc):
    bad = []
    for kind in ("thresholds", "abs_limits"):
        lims = doc.get(kind, {})
        if not isinstance(lims, dict):
            bad.append("%s is not an object" % kind)
            continue
        bad += ["%s %s is %r, not a finite number >= 0" % (kind, e, v)
                for e, v in sorted(lims.items()) if not _number(v)]
    return bad


def _entry_problems(doc):
    bad, seen = [], set()
    backend = doc.get("backend")
    evs = BACKEND_EVENTS.get(backend if isinstance(backend, str) else None,
                             ("instructions",))
    for i, e in enumerate(doc["entries"]):
        if not isinstance(e, dict):
            bad.append("entry %d is %r, not an object" % (i, e))
            continue
        cm = (e.get("config"), e.get("mode"))
        wrong = [f for f, v in zip(("config", "mode"), cm) if not isinstance(v, str) or not v]
        if wrong:
            bad += ["entry %d: %s is %r, not a name" % (i, f, e.get(f)) for f in wrong]
            continue
        name = "entry %d (%s %s)" % (i, cm[0], cm[1])
        if cm in seen:
            bad.append("%s: %s %s appears twice; one set of counts must judge" % (name, *cm))
        seen.add(cm)
        counts = e.get("counts")
        if not isinstance(counts, dict) or not counts:
            bad.append("%s has no counts" % name)
            continue
        bad += ["%s: %s count is %r, not a finite number > 0" % (name, ev, counts.get(ev))
                for ev in evs if not _number(counts.get(ev)) or not counts.get(ev)]
    return bad


def entries_by_key(doc):
    return {(e["config"], e["mode"]): e for e in doc.get("entries", [])}


def write_baseline(path, old, key, info, thresholds, result, ops, command, abs_limits=None):
    entries = {}
    kept = 0
    if old and not comparable(old, key):
        entries = entries_by_key(old)
        kept = len(set(entries) - set(result))
    for (c, m), r in result.items():
        entries[(c, m)] = {
            "config": c, "mode": m, "backend": key["backend"], "counts": r["counts"],
            "per_op": {e: round(v / ops, 4) for e, v in r["counts"].items()}}
    doc = {
        "format": FORMAT,
        "made": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "backend": key["backend"],
        "key": key,
        "info": info,
        "thresholds": thresholds,
        "abs_limits": abs_limits if abs_limits is not None else dict(DEFAULT_ABS_LIMITS),
        "entries": sorted(entries.values(), key=lambda e: (e["config"], e["mode"])),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return kept


# ---------------------------------------------------------------- verdict

def judge(base, result, ops, thresholds, backend, abs_limits=None):
    """(rows, regressions, missing): one row per (config, mode).  An event
    regresses past its relative threshold (percent) or its absolute limit
    (counts per op), whichever it crosses first."""
    abs_limits = DEFAULT_ABS_LIMITS if abs_limits is None else abs_limits
    bent = entries_by_key(base) if base else {}
    bops = base.get("key", {}).get("ops", ops) if base else ops
    rows, regs, missing = [], [], []
    for (c, m), r in result.items():
        be = bent.get((c, m))
        row = {"config": c, "mode": m, "now": {}, "base": {}, "change": {}, "verdict": "ok"}
        for e in BACKEND_EVENTS[backend]:
            now = r["counts"][e] / ops
            row["now"][e] = now
            if be is None or e not in be.get("counts", {}):
                continue
            b = be["counts"][e] / bops
            row["base"][e] = b
            ch = (now - b) / b * 100 if b else (0.0 if now == b else float("inf"))
            row["change"][e] = ch
            lim, alim = thresholds.get(e), abs_limits.get(e)
            if (lim is not None and ch > lim) or (alim is not None and now - b > alim):
                row["verdict"] = "REGRESSED"
                regs.append({"config": c, "mode": m, "event": e, "baseline": b,
                             "now": now, "change": ch, "limit": lim, "abs_limit": alim})
        if be is None:
            row["verdict"] = "no baseline"
            missing.append((c, m))
        rows.append(row)
    return rows, regs, missing


def _txt(header, rows, left=1):
    """A plain table: the first `left` columns left-aligned, the others
    (numbers) right-aligned."""
    w = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = []
    for r in [header] + rows:
        out.append("  ".join(r[i].ljust(w[i]) if i < left else r[i].rjust(w[i])
                             for i in range(len(r))).rstrip())
    return "\n".join(out) + "\n"


SHORT = {"instructions": "instr/op", "branches": "branch/op", "cycles": "cycles/op"}


def _pct(x):
    if x == float("inf"):
        return "+inf%"
    if x != 0 and abs(x) < 0.005:
        return "%+.4f%%" % x        # a change too small for two decimals, not none
    return "%+.2f%%" % x


def render(rows, backend):
    evs = BACKEND_EVENTS[backend]
    header = ["config", "mode"]
    for e in evs:
        header += [SHORT[e], "change"]
    header.append("verdict")
    body = []
    for r in rows:
        line = [r["config"], r["mode"]]
        for e in evs:
            line.append("%.4f" % r["now"][e])
            line.append(_pct(r["change"][e]) if e in r["change"] else "-")
        line.append(r["verdict"])
        body.append(line)
    return _txt(header, body, left=2)


def render_regressions(regs):
    header = ["config", "mode", "event", "baseline/op", "now/op", "change", "limit"]
    body = [[g["config"], g["mode"], g["event"], "%.4f" % g["baseline"], "%.4f" % g["now"],
             _pct(g["change"]), "+%g%% or +%s/op" % (
                 g["limit"], "%g" % g["abs_limit"] if g.get("abs_limit") is not None else "-")]
            for g in regs]
    return _txt(header, body, left=3)


# ---------------------------------------------------------------- command line

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
                   help="comma-separated of pertask,shared,cmp (default: all three)")
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


def _main(args):
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

    result = measure(backend, exe, args.configs, args.modes, ops, runs, jobs)
    elapsed = time.monotonic() - t0
    exact = "identical in all %d runs" % runs if backend == "callgrind" else \
        "minimum of %d runs" % runs
    print("kcovbench gate: backend %s (%s; %s), %s" % (backend, key["tool"], why, key["compiler"]))
    print("  %d configs x %d modes, %d ops each, counts %s; %.1f s"
          % (len(args.configs), len(args.modes), ops, exact, elapsed))
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
