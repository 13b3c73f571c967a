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
import platform
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time

from . import binary, machine, results, table
from .argtypes import buffer_words, flat, items, result_name
from .common import ROOT, Failure, Staging, UsageError, atomic_write, warn
from .run_output import cell, common_count, csv, publish

NAME = "kmod"
HELP = "run the benchmarks inside the kernel module (here or under qemu)"

MODES = ("pertask", "shared", "cmp", "workload") + binary.SWITCH_MODES + ("switch",) + \
    binary.GUARD_MODES
FLAVOURS = ("amd64", "rt-amd64")
CONFIGS_H = os.path.join(ROOT, "variants", "configs.h")
DEBUGFS = "/sys/kernel/debug"
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


def _configs_of(macro):
    with open(CONFIGS_H) as f:
        text = f.read()
    body = text.split("#define %s(X)" % macro, 1)[1].split("\n\n", 1)[0]
    return re.findall(r'^\s*X\("([^"]+)"', body, re.M)


def upstream_configs():
    """The upstream configurations, from variants/configs.h's KCB_CONFIGS."""
    return _configs_of("KCB_CONFIGS")


def proposed_configs():
    """The proposals' configurations (KCB_PROPOSED_CONFIGS)."""
    return _configs_of("KCB_PROPOSED_CONFIGS")


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


def guest_cpus(placement, smp):
    """The pin order of --placement in a guest of smp CPUs: spread, or a
    list of distinct CPUs below smp (checked here: the module would refuse
    it only after the boot)."""
    if not placement.startswith("list:"):
        return list(range(smp))
    cpus = [int(c) for c in placement[5:].split(",")]
    for c in cpus:
        if c >= smp:
            raise UsageError("placement %s: CPU %d is not in a guest of --smp %d"
                             % (placement, c, smp))
        if cpus.count(c) > 1:
            raise UsageError("placement %s: CPU %d appears twice" % (placement, c))
    return cpus


def parse_console(text):
    """From a guest's serial log (scripts/qemu-kmod-run): the results JSON
    of each spec by its 1-based number, failures by number, and dmesg."""
    docs, failed = {}, {}
    for n, body in re.findall(r"^kcb-json-begin (\d+)\n(.*?)^kcb-json-end \1$", text, re.M | re.S):
        try:
            docs[int(n)] = json.loads(body)
        except ValueError as e:
            failed[int(n)] = "results do not parse: %s" % e
    for n, why in re.findall(r"^kcb-run-failed (\d+): (.*)$", text, re.M):
        failed[int(n)] = why
    m = re.search(r"^kcb-dmesg-begin\n(.*?)^kcb-dmesg-end$", text, re.M | re.S)
    return docs, failed, m.group(1) if m else ""


def _run_qemu(flav, smp, specs, tmp):
    """Run the specs in a guest; (docs, failed, dmesg, target, command)."""
    path = os.path.join(tmp, "specs.txt")
    log = os.path.join(tmp, "console.log")
    with open(path, "w") as f:
        f.write("".join(s + "\n" for s in specs))
    cmd = [os.path.join(ROOT, "scripts", "qemu-kmod-run"), flav, path, log]
    env = dict(os.environ, QEMU_SMP=str(smp))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    if out.returncode != 0:
        raise Failure("scripts/qemu-kmod-run %s failed (exit %d)" % (flav, out.returncode))
    about = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
    with open(log, errors="replace") as f:
        docs, failed, dmesg = parse_console(f.read())
    accel = about.get("accel", "?")
    target = "Linux %s (Debian) in qemu-system-x86_64 accel=%s -smp %s -m 1G" % (
        about.get("kernel", "?"), accel, smp)
    if accel != "kvm":
        target += ": TCG emulation, kernel timings NOT representative"
    return docs, failed, dmesg, target, "QEMU_SMP=%d scripts/qemu-kmod-run %s specs.txt LOG" % (smp, flav)


def _dmesg():
    """The kernel's log, lines.  Failure when it cannot be read: an empty
    log would pass the Oops check."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True)
    except OSError as e:
        raise Failure("cannot run dmesg (%s): the kernel's log cannot be checked "
                      "for warnings" % e.strerror)
    if out.returncode != 0:
        raise Failure("dmesg failed (exit %d: %s): the kernel's log cannot be checked "
                      "for warnings" % (out.returncode, out.stderr.strip()))
    return out.stdout.splitlines()


def _rmmod(first_error):
    """Unload the module.  A failure is reported; it is raised unless an
    earlier error is on its way out (that one is the one to see)."""
    rc = subprocess.run(["rmmod", "kcovbench"]).returncode
    if rc == 0:
        return
    why = "rmmod kcovbench failed (exit %d): the module is still loaded" % rc
    if first_error:
        warn(why)
    else:
        raise Failure(why)


def _write_specs(ctl, specs):
    """Each spec to the module's run file, its results read back: (docs,
    failed), by the spec's 1-based number."""
    docs, failed = {}, {}
    for n, spec in enumerate(specs, 1):
        print("kcovbench kmod: %s" % spec, file=sys.stderr)
        try:
            with open(os.path.join(ctl, "run"), "w") as f:
                f.write(spec)
            with open(os.path.join(ctl, "results")) as f:
                docs[n] = json.load(f)
        except (OSError, ValueError) as e:
            failed[n] = str(e)
    return docs, failed


