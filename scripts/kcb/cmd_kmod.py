"""kcovbench kmod run: the benchmarks inside the kernel module (kmod/),
optionally beside the userland ones, into results/<name>/ as `run` writes
it: raw.json (Google Benchmark's JSON shape; kernel runs are named
"kmod:<config>/<mode>/..."), key.txt, table.txt, table.md, table.csv, plus
specs.txt (what was written to the module) and dmesg.txt (the kernel's
log of the runs).

Where the module runs:
  --qemu FLAVOUR   in Debian's FLAVOUR kernel (amd64, rt-amd64) under qemu
                   (scripts/qemu-kmod-run): no root needed.  Without KVM
                   qemu emulates every instruction (TCG): those timings say
                   nothing about a real machine, and key.txt and the table
                   titles say so.
  (no --qemu)      in the running kernel, as root: build the module against
                   /lib/modules/$(uname -r)/build, insmod, write each spec
                   to /sys/kernel/debug/kcovbench/run, read results, rmmod.

One spec per config x mode x thread count (kmod/kcb_spec.c).  --userland
also runs the userland benchmark here with the same settings, so that the
table shows kernel and userland ns/op side by side.

--ab B makes each spec a paired run (the module's ab=B): every config is A,
measured by the same kthreads in alternating ~200 us windows with B, in
lockstep; a kmod row is then A's kept windows, and a second table shows
each thread's kept and dropped pairs, both medians and the median
per-pair change ln(B/A).  The module keeps a summary, not the pairs: for
a verdict with an interval use `kcovbench ab` (userland)."""
import argparse
import json
import math
import os
import re
import shlex
import socket
import sys
import tempfile
import time

from . import binary, machine, registry, results, table
from .argtypes import buffer_words, flat, items, result_name
from .common import ROOT, Failure, Lazy, Staging, UsageError, atomic_write, warn
from .kmod_target import guest_cpus, run_here, run_qemu, run_userland
from .run_output import cell, common_count, csv, publish


NAME = "kmod"
HELP = "run the benchmarks inside the kernel module (here or under qemu)"
# the binary's modes (registry), the workload too: the module has its copies
MODES = Lazy(lambda: binary.driver_modes(workload=True))
FLAVOURS = ("amd64", "rt-amd64")


# kmod/kcb_run.h's bounds, checked here so a bad run fails before a boot.
WINDOW_MS_MAX, REPS_MAX, RUN_MS_MAX = 10000, 100, 60000
TROUBLE = re.compile(r"BUG:|WARNING:|Oops|Call Trace")


def _seconds(text):
    try:
        v = float(text)
    except ValueError:
        v = -1
    if not 0 <= v <= WINDOW_MS_MAX / 1000:
        raise argparse.ArgumentTypeError("%r: want seconds, 0 .. %g" % (text, WINDOW_MS_MAX / 1000))
    return v


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run specs in the module, write results/<name>/",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    lst = dict(nargs="+", action="extend", default=None)
    r.add_argument("--qemu", choices=FLAVOURS, metavar="FLAVOUR",
                   help="boot Debian's FLAVOUR kernel (amd64, rt-amd64) under qemu")
    r.add_argument("--smp", type=int, default=2, metavar="N",
                   help="--qemu: CPUs of the guest (default: %(default)s)")
    r.add_argument("--configs", metavar="CONFIG", **lst,
                   type=items("config", str, lambda v: True, ""),
                   help="upstream configs, FRONTEND/PAIR or empty "
                        "(default: the upstream configs; empty always runs)")
    r.add_argument("--modes", metavar="MODE", **lst,
                   type=items("mode", str, lambda v: v in MODES, "modes are " + ", ".join(MODES)),
                   help="of %s (default: pertask)" % ", ".join(MODES))
    r.add_argument("--threads", metavar="N", **lst,
                   type=items("threads", int, lambda v: v > 0, "must be positive"),
                   help="thread counts, one kthread per CPU (default: 1..CPUs)")
    r.add_argument("--placement", type=binary.placement_type,
                   help="pin the kthreads in a placement class's order, as `run` does "
                        "(here only: a qemu guest's topology is not this machine's)")
    r.add_argument("--duration", metavar="SECONDS", type=_seconds, default=0.2,
                   help="measured window per repetition (default: %(default)s)")
    r.add_argument("--warmup", metavar="SECONDS", type=_seconds, default=0.05,
                   help="warm-up before it (default: %(default)s)")
    r.add_argument("--buffer-words", metavar="N|batch", type=buffer_words,
                   help="as run's (the module's spec key buffer_words; batch is 0)")
    r.add_argument("--ab", metavar="B",
                   help="paired runs: each config is A, B alternates with it window by "
                        "window in the same kthreads (--duration: the measured rounds)")
    r.add_argument("--repetitions", metavar="N", type=int, default=5,
                   help="repetitions per benchmark (default: %(default)s)")
    r.add_argument("--userland", action="store_true",
                   help="also run the userland benchmark here, for a side-by-side table")
    r.add_argument("--name", type=result_name,
                   help="results directory name (default: kmod-date-time-host)")
    r.add_argument("--allow-dirty", action="store_true",
                   help="publish into results/ from a build of a dirty tree (the key "
                        "line says allow_dirty=yes); refused otherwise")
    r.add_argument("--out", metavar="DIR", default=os.path.join(ROOT, "results"),
                   help="where the results directory goes (default: results/)")


