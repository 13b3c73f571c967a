"""The tables and files of `kcovbench realprog` (scripts/kcb/cmd_realprog.py):
per program, the decomposition of each slowdown with intervals, the
instruction counts, the checks, the commands and the machine key; and
the index of every program's results."""
import json
import os
import shlex
import statistics

from . import results
from . import stats as kstats
from .common import ROOT, atomic_write

CG_PARTS = ("trace_pc", "cmp", "trace_switch", "impl", "other")
CG_NAMES = {"trace_pc": "trace_pc", "cmp": "trace_cmp*, trace_const_cmp*",
            "trace_switch": "trace_switch", "impl": "impl_pc, impl_cmp (FreeBSD)",
            "other": "other kcb"}


def ratio(times, a, b, key="wall"):
    """b's time / a's: the Hodges-Lehmann estimate and its 95% interval (the
    method of `kcovbench compare`); over every run for wall time, over the
    rounds' means for CPU time (hyperfine keeps no more)."""
    xa = times[a][key] if key == "wall" else [c for c, _ in times[a]["cpu"]]
    xb = times[b][key] if key == "wall" else [c for c, _ in times[b]["cpu"]]
    est, lo, hi = kstats.hodges_lehmann(xa, xb)
    return (1 + est, None if lo is None else 1 + lo, None if hi is None else 1 + hi)


def fmt(r):
    if r is None:
        return "-"
    est, lo, hi = r
    if lo is None:
        return "%.2f (n too small for an interval)" % est
    if lo <= 1 <= hi:
        return "no measurable difference"
    return "%.2f [%.2f-%.2f]" % (est, lo, hi)


def disagree(w, c):
    """Wall and CPU intervals that do not overlap."""
    return None not in (w[1], c[1]) and (w[2] < c[1] or c[2] < w[1])


def median(times, n):
    return statistics.median(times[n]["wall"])


def rows(ctx, sid):
    """The decomposition of one instrumentation set: {config: {...}}."""
    t, base = ctx["times"], "uninstrumented"
    empty = sid + "/empty"
    out = {"empty": {"wall": ratio(t, base, empty), "cpu": ratio(t, base, empty, "cpu"),
                     "median_ms": median(t, empty) * 1e3}}
    for name, fe, _ in ctx["which"]:
        full, feo = "%s/%s" % (sid, name), "%s/fe-only/%s" % (sid, fe)
        if feo not in t:
            # a real kernel object (kernel-*): no front-end-only build
            mb, mx = median(t, base), median(t, full)
            out[name] = {"front_end": fe, "median_ms": mx * 1e3,
                         "wall": ratio(t, base, full), "cpu": ratio(t, base, full, "cpu"),
                         "fe_only": None, "part_front_end": None,
                         "part_claim": None, "share": None}
            continue
        mb, me, mf, mx = (median(t, n) for n in (base, empty, feo, full))
        over = mx - mb
        out[name] = {
            "front_end": fe, "median_ms": mx * 1e3,
            "wall": ratio(t, base, full), "cpu": ratio(t, base, full, "cpu"),
            "fe_only": ratio(t, base, feo),
            "part_front_end": ratio(t, empty, feo), "part_claim": ratio(t, feo, full),
            "share": [(me - mb) / over, (mf - me) / over, (mx - mf) / over] if over > 0 else None}
    return out