def _run_here(specs):
    """Run the specs in the running kernel (root); as _run_qemu."""
    if os.geteuid() != 0:
        raise UsageError("loading a module needs root (or use --qemu FLAVOUR)")
    rel = platform.release()
    flav = "rt-amd64" if rel.endswith("-rt-amd64") else "amd64"
    kdir = "/lib/modules/%s/build" % rel
    if not os.path.exists(os.path.join(kdir, "Makefile")):
        raise Failure("no headers for the running kernel in %s (install linux-headers-%s)"
                      % (kdir, rel))
    if os.path.exists("/sys/module/kcovbench"):
        raise Failure("kcovbench is already loaded: rmmod it first")
    mk = subprocess.run(["make", "-C", os.path.join(ROOT, "kmod"), flav, "KDIR=" + kdir],
                        stdout=sys.stderr.fileno())
    if mk.returncode != 0:
        raise Failure("module build failed")
    if not os.path.ismount(DEBUGFS) and \
            subprocess.run(["mount", "-t", "debugfs", "debugfs", DEBUGFS]).returncode:
        warn("could not mount debugfs on %s" % DEBUGFS)
    ko = os.path.join(ROOT, "build", "kmod-" + flav, "kmod", "kcovbench.ko")
    # The kernel's log from here on: what the runs printed, warnings included.
    before = len(_dmesg())
    if subprocess.run(["insmod", ko, "selftest=0"]).returncode != 0:
        raise Failure("insmod %s failed" % ko)
    ctl = os.path.join(DEBUGFS, "kcovbench")
    try:
        docs, failed = _write_specs(ctl, specs)
    except BaseException:
        _rmmod(first_error=True)
        raise
    _rmmod(first_error=False)
    dmesg = "".join(l + "\n" for l in _dmesg()[before:])
    return docs, failed, dmesg, "Linux %s on this machine" % rel, \
        "insmod %s selftest=0; echo SPEC > %s/run; cat %s/results; rmmod" % (
            os.path.relpath(ko, ROOT), ctl, ctl)


def _ere(text):
    """text as a POSIX extended regex matching itself (Google Benchmark's
    filter); names hold letters, digits and . - + / only."""
    return re.sub(r"([.+])", r"[\1]", text)


def _run_userland(configs, modes, threads, a, tmp):
    """The userland benchmark with the same settings: (doc, command).  The
    filter keeps to the specs' config/mode rows, irq:0 as in the module."""
    exe = binary.ensure_built()
    only = "^(%s)/(%s)/irq:0/" % ("|".join(map(_ere, configs)), "|".join(modes))
    args = ["bench", "--configs=" + ",".join(configs), "--modes=" + ",".join(modes),
            "--threads=" + ",".join(map(str, threads)), "--window=%g" % a.duration,
            "--warmup=%g" % a.warmup, "--benchmark_repetitions=%d" % a.repetitions,
            "--benchmark_filter=" + only]
    if a.buffer_words is not None:
        args.append("--buffer-words=%s" % a.buffer_words)
    part = os.path.join(tmp, "user.json")
    rc = subprocess.run([exe] + args + ["--benchmark_out=" + part, "--benchmark_out_format=json",
                                        "--benchmark_format=console"],
                        stdout=sys.stderr.fileno()).returncode
    if rc != 0:
        raise Failure("the userland benchmark exited %d" % rc)
    with open(part) as f:
        doc = json.load(f)
    keep = re.compile(only)
    doc["benchmarks"] = [r for r in doc["benchmarks"] if keep.match(r.get("run_name", ""))]
    shown = os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe
    return doc, shlex.join([shown] + args + ["--benchmark_out=raw.json"])


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
            user_doc, user_cmd = _run_userland(configs, modes, threads, a, tmp)
        if a.qemu:
            docs, failed, dmesg, target, kcmd = _run_qemu(a.qemu, a.smp, specs, tmp)
        else:
            docs, failed, dmesg, target, kcmd = _run_here(specs)
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
