"""kcovbench run: build, run the benchmarks, and store results/<name>/ with
raw.json (Google Benchmark's JSON), key.txt, table.md, table.csv,
table.txt and console.txt (the binary's console output, shown only with
--verbose; a progress line otherwise).  The directory appears whole at the
end or not at all; its name is reserved at the start.  One run measures at
a time on a machine (a lock; --wait waits for the other)."""
import math
import os
import shlex
import socket
import sys
import time

from . import binary, machine, results, state
from .argtypes import buffer_words, flat, items, number, result_name
from .common import ROOT, Failure, Staging, UsageError, measure_lock, warn
from .progress import Progress, count_benchmarks, run_binary
from .run_output import csv, publish, render

NAME = "run"
HELP = "run the benchmarks and write results/<name>/"

# compare needs 9 repetitions to reach alpha 0.05 with room to spare, and
# the default suite must still end within 90 s on the 2-CPU development VM:
# 88 benchmarks x 9 repetitions x (0.05 s window + 0.02 s warm-up) = 55 s
# of measuring.
DEFAULT_DURATION = 0.05
DEFAULT_WARMUP = 0.02
DEFAULT_REPETITIONS = 9
# A window shorter than this is a few batches long, near the clock's
# resolution: --duration 1e-12 measured 0 ns and published it.
MIN_WINDOW = 0.001


def add_arguments(p):
    lst = dict(nargs="+", action="extend", default=None)
    p.add_argument("--configs", metavar="CONFIG", **lst,
                   type=items("config", str, lambda v: True, ""),
                   help="upstream config names, FRONTEND/PAIR, empty, all (every "
                        "upstream front end x pair) or proposals (every proposal's "
                        "config, marked [PROPOSAL]) (default: the 6 upstream configs; "
                        "empty always runs)")
    p.add_argument("--modes", metavar="MODE", **lst,
                   type=items("mode", str, lambda v: v in binary.RUN_MODES,
                               "modes are " + ", ".join(binary.RUN_MODES)),
                   help="of %s (default: all but remote-request)" % ", ".join(binary.RUN_MODES))
    p.add_argument("--irq", metavar="N", **lst,
                   type=items("irq", str, lambda v: v in binary.IRQS, "use 0 or 1"),
                   help="0: no interrupts, 1: with interrupts (default: 0)")
    p.add_argument("--threads", metavar="N", **lst,
                   type=items("thread count", int, lambda v: v > 0, "must be a positive integer"),
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
                   type=number(float, "duration", lambda v: MIN_WINDOW <= v < math.inf,
                                "must be at least %g s (shorter windows are a few "
                                "batches, near the clock's resolution)" % MIN_WINDOW),
                   help="measuring window per repetition (default: %(default)s)")
    p.add_argument("--warmup", metavar="SECONDS", default=DEFAULT_WARMUP,
                   type=number(float, "warmup", lambda v: 0 < v <= 3600,
                                "must be positive, at most 3600"),
                   help="unmeasured run-in before each window (default: %(default)s)")
    p.add_argument("--buffer-words", metavar="N|batch", type=buffer_words,
                   help="each thread's own buffer, count word included, emptied only "
                        "when full (default: the binary's, syzkaller's 262144); batch: "
                        "room for one batch, emptied after each (stays in L1)")
    p.add_argument("--chunk-records", metavar="K",
                   type=number(int, "chunk records", lambda v: 1 <= v <= 4096, "must be 1..4096"),
                   help="records the chunk claim (a proposal) reserves per CAS "
                        "(default: the binary's, 32)")
    p.add_argument("--repetitions", metavar="N", default=DEFAULT_REPETITIONS,
                   type=number(int, "repetitions", lambda v: v > 0, "must be at least 1"),
                   help="repetitions per benchmark; compare wants 9+ (default: %(default)s)")
    p.add_argument("--no-interleave", action="store_true",
                   help="run each benchmark's repetitions back to back instead of "
                        "shuffled among all the others (GB's random interleaving)")
    p.add_argument("--name", type=result_name,
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
                   help="after --: flags for the binary: --remote=none --lookups=none "
                        "leave out the remote-section and handle-lookup rows, which "
                        "every run adds (so `run --configs linux -- --remote=none "
                        "--lookups=none` prints linux's rows and empty's); "
                        "--remote=A,B, --lookups=A,B and --remote-records=N choose "
                        "them; --benchmark_filter=REGEX, e.g. linux")


def _bench_args(a, ncpus):
    """The binary's arguments; only what the user chose, so the binary's
    own defaults stay the single source of them."""
    threads = flat(a.threads)
    if threads is None and a.oversubscribe:
        threads = list(range(1, 2 * ncpus + 1))
    if threads and max(threads) > ncpus and not a.oversubscribe:
        raise UsageError("%d threads on %d CPUs: pinned threads would share CPUs; "
                         "add --oversubscribe to mean it" % (max(threads), ncpus))
    stray = [x for x in a.extra if not x.startswith("-")]
    if stray:
        raise UsageError("unexpected argument %s" % " ".join(stray))
    args = []
    for flag, vals in (("configs", flat(a.configs)), ("modes", flat(a.modes)),
                       ("irq", flat(a.irq)), ("threads", threads)):
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
    configs = flat(a.configs)
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
        run_binary(cmd + ["--benchmark_out=" + part, "--benchmark_out_format=json",
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
                                          ("table.md", md), ("table.csv", csv(benches))))
    return 0
