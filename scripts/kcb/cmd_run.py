"""kcovbench run: build, run the benchmarks, and store results/<name>/ with
raw.json (Google Benchmark's JSON), key.txt, table.md, table.csv and
table.txt.  The directory appears whole at the end or not at all."""
import argparse
import math
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

from . import binary, machine, results, state, stats, table
from .common import ROOT, Failure, Staging, UsageError, atomic_write, warn

NAME = "run"
HELP = "run the benchmarks and write results/<name>/"

# compare needs 9 repetitions to reach alpha 0.05 with room to spare, and
# the default suite must still end within 90 s on the 2-CPU development VM:
# 88 benchmarks x 9 repetitions x (0.05 s window + 0.02 s warm-up) = 55 s
# of measuring.
DEFAULT_DURATION = 0.05
DEFAULT_WARMUP = 0.02
DEFAULT_REPETITIONS = 9
UNITS = {"ns_per_op": "ns/op", "cycles_per_op": "cycles/op",
         "instructions_per_op": "instructions/op"}


def _items(kind, conv, ok, why):
    """An argparse type: a comma-separated list, each item converted and
    checked, so that bad input fails before anything is built or run."""
    def parse(text):
        out = []
        for item in filter(None, text.split(",")):
            try:
                v = conv(item)
            except ValueError:
                v = None
            if v is None or not ok(v):
                raise argparse.ArgumentTypeError("%s %r: %s" % (kind, item, why))
            out.append(v)
        return out
    return parse