def upstream_configs():
    """The upstream configurations (the registry's)."""
    return registry.upstream_configs()


def proposed_configs():
    """The proposals' configurations, unmerged upstream ones included."""
    return registry.proposed_configs()


def specs_for(configs, modes, threads, window_ms, warmup_ms, reps, cpus=None,
              buffer_words=None, ab=None):
    """One spec line per config x mode x thread count; the workload only
    exists for upstream configurations (and empty: uninstrumented).  With
    cpus (a placement's pin order), N kthreads take its first N CPUs; with
    ab, each is a paired run against ab."""
    workload_ok = set(upstream_configs()) | set(proposed_configs()) | {"empty"}
    out = []
    for c in configs:
        for m in modes:
            if m == "workload" and ab is not None and ab not in workload_ok:
                warn("%s has no workload copy (upstream configurations only): "
                     "no paired workload runs" % ab)
                continue
            if m == "workload" and c not in workload_ok:
                warn("%s has no workload copy (upstream configurations only): skipped" % c)
                continue
            for t in threads:
                where = (" cpus=" + ",".join(map(str, cpus[:t]))) if cpus else ""
                if buffer_words is not None:
                    where += " buffer_words=%s" % ("0" if buffer_words == "batch"
                                                   else buffer_words)
                if ab is not None:
                    where += " ab=" + ab
                out.append("config=%s mode=%s threads=%d window_ms=%d warmup_ms=%d reps=%d%s"
                           % (c, m, t, window_ms, warmup_ms, reps, where))
    return out


def ab_rows(runs):
    """One row per thread of each paired repetition (kcb_json.c's kcb_ab):
    A, B, mode, threads, repetition, thread, pairs kept and dropped, both
    medians (ns/op) and the median ln(B/A) as a %% change."""
    header = ["A", "B", "mode", "threads", "rep", "thread", "pairs", "dropped",
              "A ns/op", "B ns/op", "B/A"]
    rows = []
    for r in runs:
        ab = r.get("kcb_ab")
        if not isinstance(ab, dict):
            continue
        mode = results.Bench(r.get("run_name", r.get("name", "")), 1).mode
        try:
            for i, t in enumerate(ab["threads"]):
                change = math.expm1(t["log_ratio_ppm"] / 1e6) * 100
                rows.append([str(ab["a"]), str(ab["b"]), mode, str(r.get("threads", "?")),
                             str(r.get("repetition_index", "?")), str(i),
                             "%d" % t["pairs"], "%d" % t["dropped"],
                             "%.3f" % t["a_ns_per_op"], "%.3f" % t["b_ns_per_op"],
                             "%+.2f%%" % change])
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise Failure("a paired run's kcb_ab summary is malformed (%s: %s)"
                          % (type(e).__name__, e))
    return header, rows