def table(ctx, sid, label):
    d = rows(ctx, sid)
    t = ctx["times"]
    lines = ["### %s\n" % label,
             "| configuration | full hook: slowdown, wall [95%] | slowdown, CPU [95%] | front "
             "end only: slowdown, wall [95%] | front end: × over the empty hooks | claim: × "
             "over the front end only | the overhead's parts (medians): calls / front end / "
             "claim | wall median |",
             "|---|---:|---:|---:|---:|---:|---|---:|",
             "| uninstrumented | 1 | 1 | | | | | %.0f ms |" % (median(t, "uninstrumented") * 1e3),
             "| empty hooks (the calls alone) | %s | %s | | | | | %.0f ms |"
             % (fmt(d["empty"]["wall"]), fmt(d["empty"]["cpu"]), d["empty"]["median_ms"])]
    for name, _, _ in sorted(ctx["which"], key=lambda c: results.is_proposal(c[0])):
        r = d[name]
        flag = " (wall and CPU disagree)" if disagree(r["wall"], r["cpu"]) else ""
        share = " / ".join("%.0f%%" % (100 * x) for x in r["share"]) if r["share"] else "-"
        lines.append("| %s%s | %s | %s%s | %s | %s | %s | %s | %.0f ms |" % (
            name, results.mark(name), fmt(r["wall"]),
            fmt(r["cpu"]), flag, fmt(r["fe_only"]), fmt(r["part_front_end"]),
            fmt(r["part_claim"]), share, r["median_ms"]))
    return "\n".join(lines) + "\n", d


def cg_table(ctx, sid, label):
    cg = ctx["cg"]
    base = cg["uninstrumented"]["total"]
    lines = ["### %s\n" % label,
             "| build | instructions | × uninstrumented | in the hooks | %s |"
             % " | ".join(CG_NAMES[k] for k in CG_PARTS),
             "|---|---:|---:|---:|" + "---:|" * len(CG_PARTS)]
    names = ["uninstrumented", sid + "/empty"] + \
        ["%s/%s" % (sid, n) for n, _, _ in sorted(ctx["which"],
                                                  key=lambda c: results.is_proposal(c[0]))]
    for n in names:
        c = cg[n]
        hooks = sum(c["parts"][k] for k in CG_PARTS if k != "other")
        label_n = n.split("/", 1)[-1] if n != "uninstrumented" else n
        if label_n == "empty":
            label_n = "empty hooks"
        lines.append("| %s%s | %.1fM | %.2f | %.0f%% | %s |" % (
            label_n, results.mark(label_n), c["total"] / 1e6,
            c["total"] / base, 100 * hooks / c["total"],
            " | ".join("%.0f%%" % (100 * c["parts"][k] / c["total"]) for k in CG_PARTS)))
    return "\n".join(lines) + "\n"


def _records(checked, size, sid):
    return next(st["records"] for n, st in checked[size].items()
                if n.startswith(sid + "/") and "/fe-only/" not in n)


HEAD = """# {name} under each kcov hook configuration

{description}, from Debian's `{source}` source package
(`realprog/{name}.recipe`).  Timing from this project's **2-core VM** (a KVM
guest shared with other jobs), {when}: whole-process wall time of `{run}`
(in `{run_dir}`), each build against the same program built without
instrumentation.  Produced by `./kcovbench realprog{opts}`.

Each program is built twice with instrumentation, `-fsanitize-coverage=trace-pc`
and `-fsanitize-coverage=trace-pc,trace-cmp` (syzkaller's set-up: PCs traced,
comparisons compiled in), and linked three ways: the empty hooks (what the
calls alone cost), each front end with no claim (`build/feonly/`: the
lookup and the decision run, nothing is recorded) and the full hooks
(`build/plain/`, the objects the benchmarks and the gate measure).  So each
slowdown splits into the calls, the front end and the claim: the front
end's part is the front-end-only build over the empty hooks, the claim's
the full build over the front-end-only one (the three ratios multiply to
the full slowdown).  The traced task records PCs (trace-pc mode); the
trace-cmp hooks run their front end's lookup and return, as in a kernel
tracing PCs.  Rows marked [PROPOSAL] are proposals, after the upstream rows.

## Slowdowns

Slowdown, wall: the Hodges-Lehmann estimate of time / the uninstrumented
build's over all {total} timed runs of each build, with its distribution-
free 95% interval (the method of `kcovbench compare`); "no measurable
difference" where the interval holds 1.  Slowdown, CPU: the same over the
{rounds} rounds' mean user + system times (hyperfine keeps only the mean
of a round); "wall and CPU disagree" where the two intervals do not
overlap.  The parts' shares are of the full build's median overhead.

"""