def _number(conv, kind, ok, why):
    def parse(text):
        try:
            v = conv(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%s %r is not a number" % (kind, text))
        if not ok(v):
            raise argparse.ArgumentTypeError("%s %r: %s" % (kind, text, why))
        return v
    return parse


def _buffer(text):
    if text == "batch":
        return text
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 4097 <= v <= 1 << 24:
        raise argparse.ArgumentTypeError("buffer words %r: 4097 .. 16777216, or batch" % text)
    return str(v)


def _name(text):
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", text):
        raise argparse.ArgumentTypeError(
            "name %r: use letters, digits and ._+- (no /, no leading dot)" % text)
    return text


def add_arguments(p):
    lst = dict(nargs="+", action="extend", default=None)
    p.add_argument("--configs", metavar="CONFIG", **lst,
                   type=_items("config", str, lambda v: True, ""),
                   help="upstream config names, FRONTEND/PAIR, empty, all (every "
                        "upstream front end x pair) or proposals (every proposal's "
                        "config, marked [PROPOSAL]) (default: the 6 upstream configs; "
                        "empty always runs)")
    p.add_argument("--modes", metavar="MODE", **lst,
                   type=_items("mode", str, lambda v: v in binary.MODES,
                               "modes are " + ", ".join(binary.MODES)),
                   help="of %s (default: all)" % ", ".join(binary.MODES))
    p.add_argument("--irq", metavar="N", **lst,
                   type=_items("irq", str, lambda v: v in binary.IRQS, "use 0 or 1"),
                   help="0: no interrupts, 1: with interrupts (default: 0)")
    p.add_argument("--threads", metavar="N", **lst,
                   type=_items("thread count", int, lambda v: v > 0, "must be a positive integer"),
                   help="thread counts (default: 1..ncpus)")
    p.add_argument("--placement", default="spread", type=binary.placement_type,
                   help="where threads run: smt (siblings of a core), core (one per "
                        "core in one LLC), llc (across LLCs), node (across NUMA nodes), "
                        "spread (the OS's order), list:0,4,8 (default: %(default)s)")
    p.add_argument("--strict", action="store_true",
                   help="refuse to run (exit 2) when the machine's state makes numbers "
                        "unreliable; without it the table title carries the warning")
    p.add_argument("--allow-dirty", action="store_true",
                   help="publish into results/ from a build of a dirty tree (the key "
                        "line says allow_dirty=yes); refused otherwise")
    p.add_argument("--oversubscribe", action="store_true",
                   help="allow more threads than CPUs; default threads 1..2*ncpus")
    p.add_argument("--duration", metavar="SECONDS", default=DEFAULT_DURATION,
                   type=_number(float, "duration", lambda v: 0 < v < math.inf,
                                "must be positive"),
                   help="measuring window per repetition (default: %(default)s)")
    p.add_argument("--warmup", metavar="SECONDS", default=DEFAULT_WARMUP,
                   type=_number(float, "warmup", lambda v: 0 < v <= 3600,
                                "must be positive, at most 3600"),
                   help="unmeasured run-in before each window (default: %(default)s)")
    p.add_argument("--buffer-words", metavar="N|batch", type=_buffer,
                   help="each thread's own buffer, count word included, emptied only "
                        "when full (default: the binary's, syzkaller's 262144); batch: "
                        "room for one batch, emptied after each (stays in L1)")
    p.add_argument("--chunk-records", metavar="K",
                   type=_number(int, "chunk records", lambda v: 1 <= v <= 4096, "must be 1..4096"),
                   help="records the chunk claim (a proposal) reserves per CAS "
                        "(default: the binary's, 32)")
    p.add_argument("--repetitions", metavar="N", default=DEFAULT_REPETITIONS,
                   type=_number(int, "repetitions", lambda v: v > 0, "must be at least 1"),
                   help="repetitions per benchmark; compare wants 9+ (default: %(default)s)")
    p.add_argument("--no-interleave", action="store_true",
                   help="run each benchmark's repetitions back to back instead of "
                        "shuffled among all the others (GB's random interleaving)")
    p.add_argument("--name", type=_name,
                   help="results directory name (default: date-time-host)")
    p.add_argument("--out", metavar="DIR", default=os.path.join(ROOT, "results"),
                   help="where the results directory goes (default: results/)")
    p.add_argument("extra", nargs="*", metavar="-- FLAG",
                   help="after --: flags for the binary, e.g. --benchmark_filter=linux")


def _flat(lists):
    return None if lists is None else [x for sub in lists for x in sub]


def _bench_args(a, ncpus):
    """The binary's arguments; only what the user chose, so the binary's
    own defaults stay the single source of them."""
    threads = _flat(a.threads)
    if threads is None and a.oversubscribe:
        threads = list(range(1, 2 * ncpus + 1))
    if threads and max(threads) > ncpus and not a.oversubscribe:
        raise UsageError("%d threads on %d CPUs: pinned threads would share CPUs; "
                         "add --oversubscribe to mean it" % (max(threads), ncpus))
    stray = [x for x in a.extra if not x.startswith("-")]
    if stray:
        raise UsageError("unexpected argument %s" % " ".join(stray))
    args = []
    for flag, vals in (("configs", _flat(a.configs)), ("modes", _flat(a.modes)),
                       ("irq", _flat(a.irq)), ("threads", threads)):
        if vals is not None:
            if not vals:
                raise UsageError("--%s needs at least one value" % flag)
            args.append("--%s=%s" % (flag, ",".join(map(str, vals))))
    args += ["--placement=" + a.placement]
    if a.oversubscribe:
        args.append("--oversubscribe")
    if a.buffer_words is not None:
        args.append("--buffer-words=%s" % a.buffer_words)
    if a.chunk_records is not None:
        args.append("--chunk-records=%d" % a.chunk_records)
    args += ["--window=%g" % a.duration, "--warmup=%g" % a.warmup, "--benchmark_repetitions=%d" % a.repetitions]
    if not a.no_interleave:
        # A burst of other work then lands on a few repetitions of many
        # benchmarks, not on every repetition of a few: medians shrug it off
        # and A/B runs made at different times compare better.
        args.append("--benchmark_enable_random_interleaving=true")
    return args + a.extra


def _num(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def _cell(b, metric):
    """median (min-max) of the repetitions; a bimodal row says so instead,
    since no single spread describes two clusters."""
    xs = b.values.get(metric)
    if not xs:
        return "-"
    text = _num(stats.median(xs))
    if len(xs) > 1:
        text += " (%s-%s)" % (_num(min(xs)), _num(max(xs)))
    if stats.bimodal(xs):
        text += " bimodal"
    return text + ("!" if b.unpinned else "")


def _grid(benches, metric):
    """Rows config/mode (or another family's name), columns thread counts,
    in the binary's order."""
    threads = sorted({b.threads for b in benches})
    rows = {}
    for b in benches:
        rows.setdefault(b.row, {})[b.threads] = b
    header = ["benchmark"] + ["%d thread%s" % (t, "s"[t == 1:]) for t in threads]
    body = [[r] + [_cell(by_t[t], metric) if t in by_t else "-" for t in threads]
            for r, by_t in rows.items()]
    return header, body


def _csv(benches, target=None):
    """One row per benchmark, plain numbers, for spreadsheets and scripts.
    measured_on says where each row ran: this host, or the module in
    target (which names qemu TCG, whose timings are not representative)."""
    header = ["benchmark", "config", "mode", "irq", "threads", "repetitions", "measured_on"]
    for m in results.METRICS:
        header += [m + "_median", m + "_stddev", m + "_min", m + "_max"]
    header += ["ns_per_op_bimodal", "fair_spread_median", "all_pinned"]
    rows = []
    for b in benches:
        where = target if target and b.row.startswith("kmod:") else "userland, this host"
        row = [b.row, b.config, b.mode, b.irq, str(b.threads), str(len(b.samples)), where]
        for m in results.METRICS:
            xs = b.values.get(m)
            row += ["%.6g" % f(xs) if xs else "" for f in
                    (stats.median, stats.stdev, min, max)]
        xs = b.values.get("ns_per_op")
        row += ["yes" if xs and stats.bimodal(xs) else "no"]
        xs = b.values.get("fair_spread")
        row += ["%.6g" % stats.median(xs) if xs else ""]
        rows.append(row + ["no" if b.unpinned else "yes"])
    return table.csv_text(header, rows)


def render(name, key, benches, reps):
    """(table.txt, table.md): a head (name, key line, command) and one
    table per metric present."""
    txt = table.wrap("kcovbench run %s\n%s" % (name, key))
    md = ["# kcovbench run %s" % name, "", "```", key, "```"]
    for m in results.METRICS:
        if not any(m in b.values for b in benches):
            continue        # hardware counters absent: say so via the key
        title = ("%s: median (min-max) of n=%d repetitions; bimodal = the "
                 "samples form two clusters (see raw.json); columns: threads"
                 % (UNITS[m], reps))
        header, body = _grid(benches, m)
        txt += [""] + table.wrap(title) + table.txt(header, body).splitlines()
        md += ["", "**%s**" % title, "", table.md(header, body)]
    if any(b.unpinned for b in benches):
        note = "! = in some repetition a thread did not run on its pinned CPU"
        txt += [""] + table.wrap(note)
        md += ["", note]
    return "\n".join(txt) + "\n", "\n".join(md).rstrip("\n") + "\n"


def _run_binary(cmd):
    """Run the benchmarks, their console output on our stderr (stdout is
    for the table).  ^C reaches the binary too when typed at a terminal;
    stop it ourselves in case the signal was meant for us alone."""
    proc = subprocess.Popen(cmd, stdout=sys.stderr.fileno())
    try:
        rc = proc.wait()
    except KeyboardInterrupt:
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise
    if rc in (-signal.SIGINT, -signal.SIGTERM):
        raise KeyboardInterrupt
    if rc == 2:
        raise UsageError("the binary rejected its arguments (see above)")
    if rc != 0:
        raise Failure("%s exited %d" % (shlex.join(cmd), rc))


def main(a):
    ncpus = len(os.sched_getaffinity(0))
    bench_args = _bench_args(a, ncpus)
    name = a.name or time.strftime("%Y%m%d-%H%M%S-") + socket.gethostname()
    exe = binary.ensure_built()
    configs = _flat(a.configs)
    if configs:
        binary.check_configs(configs)
    cpus = binary.placement_cpus(a.placement)
    before = state.snapshot(cpus)
    worry = state.problems(before + machine.key({}), cpus, a.placement, machine.virt())
    if worry and a.strict:
        raise UsageError("--strict: not a machine to measure on now: " + "; ".join(worry))
    for w in worry:
        warn(w + ": other work or frequency changes will show in the numbers")
    # the last input check: a build results/ may take
    if not binary.OVERRIDE:
        machine.publishable(a.out, machine.built_git(), a.allow_dirty)
    # input checked: only now may the results directory's parent appear
    with Staging(os.path.join(a.out, name)) as stage:
        part = os.path.join(stage.path, "raw.json.part")
        cmd = [exe, "bench"] + bench_args
        _run_binary(cmd + ["--benchmark_out=" + part, "--benchmark_out_format=json",
                           "--benchmark_format=console"])
        raw = os.path.join(stage.path, "raw.json")
        os.replace(part, raw)

        context, benches = results.load(raw)
        if not benches:
            raise Failure("the binary reported no benchmarks")
        exe_shown = os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe
        fields = machine.key(context)
        machine.publishable(a.out, dict(fields)["git"], a.allow_dirty)
        if a.allow_dirty:
            fields.append(("allow_dirty", "yes"))
        key = machine.key_line(fields + [("placement", a.placement)] + before
                               + [("load_end", "%.2f" % os.getloadavg()[0])])
        if worry:
            key += "\nwarning: " + "; ".join(worry)
        key_txt = "%s\ncommand: %s\nbinary: %s\n" % (
            key, shlex.join(sys.argv),
            shlex.join([exe_shown, "bench"] + bench_args + ["--benchmark_out=raw.json"]))
        txt, md = render(name, key_txt.rstrip("\n"), benches, a.repetitions)
        publish(stage, a.out, name, txt, (("key.txt", key_txt), ("table.txt", txt),
                                          ("table.md", md), ("table.csv", _csv(benches))))
    return 0


def publish(stage, out, name, txt, files):
    """Write files into the staging dir, rename it into place, print the
    table and where it went (shared with `kmod run`)."""
    for fname, data in files:
        atomic_write(os.path.join(stage.path, fname), data)
    stage.commit()
    sys.stdout.write(txt)
    where = os.path.relpath(os.path.join(out, name))
    print("results: %s" % (os.path.abspath(where) if where.startswith("..") else where),
          file=sys.stderr)
