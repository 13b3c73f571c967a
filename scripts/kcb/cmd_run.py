"""kcovbench run: build, run the benchmarks, and store results/<name>/ with
raw.json (Google Benchmark's JSON), key.txt, table.md, table.csv,
table.txt and console.txt (the binary's console output, shown only with
--verbose; a progress line otherwise).  The directory appears whole at the
end or not at all; its name is reserved at the start.  One run measures at
a time on a machine (a lock; --wait waits for the other)."""
import argparse
import math
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

from . import binary, machine, results, state, stats, table
from .common import (ROOT, Failure, Staging, UsageError, atomic_write, measure_lock,
                     warn)

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
# A window shorter than this is a few batches long, near the clock's
# resolution: --duration 1e-12 measured 0 ns and published it.
MIN_WINDOW = 0.001
# The staging directory adds ".NAME.tmp-PID-XXXXXXXX" to the name; a file
# name holds 255 bytes.
MAX_NAME = 200
# Why Debian's debug build of Google Benchmark does not touch the numbers.
TIMING_NOTE = ("timed by the harness around the variant's own loop; Google "
               "Benchmark (Debian's debug build) only calls it once per repetition")


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
    if len(text.encode()) > MAX_NAME:
        raise argparse.ArgumentTypeError("name of %d bytes: at most %d"
                                         % (len(text.encode()), MAX_NAME))
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
                   type=_items("mode", str, lambda v: v in binary.RUN_MODES,
                               "modes are " + ", ".join(binary.RUN_MODES)),
                   help="of %s (default: all but remote-request)" % ", ".join(binary.RUN_MODES))
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
                   type=_number(float, "duration", lambda v: MIN_WINDOW <= v < math.inf,
                                "must be at least %g s (shorter windows are a few "
                                "batches, near the clock's resolution)" % MIN_WINDOW),
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
                   help="where the results directory goes (default: results/; not "
                        "inside another results set, nor in the repository outside "
                        "results/)")
    p.add_argument("--wait", action="store_true",
                   help="if another kcovbench is measuring on this machine, wait for it "
                        "(default: refuse, exit 2)")
    p.add_argument("--verbose", action="store_true",
                   help="show Google Benchmark's console output instead of a progress "
                        "line (it is kept in console.txt either way)")
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


def _cell(b, metric, reps=None):
    """median (min-max) of the repetitions; a bimodal row says so instead,
    since no single spread describes two clusters.  A cell with fewer
    repetitions than the title's (some ended with an error) says n=."""
    xs = b.values.get(metric)
    if not xs:
        return "-"
    text = _num(stats.median(xs))
    if len(xs) > 1:
        text += " (%s-%s)" % (_num(min(xs)), _num(max(xs)))
    if stats.bimodal(xs):
        text += " bimodal"
    if reps is not None and len(xs) != reps:
        text += " n=%d" % len(xs)
    return text + ("!" if b.unpinned else "")


def _common_count(benches, metric, requested):
    """The repetitions most cells of metric have (the title's n): the
    requested count unless no cell has it."""
    counts = [len(b.values[metric]) for b in benches if metric in b.values]
    return requested if requested in counts or not counts else max(set(counts), key=counts.count)