NOTES = """
## How it was run

- hyperfine `-N`, {rounds} rounds, the build order rotated between rounds,
  {runs} timed runs per build in each (no warm-up: each build had just run
  its checks): {total} timed runs per build, pinned to CPU {cpu} (the
  traced thread is pinned there by `kcb_thread_attach(0, true)` too).
  {pinned}Load average (1 min) {load0:.2f} before timing, {load1:.2f} after
  (other jobs share this VM).  Steps: fetch and set-up {s0:.0f} s, builds {s1:.0f} s,
  checks and callgrind {s2:.0f} s, timing {s3:.0f} s.
- The instrumented code is the same in every build of a set; only the
  hooks differ.  The runtime (`bench/instrument_rt.c`), kcb and the hooks
  are not instrumented.  Float and double comparisons
  (`__sanitizer_cov_trace_cmpf/cmpd`, with no kernel counterpart) call an
  empty function in every build.
- Drain: a 5 ms timer signals the task, whose handler takes the record
  count and resets it, as a fuzzer's executor does between programs.  It
  never does so inside a hook, where a non-atomic claim would undo the
  reset (it would store the count it loaded plus one): a signal that lands
  in the hooks' code retries 20 µs later ({inhook} such signals per drain,
  over the builds).  So the count is exact.  Checked before timing, on the
  timing run's command with its drains: every full build of a set drained
  the same number of records: {exact}.  Among them are the CAS claims
  (openbsd-1.48, openbsd-1.49), whose count a reset cannot make wrong:
  the over-count is 0 for every configuration.
  The buffer ({cap} records) was never found full: the hooks took their
  recording path.
- Every build, at `{run_small}` and at `{run}`, printed the uninstrumented
  build's output{filtered}; the front-end-only builds recorded nothing.

## Instructions (callgrind)

Instructions executed at `{run_small}` (exact counts; the hooks' self cost,
as a share of all instructions of the build):

"""


def write(out, ctx, build_cmds):
    rc = ctx["recipe"]
    total = ctx["runs"] * ctx["rounds"]
    text = HEAD.format(name=rc.name, description=rc.description, source=rc.source,
                       when=ctx["when"], run=rc.command("<build>"), run_dir=ctx["run_dir"],
                       opts=ctx["opts"], total=total, rounds=ctx["rounds"])
    summ = {"program": rc.name, "description": rc.description, "when": ctx["when"],
            "machine": dict(ctx["key"]), "command": "./kcovbench realprog" + ctx["opts"],
            "runs_per_build": total, "sets": {}, "checked": ctx["checked"], "callgrind": ctx["cg"],
            "times": ctx["times"]}
    for sid, _, label in ctx["sets"]:
        tab, d = table(ctx, sid, "`%s`" % label)
        text += tab + "\n"
        summ["sets"][sid] = d
    chk = ctx["checked"]
    per = [st["in_hook"] / max(1, st["drains"]) for st in chk["Run"].values()]
    text += NOTES.format(
        rounds=ctx["rounds"], runs=ctx["runs"], total=total, cpu=ctx["cpu"],
        pinned="With `--cpu` the checks and callgrind ran on that CPU too, and the other "
        "CPU was left to other work (in a published set: `kcovbench realprog` measuring "
        "another program at the same time). " if "--cpu" in ctx["opts"] else "",
        load0=ctx["load"][0], load1=ctx["load"][1], s0=ctx["steps"][0], s1=ctx["steps"][1],
        s2=ctx["steps"][2], s3=ctx["steps"][3],
        exact=", ".join("%s %d" % (label, _records(chk, "Run", sid))
                        for sid, _, label in ctx["sets"]),
        inhook="%.1f-%.1f" % (min(per), max(per)), cap=max(st["capacity"] for st in chk["Run"].values()),
        run_small=rc.command("<build>", True), run=rc.command("<build>"),
        filtered=" (after removing `%s`)" % rc.filter.pattern if rc.filter else "")
    if ctx["cg"]:
        for sid, _, label in ctx["sets"]:
            if sid == ctx["cg_set"]:
                text += cg_table(ctx, sid, "`%s`" % label) + "\n"
    else:
        text += "Not counted in this run (`--no-callgrind`).\n"
    rel = os.path.relpath(os.path.join(ROOT, ctx["run_dir"]), ROOT)
    shown = [" ".join(shlex.quote(c.replace(ROOT + os.sep, "../../../../")) for c in cmd)
             for cmd in ctx["cmds"]]
    text += ("\n## Command\n\n```sh\n./kcovbench realprog%s\n```\n\nwhich, after fetching, "
             "building and checking, ran these in `%s` (`../bin/` holds the builds; "
             "`build-commands.sh` has the build commands):\n\n```sh\n%s\n```\n"
             % (ctx["opts"], rel, "\n".join(shown)))
    key = "; ".join("%s=%s" % kv for kv in ctx["key"])
    text += "\n## Machine\n\n```\n%s\n```\n\nNo hardware performance counters on this VM: " \
        "instructions come from callgrind, not perf.\n" % key
    atomic_write(os.path.join(out, "build-commands.sh"),
                 "#!/bin/sh\n# The build commands of `kcovbench realprog%s` (from the "
                 "repository root, after its fetch and Setup steps)\nset -e\n%s\n"
                 % (ctx["opts"], "\n".join(build_cmds)))
    atomic_write(os.path.join(out, "README.md"), text)
    atomic_write(os.path.join(out, "key.txt"), "%s\ncommand: ./kcovbench realprog%s\n"
                 "runs: %d timed runs per build (%d rounds x %d), `%s`\n"
                 % (key, ctx["opts"], total, ctx["rounds"], ctx["runs"], rc.command("<build>")))
    atomic_write(os.path.join(out, "summary.json"), json.dumps(summ, indent=1) + "\n")
    print(text)


