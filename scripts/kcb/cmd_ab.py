"""kcovbench ab A B: is B faster or slower than A, by how much, how sure?

A and B run in one process, in alternating windows of ~200 us (a fixed
number of batches), in random order per round; with N threads every
thread runs the same window at once.  A pair (A's window, B's window) is
kept only if neither window was switched out, migrated or short of CPU.
The change is the Hodges-Lehmann estimate of the paired log-ratios
ln(B/A) (per round: the mean over threads), its 95% interval and p from
the Wilcoxon signed-rank test.  Verdicts as `compare` has them:

  faster / slower  p < alpha and the change is at least --min-change
  below floor      p < alpha, but the change is smaller than the floor
  same             not significant, and the interval lies inside +-floor
  undecided        anything else

With --layouts every side is measured with its hooks at +0, +16, +32 and
+48 in their 64-byte lines (the offsets a 16-byte function alignment
allows), A and B at the same offset; a row's verdict is given only when it
holds at every layout.  With --trials K each row is measured K times,
spread over the run; its verdict only when all trials agree.

A real kernel object (kernel-*, docs/kernel-configs.md) is never
recompiled for a layout: the object's .text is linked at page offsets
+0/+16/+32/+48 (scripts/kobj-bundle) and each layout uses the copy whose
measured hook (trace_pc, trace_cmp8, trace_switch) sits at the layout's
offset, as the replica's does.  Its returns are `ret` (a booted kernel
without return thunks) or, with --kernel-return thunk, a jump to a
`ret; int3` thunk; key.txt says which (kernel-return=...).

--base REV builds REV's variants beside the working tree's in one binary:
`base:NAME` then names REV's build of NAME (A defaults to it)."""
import contextlib
import gzip
import json
import math
import os
import shlex
import subprocess
import sys
import time

from . import ab_build, binary, machine, raw_ab, stats, table
from .argtypes import flat, items, number, result_name
from .cmd_compare import verdict
from .common import ROOT, Failure, Lazy, Staging, UsageError, atomic_write, measure_lock

NAME = "ab"
HELP = "A against B in one process, paired window by window (decides a change)"
LAYOUTS = (0, 16, 32, 48)
MIN_CHANGE = 0.2        # percent: the floor (A/A study: results/ab-study)
ALPHA = 0.05
DEFAULT_TIME = 10.0


def add_arguments(p):
    lst = dict(nargs="+", action="extend", default=None)
    p.add_argument("a", metavar="A", nargs="?", help="baseline: a config or FRONTEND/PAIR from "
                   "`list`, empty, or base:NAME (with --base)")
    p.add_argument("b", metavar="B", nargs="?", help="the variant to judge, as A")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="re-read a saved ab results directory (its raw-ab.json.gz) and print "
                        "its table again, with this --alpha and --min-change")
    p.add_argument("--base", metavar="REV",
                   help="build REV's variants into the binary too; base:NAME names them, "
                        "and A without base: means base:A")
    p.add_argument("--modes", metavar="MODE", **lst,
                   type=items("mode", str, lambda v: v in binary.MODES,
                               "modes are " + ", ".join(binary.MODES)),
                   help="one row per mode (default: pertask)")
    p.add_argument("--mode-b", metavar="MODE",
                   choices=Lazy(lambda: binary.expand_modes(binary.MODES)),
                   help="B's mode when it differs from A's (A then runs --modes)")
    p.add_argument("--threads", metavar="N", **lst,
                   type=items("thread count", int, lambda v: v > 0, "must be a positive integer"),
                   help="one row per thread count; threads switch variant in lockstep "
                        "(default: 1)")
    p.add_argument("--time", metavar="S", default=DEFAULT_TIME,
                   type=number(float, "time", lambda v: 0.05 <= v <= 3600, "0.05 .. 3600"),
                   help="measuring budget per comparison and layout (default: %(default)s)")
    p.add_argument("--trials", metavar="K", default=1,
                   type=number(int, "trials", lambda v: 1 <= v <= 1000, "1 .. 1000"),
                   help="measure each row K times, spread over the run (default: 1)")
    p.add_argument("--window-us", metavar="US", default=200,
                   type=number(float, "window", lambda v: 20 <= v <= 100000, "20 .. 100000"),
                   help="window length in microseconds (default: %(default)s)")
    p.add_argument("--layouts", action="store_true",
                   help="measure at each of +0, +16, +32, +48 in the hooks' 64-byte lines")
    p.add_argument("--kernel-return", choices=("ret", "thunk"), default="ret",
                   help="what a kernel-* side's returns run: ret (default) or the return "
                        "thunk a mitigated kernel jumps to (KCB_KERNEL_RETURN)")
    p.add_argument("--min-change", type=number(float, "min-change", lambda v: 0 <= v < 100,
                                                "0 .. 100 (percent)"),
                   default=MIN_CHANGE, metavar="PCT",
                   help="smallest change that counts, %% (default: %(default)s)")
    p.add_argument("--alpha", default=ALPHA,
                   type=number(float, "alpha", lambda v: 0 < v < 1, "between 0 and 1"),
                   help="significance level (default: %(default)s)")
    p.add_argument("--fail-on-slower", action="store_true",
                   help="exit 1 if any row's verdict is slower (a CI gate)")
    p.add_argument("--placement", default="spread", type=binary.placement_type,
                   help="where threads run, as `run` has it (default: %(default)s)")
    p.add_argument("--seed", type=number(int, "seed", lambda v: 0 <= v < 10 ** 15, "0 .. 1e15"),
                   help="order of the windows (default: from the clock; key.txt has it)")
    p.add_argument("--name", type=result_name,
                   help="results directory name (default: ab-date-time)")
    p.add_argument("--out", metavar="DIR", default=os.path.join(ROOT, "results"),
                   help="where the results directory goes (default: results/)")
    p.add_argument("--no-save", action="store_true", help="print the table, write nothing")
    p.add_argument("--wait", action="store_true",
                   help="wait for another kcovbench that is measuring, instead of refusing")
    p.add_argument("--allow-dirty", action="store_true",
                   help="publish into results/ from a dirty build (the key line says so)")