def side_by_side(benches, title, reps=None):
    """Rows config/mode; per thread count a userland and a kmod column."""
    threads = sorted({b.threads for b in benches})
    kinds = [k for k in ("user", "kmod") if any(b.config.startswith("kmod:") == (k == "kmod")
                                                for b in benches)]
    rows = {}
    for b in benches:
        kind = "kmod" if b.row.startswith("kmod:") else "user"
        row = b.row[len("kmod:"):] if kind == "kmod" else b.row
        rows.setdefault(row, {})[(kind, b.threads)] = b
    header = ["config/mode"] + ["%s %dt" % (k, t) for t in threads for k in kinds]
    body = [[r] + [cell(cells[(k, t)], "ns_per_op", reps) if (k, t) in cells else "-"
                   for t in threads for k in kinds] for r, cells in rows.items()]
    return table.wrap(title) + table.txt(header, body).splitlines(), \
        ["**%s**" % title, "", table.md(header, body)]


def render(name, key, benches, reps, target, runs=()):
    head = "kcovbench kmod run %s\n%s" % (name, key)
    # n = what was measured, not what was asked (a repetition may error)
    reps = common_count(benches, "ns_per_op", reps)
    title = ("ns/op (ns per round in workload mode): median (min-max) of n=%d "
             "repetitions measured (a cell with fewer says n=); columns: user = the "
             "userland replica on "
             "this host, kmod = kcovbench.ko in %s; Nt = N threads" % (reps, target))
    t_txt, t_md = side_by_side(benches, title, reps)
    txt = table.wrap(head) + [""] + t_txt
    md = ["# kcovbench kmod run %s" % name, "", "```", key, "```", ""] + t_md
    header, rows = ab_rows(runs)
    if rows:
        about = ("paired runs (kmod rows above: A's kept windows): per thread, pairs "
                 "of one A and one B window kept (dropped: a window switched out or "
                 "migrated), medians of each side's ns/op and B/A = the median "
                 "per-pair ln(B/A) as a change; no interval (use `kcovbench ab`)")
        txt += [""] + table.wrap(about) + table.txt(header, rows).splitlines()
        md += ["", "**%s**" % about, "", table.md(header, rows)]
    if any(b.unpinned for b in benches):
        note = "! = in some repetition a thread did not run on its pinned CPU"
        txt += ["", note]
        md += ["", note]
    return "\n".join(txt) + "\n", "\n".join(md).rstrip("\n") + "\n"


