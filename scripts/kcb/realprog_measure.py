"""Running realprog's builds: the check (every build prints what the
uninstrumented one prints, the full builds of a set drain one number of
records, the front-end-only builds none), callgrind's instruction counts
and hyperfine's timing."""
import concurrent.futures
import json
import os
import re
import shlex
import subprocess

from . import realprog_report as report
from .common import Failure
from .realprog_build import SETS
from .realprog_work import run, say


# callgrind counts the builds of this set (the other's hooks are a subset)
CG_SET = "cmp"


# With --cpu, the checks and callgrind run there too, one at a time, so
# that two programs can be measured at once, one per CPU.
PIN = []
STATS = re.compile(r"instrument_rt: \S+ per-task buffer, pc mode: (\d+) drains, (\d+) in a hook, "
                   r"(\d+) records drained, largest fill (\d+) of (\d+), "
                   r"(\d+) drains found it full, (\d+) records lost in moves")


def run_build(rc, name, exe, run_dir, small):
    """Run one build once: (its compared output, its drain statistics or
    None for the builds without kcb)."""
    cmd = rc.command(os.path.relpath(exe, run_dir), small)
    r = subprocess.run(PIN + shlex.split(cmd), cwd=run_dir, capture_output=True,
                       env=dict(os.environ, KCB_RT_STATS="1"))
    if r.returncode:
        raise Failure("%s %s: `%s` exited %d: %s" % (rc.name, name, cmd, r.returncode,
                                                    r.stderr[-1000:].decode(errors="replace")))
    out = rc.output(r.stdout)
    err = r.stderr.decode(errors="replace")
    if name == "uninstrumented" or name.endswith("/empty"):
        return out, None
    m = STATS.search(err)
    if not m:
        raise Failure("%s %s: no instrument_rt statistics line: %s" % (rc.name, name, err[-500:]))
    v = [int(x) for x in m.groups()]
    st = dict(zip(("drains", "in_hook", "records", "max_fill", "capacity", "full", "lost"), v))
    if st["full"] or st["lost"]:
        raise Failure("%s %s: %d drains found the buffer full, %d records lost"
                      % (rc.name, name, st["full"], st["lost"]))
    return out, st


def check(rc, bins, run_dir, jobs):
    """Every build at Run-Small, and every full build at Run too (what the
    timing runs do, with its drains): each prints the uninstrumented
    build's output; in each set the full builds drain one number of
    records and the front-end-only builds none.  Returns {size: {build:
    drain statistics}}."""
    said = {}
    for small in (True, False):
        names = [n for n in bins if small or n == "uninstrumented" or
                 not (n.endswith("/empty") or "/fe-only/" in n)]
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            got = dict(zip(names, ex.map(lambda n: run_build(rc, n, bins[n], run_dir, small),
                                         names)))
        ref = got["uninstrumented"][0]
        if not ref:
            raise Failure("%s: the uninstrumented build prints nothing to compare" % rc.name)
        for n, (out, _) in got.items():
            if out != ref:
                raise Failure("%s %s: output differs from the uninstrumented build's (%s)"
                              % (rc.name, n, "Run-Small" if small else "Run"))
        size = "Run-Small" if small else "Run"
        said[size] = {n: st for n, (_, st) in got.items() if st}
        for sid, _, _ in SETS:
            full = {n: st["records"] for n, st in said[size].items()
                    if n.startswith(sid + "/") and "/fe-only/" not in n}
            if len(set(full.values())) != 1:
                raise Failure("%s (%s, %s): the full builds drained different numbers of "
                              "records: %s" % (rc.name, sid, size, full))
            if not list(full.values())[0]:
                raise Failure("%s (%s, %s): no records" % (rc.name, sid, size))
            bad = {n: st["records"] for n, st in said[size].items()
                   if n.startswith(sid + "/fe-only/") and st["records"]}
            if bad:
                raise Failure("%s (%s): front-end-only builds recorded: %s" % (rc.name, sid, bad))
    return said