def _rows(a):
    modes = binary.expand_modes(flat(a.modes) or ["pertask"])
    threads = sorted(set(flat(a.threads) or [1]))
    ncpus = len(binary.placement_cpus(a.placement) or os.sched_getaffinity(0))
    if max(threads) > ncpus:
        raise UsageError("%d threads on %d CPUs: ab pins one thread per CPU" % (max(threads), ncpus))
    return [(m, t) for m in modes for t in threads]


def _measure(exe, a, side_a, side_b, mode, threads, seed):
    """One trial of one row: the binary's JSON."""
    cmd = [exe, "ab", "--a=" + side_a, "--b=" + side_b, "--mode=" + mode,
           "--threads=%d" % threads, "--time=%g" % a.time, "--window-us=%g" % a.window_us,
           "--placement=" + a.placement, "--seed=%d" % seed]
    if a.mode_b:
        cmd.append("--mode-b=" + a.mode_b)
    if a.layouts:
        cmd.append("--layouts=" + ",".join(map(str, LAYOUTS)))
    env = dict(os.environ, KCB_KERNEL_RETURN=getattr(a, "kernel_return", "ret"))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    if out.returncode == 2:
        raise UsageError(out.stderr.strip().replace("kcovbench ab: ", ""))
    if out.returncode != 0:
        raise Failure("%s exited %d: %s" % (shlex.join(cmd), out.returncode, out.stderr.strip()))
    try:
        return raw_ab.check_trial(json.loads(out.stdout), "the binary's output")
    except (ValueError, UsageError) as e:
        raise Failure("%s printed no usable JSON: %s" % (shlex.join(cmd), e))


def round_ratios(layout):
    """Per round, the mean over threads of ln(B/A): one number per round
    (threads in one round share the host's state, so they are one sample)."""
    by_round = {}
    for t in layout["threads"]:
        for x, y, r in zip(t["a"], t["b"], t["round"]):
            by_round.setdefault(r, []).append(math.log(y / x))
    return [sum(v) / len(v) for _, v in sorted(by_round.items())]


def analyse_layout(layout, alpha, min_change):
    """A layout's verdict and numbers: a dict."""
    d = round_ratios(layout)
    a_ns = [x for t in layout["threads"] for x in t["a"]]
    b_ns = [x for t in layout["threads"] for x in t["b"]]
    dropped = sum(t["dropped"] for t in layout["threads"])
    out = dict(layout=layout["layout"], pairs=len(d), dropped=dropped,
               placement=layout["placement"])
    if len(d) < 16:
        out.update(a=None, b=None, change=None, low=None, high=None, p=1.0,
                   verdict="undecided")
        return out
    est, lo, hi, p = stats.signed_rank(d)
    ch, low, high = math.expm1(est), math.expm1(lo), math.expm1(hi)
    out.update(a=stats.median(a_ns), b=stats.median(b_ns), change=ch, low=low, high=high, p=p,
               verdict=verdict(p, ch, low, high, alpha, min_change, True))
    return out


def combine(verdicts):
    """One verdict for many layouts or trials: theirs if they all agree."""
    return verdicts[0] if len(set(verdicts)) == 1 else "undecided"