def _grid(benches, metric, reps):
    """Rows config/mode (or another family's name), columns thread counts,
    in the binary's order."""
    threads = sorted({b.threads for b in benches})
    rows = {}
    for b in benches:
        rows.setdefault(b.row, {})[b.threads] = b
    header = ["benchmark"] + ["%d thread%s" % (t, "s"[t == 1:]) for t in threads]
    body = [[r] + [_cell(by_t[t], metric, reps) if t in by_t else "-" for t in threads]
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


# scripts/configure aligns every function of the variants to 64 bytes
PLACEMENT_NOTE = ("placement: every hook and loop at +0 in its 64-byte line (a hook's cost "
                  "moves ~0.3 ns per line it crosses: `kcovbench ab --layouts` measures "
                  "+16/+32/+48)")


def render(name, key, benches, reps):
    """(table.txt, table.md): a head (name, key line, command) and one
    table per metric present."""
    txt = table.wrap("kcovbench run %s\n%s" % (name, key))
    md = ["# kcovbench run %s" % name, "", "```", key, "```"]
    for m in results.METRICS:
        if not any(m in b.values for b in benches):
            continue        # hardware counters absent: say so via the key
        n = _common_count(benches, m, reps)
        title = ("%s: median (min-max) of n=%d repetitions measured (a cell with "
                 "fewer says n=); bimodal = the samples form two clusters (see "
                 "raw.json); columns: threads; %s; %s" % (UNITS[m], n, TIMING_NOTE,
                                                         PLACEMENT_NOTE))
        header, body = _grid(benches, m, n)
        txt += [""] + table.wrap(title) + table.txt(header, body).splitlines()
        md += ["", "**%s**" % title, "", table.md(header, body)]
    if any(b.unpinned for b in benches):
        note = "! = in some repetition a thread did not run on its pinned CPU"
        txt += [""] + table.wrap(note)
        md += ["", note]
    return "\n".join(txt) + "\n", "\n".join(md).rstrip("\n") + "\n"


def count_benchmarks(exe, bench_args):
    """How many benchmarks the run has: the binary lists them for the same
    arguments (names, as its console lines start)."""
    try:
        out = subprocess.run([exe, "bench"] + bench_args + ["--benchmark_list_tests=true"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    return set(out.stdout.split()) if out.returncode == 0 else set()


class Progress:
    """The binary's console output into console.txt, and one progress line
    on stderr: rewritten in place on a terminal, a line every few seconds
    otherwise.  --verbose shows the console output instead.  Lines of our
    own ("kcovbench: ...") are always shown."""
    TICK_TTY, TICK_LOG = 0.5, 5.0

    def __init__(self, console, names, reps, expected_s, verbose):
        self.console, self.names, self.reps = console, names, reps
        self.expected, self.verbose = expected_s, verbose
        self.tty = sys.stderr.isatty()
        self.done = 0           # repetitions reported
        self.t0 = time.monotonic()
        self.shown = False

    def feed(self, stream):
        """Reader thread: every line into console.txt, counted."""
        with open(self.console, "w") as f:
            for line in stream:
                f.write(line)
                f.flush()
                words = line.split(None, 1)
                if words and words[0] in self.names:
                    self.done += 1
                if self.verbose:
                    sys.stderr.write(line)
                elif line.startswith("kcovbench"):
                    self.clear()
                    sys.stderr.write(line)

    def line(self):
        n = len(self.names)
        return ("kcovbench run: benchmark %d of %d, %.0f s elapsed, ~%.0f s expected"
                % (min(self.done // max(self.reps, 1), n), n,
                   time.monotonic() - self.t0, self.expected))

    def tick(self):
        if self.verbose or not self.names:
            return
        if self.tty:
            sys.stderr.write("\r\033[K" + self.line())
            sys.stderr.flush()
            self.shown = True
        else:
            print(self.line(), file=sys.stderr)

    def clear(self):
        if self.shown:
            sys.stderr.write("\r\033[K")
            self.shown = False

    def tail(self, lines=30):
        """The end of console.txt: what a failed binary said."""
        try:
            with open(self.console) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def _stop(proc):
    """^C reaches the binary too when typed at a terminal; stop it
    ourselves in case the signal was meant for us alone."""
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _run_binary(cmd, progress):
    """Run the benchmarks, their console output through progress (stdout
    is for the table)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    reader = threading.Thread(target=progress.feed, args=(proc.stdout,), daemon=True)
    reader.start()
    tick = progress.TICK_TTY if progress.tty else progress.TICK_LOG
    try:
        while True:
            try:
                rc = proc.wait(timeout=tick)
                break
            except subprocess.TimeoutExpired:
                progress.tick()
    except KeyboardInterrupt:
        progress.clear()
        _stop(proc)
        raise
    reader.join(timeout=10)
    progress.clear()
    if rc in (-signal.SIGINT, -signal.SIGTERM):
        raise KeyboardInterrupt
    if rc != 0 and not progress.verbose:
        sys.stderr.write(progress.tail())
    if rc == 2:
        raise UsageError("the binary rejected its arguments (see above)")
    if rc != 0:
        raise Failure("%s exited %d" % (shlex.join(cmd), rc))


def _default_name(out):
    """date-time-host, with -2, -3 ... when a run of the same second has it."""
    base = time.strftime("%Y%m%d-%H%M%S-") + socket.gethostname()
    name, k = base, 1
    while os.path.lexists(os.path.join(out, name)):
        k += 1
        name = "%s-%d" % (base, k)
    return name


def main(a):
    ncpus = len(os.sched_getaffinity(0))
    bench_args = _bench_args(a, ncpus)
    exe = binary.ensure_built()
    configs = _flat(a.configs)
    if configs:
        binary.check_configs(configs)
    cpus = binary.placement_cpus(a.placement)
    # the last input check: a build results/ may take
    if not binary.OVERRIDE:
        machine.publishable(a.out, machine.built_git(), a.allow_dirty)
    name = a.name or _default_name(a.out)
    # input checked: only now may the results directory's parent appear;
    # the name is reserved here, before anything runs
    with Staging(os.path.join(a.out, name)) as stage, measure_lock(a.wait, "kcovbench run"):
        before = state.snapshot(cpus)
        worry = state.problems(before + machine.key({}), cpus, a.placement, machine.virt())
        if worry and a.strict:
            raise UsageError("--strict: not a machine to measure on now: " + "; ".join(worry))
        for w in worry:
            warn(w + ": other work or frequency changes will show in the numbers")
        part = os.path.join(stage.path, "raw.json.part")
        cmd = [exe, "bench"] + bench_args
        names = count_benchmarks(exe, bench_args)
        progress = Progress(os.path.join(stage.path, "console.txt"), names, a.repetitions,
                            len(names) * a.repetitions * (a.duration + a.warmup), a.verbose)
        _run_binary(cmd + ["--benchmark_out=" + part, "--benchmark_out_format=json",
                           "--benchmark_format=console"], progress)
        load_end = os.getloadavg()[0]
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
                               + [("load_end", "%.2f" % load_end)])
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
