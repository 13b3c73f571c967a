"""The remote-section table's parts, shared by scripts/remote-table (the
userland replicas) and scripts/qemu-kmod-remote (the module under qemu):
the designs, the explorer's verdicts, and one row per design."""
import re
import subprocess

from . import registry, stats
from .common import ROOT

BASE = "linux-percpu"        # the ratios' reference: today's mainline design


def designs():
    """(name, proposal) of every remote design, in remotes.h's order, as
    the binary lists them (registry.py)."""
    return [(r["name"], r["proposal"]) for r in registry.remotes()]


def explore(bound):
    """The schedule explorer (built): (exit status, output, verdicts)."""
    p = subprocess.run(["build/explore/explore_remote", "-b", str(bound)], cwd=ROOT,
                       capture_output=True, text=True)
    return p.returncode, p.stdout, verdicts_of(p.stdout)


def verdicts_of(text):
    """The explorer's output -> design -> {"rt": (runs, fail, deadlock),
    "nrt": (...)}."""
    verdicts, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"== (\S+), (PREEMPT_RT|!RT)", line)
        if m:
            cur = (m.group(1), "rt" if m.group(2) == "PREEMPT_RT" else "nrt")
            continue
        m = re.search(r"(\d+) schedules explored.*: (\d+) fail \((\d+) deadlock\)", line)
        if m and cur:
            verdicts.setdefault(cur[0], {})[cur[1]] = tuple(int(g) for g in m.groups())
    return verdicts


def cells_of(benchmarks, prefix="remote/"):
    """(design, context, threads) -> [ns per section], from Google
    Benchmark's (or kcb_json.c's) repetitions named <prefix><design>/<ctx>/..."""
    cells = {}
    for b in benchmarks:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        name = b["run_name"]
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix):].split("/")
        cells.setdefault((parts[0], parts[1], b["threads"]), []).append(b["ns_per_op"])
    return cells


def header(ncpus):
    return ["| design | softirq, 1 CPU | softirq, %d CPUs | vs %s at %d | task, 1 CPU"
            " | task, %d CPUs | RT-safe | deadlock-free |" % (ncpus, BASE, ncpus, ncpus),
            "|---|---|---|---|---|---|---|---|"]


def rows(names, cells, verdicts, ncpus):
    """One row per design: median [min..max] per cell, the N-CPU softirq
    ratio to BASE, and the explorer's two verdicts."""
    def cell(name, ctx, n):
        xs = cells.get((name, ctx, n))
        if not xs:
            return "-"
        return "%.1f [%.1f..%.1f]" % (stats.median(xs), min(xs), max(xs))

    def med(name, ctx, n):
        xs = cells.get((name, ctx, n))
        return stats.median(xs) if xs else None

    def ratio(a, b):
        return "%.2fx" % (a / b) if a and b else "-"

    def verdict(v):
        if v is None:
            return "n/a (no RT kernel)"
        runs, fail, _ = v
        return "%s (%d of %d)" % ("no" if fail else "yes", fail, runs)

    out = []
    for name, proposal in names:
        v = verdicts.get(name, {})
        dead = [x for x in (v.get("rt"), v.get("nrt")) if x]
        deadlocks = sum(x[2] for x in dead)
        runs = sum(x[0] for x in dead)
        out.append("| %s%s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, " **(proposal)**" if proposal else "",
            cell(name, "softirq", 1), cell(name, "softirq", ncpus),
            ratio(med(name, "softirq", ncpus), med(BASE, "softirq", ncpus)),
            cell(name, "task", 1), cell(name, "task", ncpus),
            verdict(v.get("rt")),
            ("yes" if not deadlocks else "no") + " (%d of %d)" % (deadlocks, runs)))
    return out