def analyse(trials, alpha, min_change):
    """[trial][layout] analyses of one row, and the row's verdict."""
    res = [[analyse_layout(l, alpha, min_change) for l in doc["layouts"]] for doc in trials]
    verdict_ = combine([l["verdict"] for t in res for l in t])
    return res, verdict_


def _pct(x):
    return "-" if x is None else "%+.2f%%" % (100 * x)


def _ci(l):
    return "-" if l["low"] is None else "[%+.2f,%+.2f]" % (100 * l["low"], 100 * l["high"])


def _ns(x):
    return "-" if x is None else "%.4g" % x


def table_rows(results):
    """Text table rows: one per (row, trial, layout), then the row's verdict."""
    header = ["row", "at", "A ns/op", "B ns/op", "change", "95% CI", "p", "kept/drop", "verdict"]
    body = []
    for (mode, threads), (res, v) in results:
        label = "%s/%dT" % (mode, threads)
        for k, trial in enumerate(res):
            for l in trial:
                at = "+%d" % l["layout"] + ("#%d" % (k + 1) if len(res) > 1 else "")
                body.append([label, at, _ns(l["a"]), _ns(l["b"]), _pct(l["change"]), _ci(l),
                             "%.2g" % l["p"], "%d/%d" % (l["pairs"], l["dropped"]), l["verdict"]])
        if sum(len(t) for t in res) > 1:
            ch = [l["change"] for t in res for l in t if l["change"] is not None]
            spread = "%s .. %s" % (_pct(min(ch)), _pct(max(ch))) if ch else "-"
            body.append([label, "all", "", "", spread, "", "", "", v])
    return header, body


def render(a, results, head):
    header, body = table_rows(results)
    method = ("paired windows of %g us, rounds in random order; change = Hodges-Lehmann "
              "estimate of ln(B/A) per round (mean over threads), 95%% interval and p from "
              "the Wilcoxon signed-rank test; alpha %g, floor %g%%; kept = rounds kept, "
              "drop = rounds with a window switched out, migrated or short of CPU; "
              "at = the hooks' offset in their 64-byte line%s"
              % (a.window_us, a.alpha, a.min_change,
                 "; all = the spread of the change over layouts and trials, and the verdict "
                 "only if every one agrees" if any(len(r[1][0]) * len(r[1][0][0]) > 1
                                                   for r in results) else ""))
    # the mail table drops p (the interval says more) to fit 72 columns
    ip = header.index("p")
    short = [r[:ip] + r[ip + 1:] for r in [header] + body]
    txt = table.wrap(head) + [""] + table.txt(short[0], short[1:]).splitlines() + [""] + \
        table.wrap(method)
    md = "\n".join(["# " + head.splitlines()[0], "", "```", "\n".join(head.splitlines()[1:]),
                    "```", "", table.md(header, body), "", method]) + "\n"
    return "\n".join(txt) + "\n", md, table.csv_text(header, body)


def _sides(a):
    """(A, B) as the binary names them; with --base, A is REV's unless it says."""
    side_a, side_b = a.a, a.b
    if a.base and not side_a.startswith("base:"):
        side_a = "base:" + side_a
    if not a.base and (side_a.startswith("base:") or side_b.startswith("base:")):
        raise UsageError("base:NAME needs --base REV")
    for s in (side_a, side_b):
        name = s[5:] if s.startswith("base:") else s
        if name != "empty" and not s.startswith("base:"):
            binary.check_configs([name])
    return side_a, side_b


def kernel_fields(a, *sides):
    """key.txt's kernel fields when a side is a real kernel object."""
    if not any(s.split(":")[-1].startswith("kernel-") for s in sides):
        return []
    return [("kernel-return", a.kernel_return),
            ("kernel-placement", "object .text at page offset 0/16/32/48, the copy with the "
             "measured hook at the layout's offset")]


def kernel_keys(a):
    """`list`'s key line of each kernel-* side (scripts/kernel-obj's), or ""."""
    names = [s.split(":")[-1] for s in (a.a, a.b) if s.split(":")[-1].startswith("kernel-")]
    if not names:
        return ""
    r = subprocess.run([binary.ensure_built(), "list"], stdout=subprocess.PIPE, text=True)
    lines = [l.split("[REAL KERNEL]", 1)[1].strip() for l in r.stdout.splitlines()
             if "[REAL KERNEL]" in l and l.split()[0] in names]
    return "".join(l + "\n" for l in lines) + "returns: %s (--kernel-return)\n" % a.kernel_return