def main(a):
    if a.action != "run":
        raise UsageError("unknown action %s" % a.action)
    if not 1 <= a.repetitions <= REPS_MAX:
        raise UsageError("--repetitions must be 1..%d" % REPS_MAX)
    window_ms, warmup_ms = round(a.duration * 1000), round(a.warmup * 1000)
    if window_ms < 1:
        raise UsageError("--duration must be at least 0.001 s")
    if a.repetitions * (window_ms + warmup_ms) > RUN_MS_MAX:
        raise UsageError("--repetitions x (--duration + --warmup) must stay within %d s "
                         "(the module's bound on one run)" % (RUN_MS_MAX // 1000))
    configs = flat(a.configs) or upstream_configs()
    if "all" in configs:        # as `run`: every upstream front end x pair, no controls
        _, fes, pairs = binary.names()
        configs = [f + "/" + p for f in fes for p in pairs
                   if p not in results.CONTROLS and not results.is_proposal(f + "/" + p)]
    configs = ["empty"] + [c for c in configs if c != "empty"]
    modes = binary.expand_modes(flat(a.modes) or ["pertask"])
    if a.smp < 1:
        raise UsageError("--smp %d: the guest needs at least 1 CPU" % a.smp)
    ncpus = a.smp if a.qemu else os.cpu_count()
    threads = flat(a.threads) or list(range(1, ncpus + 1))
    if max(threads) > ncpus:
        raise UsageError("%d threads on %d CPUs: the module runs one kthread per CPU"
                         % (max(threads), ncpus))
    if a.userland and max(threads) > len(os.sched_getaffinity(0)):
        warn("more threads than CPUs here: userland threads will share CPUs")
    # The userland binary knows every name the module does (one registry).
    binary.ensure_built()
    binary.check_configs([c for c in configs if c != "empty"] or ["empty"])
    cpus = None
    if a.placement:
        if a.qemu and not a.placement.startswith("list:") and a.placement != "spread":
            raise UsageError("--placement %s describes this machine, not the qemu guest "
                             "(use spread or list: with --qemu)" % a.placement)
        cpus = binary.placement_cpus(a.placement) if not a.qemu else \
            guest_cpus(a.placement, ncpus)
        if max(threads) > len(cpus):
            raise UsageError("placement %s offers %d CPUs; %d threads asked"
                             % (a.placement, len(cpus), max(threads)))
    if a.ab is not None:
        binary.check_configs([a.ab])
    specs = specs_for(configs, modes, threads, window_ms, warmup_ms, a.repetitions, cpus,
                      a.buffer_words, a.ab)
    name = a.name or time.strftime("kmod-%Y%m%d-%H%M%S-") + socket.gethostname()

    # the last input check: a build results/ may take
    if not binary.OVERRIDE:
        machine.publishable(a.out, machine.built_git(), a.allow_dirty)
    with Staging(os.path.join(a.out, name)) as stage, \
            tempfile.TemporaryDirectory(prefix="kcb-kmod-") as tmp:
        user_doc, user_cmd = (None, None)
        if a.userland:
            user_doc, user_cmd = run_userland(configs, modes, threads, a, tmp)
        if a.qemu:
            docs, failed, dmesg, target, kcmd = run_qemu(a.qemu, a.smp, specs, tmp)
        else:
            docs, failed, dmesg, target, kcmd = run_here(specs)
        missing = [n for n in range(1, len(specs) + 1) if n not in docs and n not in failed]
        for n in missing:
            failed[n] = "no results"
        if failed:
            raise Failure("kernel runs failed:\n" + "\n".join(
                "  %s: %s" % (specs[n - 1], why) for n, why in sorted(failed.items())))
        if TROUBLE.search(dmesg):
            raise Failure("the kernel warned during the runs:\n" + dmesg)

        kctx = dict(docs[1]["context"])
        kctx.pop("kcb_spec", None)
        ctx = dict(user_doc["context"]) if user_doc else dict(kctx)
        ctx["kcb_kmod"] = kctx
        ctx["kcb_kmod_target"] = target
        runs = (user_doc["benchmarks"] if user_doc else []) + \
            [r for n in sorted(docs) for r in docs[n]["benchmarks"]]
        raw = os.path.join(stage.path, "raw.json")
        atomic_write(raw, json.dumps({"context": ctx, "benchmarks": runs}, indent=2) + "\n")
        _, benches = results.load(raw)
        if not benches:
            raise Failure("no benchmark reported a result")

        fields = machine.key(ctx)
        machine.publishable(a.out, dict(fields)["git"], a.allow_dirty)
        if a.allow_dirty:
            fields.append(("allow_dirty", "yes"))
        key = machine.key_line(fields + [("kmod", target)])
        key_txt = "%s\ncommand: %s\n" % (key, shlex.join(sys.argv))
        if user_cmd:
            key_txt += "binary: %s\n" % user_cmd
        key_txt += "kmod: %s, once per line of specs.txt\n" % kcmd
        if "NOT representative" in target:
            key_txt += ("caveat: the kmod numbers come from qemu's TCG emulator (no "
                        "working KVM here); they show that each variant runs in kernel "
                        "context, not what it costs there.  The user numbers are real, "
                        "from this host.\n")
        txt, md = render(name, key_txt.rstrip("\n"), benches, a.repetitions, target, runs)
        publish(stage, a.out, name, txt, (
            ("key.txt", key_txt), ("table.txt", txt), ("table.md", md),
            ("table.csv", csv(benches, target)),
            ("specs.txt", "".join(s + "\n" for s in specs)), ("dmesg.txt", dmesg)))
    return 0