def _callgrind_one(rc, name, exe, run_dir, tmp):
    out = os.path.join(tmp, name.replace("/", "@") + ".cg")
    cmd = rc.command(os.path.relpath(exe, run_dir), small=True)
    r = subprocess.run(PIN + ["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file=" + out] +
                       shlex.split(cmd), cwd=run_dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        raise Failure("%s %s under callgrind exited %d: %s"
                      % (rc.name, name, r.returncode, r.stderr[-500:].decode(errors="replace")))
    ann = run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out])
    total = int(re.search(r"^\s*([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann, re.M)
                .group(1).replace(",", ""))
    parts = {k: 0 for k in report.CG_PARTS}
    # a real kernel object's (kernel-*) own functions are kobj_<id>_*: its
    # out-of-line write_comp_data() counts where the replica's impl_cmp does
    for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*:(__sanitizer_cov_\w+|kcb_\w+|kobj_\w+)",
                         ann, re.M):
        n, v = m.group(2).replace("__sanitizer_cov_", ""), int(m.group(1).replace(",", ""))
        key = n if n in ("trace_pc", "trace_switch") else \
            "impl" if n.endswith(("__impl_pc", "__impl_cmp", "_write_comp_data")) else \
            "cmp" if n.startswith("trace_") and "cmp" in n else "other"
        parts[key] += v
    return name, {"total": total, "parts": parts}


def callgrind(rc, bins, run_dir, jobs):
    """Instructions of the uninstrumented build and the empty-hook and full
    builds of CG_SET (syzkaller's set-up) at Run-Small, in all and in each kind of hook (self cost), from
    callgrind: exact counts, whatever the machine's load."""
    import tempfile
    names = [n for n in bins if n == "uninstrumented" or
             (n.startswith(CG_SET + "/") and "/fe-only/" not in n)]
    say("%s: callgrind over %d builds at Run-Small (%d at a time)" % (rc.name, len(names), jobs))
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        return dict(ex.map(lambda n: _callgrind_one(rc, n, bins[n], run_dir, tmp), names))


def hyperfine(rc, bins, run_dir, runs, rounds, cpu, out, shown_out):
    """rounds hyperfine invocations over all builds, runs timed runs per
    build in each, the order rotated between rounds (a shared machine's
    load drifts: no build should always come first or last).  Returns the
    commands (from the repository root, the rounds' files named in
    shown_out, where they will be published) and {name: {"wall": [s],
    "cpu": [(mean user+system of a round, its runs)]}}."""
    names = list(bins)
    cmds, times = [], {n: {"wall": [], "cpu": []} for n in names}
    for r in range(rounds):
        k = (r * len(names)) // rounds
        order = names[k:] + names[:k]
        j = os.path.abspath(os.path.join(out, "hyperfine-round%d.json" % (r + 1)))
        cmd = ["taskset", "-c", str(cpu), "hyperfine", "-N", "--style", "basic",
               "--warmup", "0", "--runs", str(runs), "--export-json", j]
        for name in order:
            cmd += ["-n", name, rc.command(os.path.relpath(bins[name], run_dir))]
        say("%s round %d/%d: timing %d builds, %d runs each (hyperfine, pinned to CPU %d)"
            % (rc.name, r + 1, rounds, len(bins), runs, cpu))
        res = subprocess.run(cmd, cwd=run_dir, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        if res.returncode:
            raise Failure("hyperfine exited %d: %s" % (res.returncode, res.stdout[-2000:]))
        with open(j) as f:
            for x in json.load(f)["results"]:
                times[x["command"]]["wall"] += x["times"]
                # hyperfine keeps only the mean CPU time of a round
                times[x["command"]]["cpu"].append((x["user"] + x["system"], len(x["times"])))
        shown = os.path.abspath(os.path.join(shown_out, os.path.basename(j)))
        cmds.append([shown if c == j else c for c in cmd])
    return cmds, times