def main(a):
    if a.from_dir:
        return reread(a)
    if not a.a or not a.b:
        raise UsageError("ab needs A and B (or --from DIR)")
    rows = _rows(a)
    side_a, side_b = _sides(a)
    exe = binary.ensure_built()
    base_git = None
    if a.base:
        exe, base_git = ab_build.with_base(exe, a.base)
    if not a.no_save and not binary.OVERRIDE:
        machine.publishable(a.out, machine.built_git(), a.allow_dirty)
    seed = a.seed if a.seed is not None else time.time_ns() % 10 ** 15
    name = a.name or time.strftime("ab-%Y%m%d-%H%M%S")
    with contextlib.nullcontext() if a.no_save else Staging(os.path.join(a.out, name)) as stage:
        with measure_lock(a.wait, "kcovbench ab"):
            raw = measure_all(exe, a, rows, side_a, side_b, seed)
        results = [((m, t), analyse(raw[(m, t)], a.alpha, a.min_change)) for m, t in rows]
        context = raw[rows[0]][0].get("context", {})
        fields = machine.key(context)
        if stage and not binary.OVERRIDE:
            machine.publishable(a.out, dict(fields)["git"], a.allow_dirty)
        if base_git:
            fields.append(("base", base_git))
        key = machine.key_line(fields + [("placement", a.placement), ("seed", str(seed))] +
                               kernel_fields(a, side_a, side_b))
        head = "kcovbench ab %s %s%s\n%s\ncommand: %s" % (
            side_a, side_b, " (base %s)" % a.base if a.base else "", key, shlex.join(sys.argv))
        txt, md, csv_ = render(a, results, head)
        if stage:
            publish(stage, a, raw, rows, key, (("table.txt", txt), ("mail.txt", txt),
                                               ("table.md", md), ("table.csv", csv_)))
        sys.stdout.write(txt)
    slower = any(r[1][1] == "slower" for r in results)
    return 1 if a.fail_on_slower and slower else 0


def reread(a):
    """--from DIR: the saved pairs, checked, analysed and printed again."""
    if a.a or a.b or a.base:
        raise UsageError("--from DIR takes its variants from DIR: no A, B or --base")
    doc = raw_ab.load(a.from_dir)
    rows = [(r["mode"], r["threads"]) for r in doc["rows"]]
    raw = {(r["mode"], r["threads"]): r["trials"] for r in doc["rows"]}
    results = [((m, t), analyse(raw[(m, t)], a.alpha, a.min_change)) for m, t in rows]
    saved = doc["args"]
    for k in ("window_us",):
        setattr(a, k, saved.get(k, 200))
    key = doc.get("key", "")
    head = "kcovbench ab %s %s (re-read from %s)\n%s" % (
        raw[rows[0]][0]["a"], raw[rows[0]][0]["b"], a.from_dir, key)
    sys.stdout.write(render(a, results, head)[0])
    return 0


def measure_all(exe, a, rows, side_a, side_b, seed):
    """{(mode, threads): [trial JSON]}, trials spread over the run."""
    raw = {(m, t): [] for m, t in rows}
    n, t0 = len(rows) * a.trials, time.time()
    for k in range(a.trials):
        for i, (m, t) in enumerate(rows):
            print("kcovbench ab: %d of %d: %s vs %s, %s, %d thread%s, trial %d (%.0f s)"
                  % (k * len(rows) + i + 1, n, side_a, side_b, m, t, "s"[t == 1:], k + 1,
                     time.time() - t0), file=sys.stderr)
            raw[(m, t)].append(_measure(exe, a, side_a, side_b, m, t,
                                        seed + 1000003 * (k * len(rows) + i)))
    return raw


def publish(stage, a, raw, rows, key, files):
    """The raw pairs (gzipped JSON: ~25k pairs a trial), key and tables,
    renamed into place whole."""
    doc = {"args": {k: v for k, v in vars(a).items() if k != "func"}, "key": key,
           "rows": [{"mode": m, "threads": t, "trials": raw[(m, t)]} for m, t in rows]}
    atomic_write(os.path.join(stage.path, "raw-ab.json.gz"),
                 gzip.compress(json.dumps(doc).encode(), mtime=0))
    atomic_write(os.path.join(stage.path, "key.txt"),
                 "%s\ncommand: %s\n" % (key, shlex.join(sys.argv)))
    kernels = kernel_keys(a)
    if kernels:     # which tree, patch and compiler each real object came from
        atomic_write(os.path.join(stage.path, "kernel-key.txt"), kernels)
    for fname, data in files:
        atomic_write(os.path.join(stage.path, fname), data)
    stage.commit()
    print("results: %s" % os.path.relpath(stage.final), file=sys.stderr)