def write_index(out):
    """results/realprog/README.md: every program's full-hook slowdowns, from
    its summary.json."""
    progs = []
    for d in sorted(os.listdir(out)):
        p = os.path.join(out, d, "summary.json")
        if os.path.exists(p):
            progs.append(json.load(open(p)))
    if not progs:
        return
    text = ("# Real programs under each kcov hook configuration\n\nGenerated by `kcovbench "
            "realprog` from each program's `summary.json`; each program's README has the "
            "decomposition (calls, front end, claim), the CPU times, the instruction counts, "
            "the commands and the machine key.  Full-hook slowdown, wall, against the "
            "uninstrumented build: Hodges-Lehmann estimate [95% interval].\n\n")
    text += "| program | what | when | commit | runs per build |\n|---|---|---|---|---:|\n"
    for s in progs:
        text += "| [%s](%s/README.md) | %s | %s | %s | %d |\n" % (
            s["program"], s["program"], s["description"], s["when"], s["machine"]["git"],
            s["runs_per_build"])
    for sid, label in (("pc", "trace-pc"), ("cmp", "trace-pc,trace-cmp")):
        names = []
        for s in progs:
            for n in s["sets"].get(sid, {}):
                if n != "empty" and n not in names:
                    names.append(n)
        names.sort(key=results.is_proposal)
        text += "\n### `%s`\n\n| configuration | %s |\n|---|%s\n" % (
            label, " | ".join(s["program"] for s in progs), "---:|" * len(progs))
        for n in ["empty"] + names:
            cells = [fmt(tuple(s["sets"][sid][n]["wall"])) if n in s["sets"].get(sid, {})
                     else "-" for s in progs]
            text += "| %s%s | %s |\n" % ("empty hooks (the calls alone)" if n == "empty" else n,
                                         results.mark(n),
                                         " | ".join(cells))
    atomic_write(os.path.join(out, "README.md"), text)
    # as every results set: key lines and commands (here one per program)
    atomic_write(os.path.join(out, "key.txt"), "".join(
        "%s: %s\ncommand: %s\nruns: %d timed runs per build\n" % (
            s["program"], "; ".join("%s=%s" % kv for kv in s["machine"].items()),
            s["command"], s["runs_per_build"]) for s in progs))
