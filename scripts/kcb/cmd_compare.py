"""kcovbench compare A B: for every benchmark in both runs, the change from
A to B with its 95% interval (Hodges-Lehmann: the median of the pairwise
ratios B/A, and the distribution-free interval from the exact U
distribution) and a two-sided Mann-Whitney U test over the repetitions.
One verdict per row:

  faster / slower  p < alpha and the change is at least --min-change
  below floor      p < alpha, but the change is smaller than the floor
  same             not significant, and the whole interval lies inside
                   +-floor: the data rule out a change that large
  undecided        anything else: not significant with an interval wider
                   than the floor, or too few repetitions to reach alpha

Why a floor: on one machine two runs drift apart as a whole by 1-3% (the
empty hook moves too: results/selfcompare), while repetitions inside a run
sit much closer, so the bare U test calls that drift significant.  A change
smaller than the floor is not one this machine reproduces.

Runs from different machines (CPU model, core count, SMT, virtualisation,
kernel, compiler, library versions, code-generation flags) or thread
placements are refused with exit 3 unless --cross-machine is given: both
key.txt and raw.json's own context (which a copied raw.json keeps) are
checked.

--out refuses an existing file, and any file inside a results directory
(it could be one of the inputs), unless --force."""
import argparse
import os
import re
import sys

from . import results, stats, table
from .common import ROOT, UsageError, atomic_write, read_file, warn

NAME = "compare"
HELP = "A/B verdicts between two results directories (or raw.json files)"
MIN_REPS = 9        # below this the U test rarely reaches p < 0.05
MIN_CHANGE = 5.0    # percent: the default practical floor (see above)
AGREE = 0.03        # two runs of one build should agree this well on medians


def _alpha(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("alpha %r is not a number" % text)
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError("alpha %r: must be between 0 and 1" % text)
    return v


def add_arguments(p):
    p.add_argument("a", metavar="A", help="baseline results dir or raw.json")
    p.add_argument("b", metavar="B", help="results dir or raw.json to judge")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="significance level (default: %(default)s)")
    p.add_argument("--min-change", type=_percent, default=MIN_CHANGE, metavar="PCT",
                   help="smallest change of the median that counts, in %% "
                   "(default: %(default)s; 0: the bare U test)")
    p.add_argument("--out", metavar="FILE", help="also write the report here (a new "
                   "file outside any results directory, unless --force)")
    p.add_argument("--force", action="store_true",
                   help="let --out replace a file or write into a results directory")
    p.add_argument("--cross-machine", action="store_true",
                   help="compare runs from different machines or builds anyway")


def _percent(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("min-change %r is not a number" % text)
    if not 0 <= v < 1000:
        raise argparse.ArgumentTypeError("min-change %r: must be 0 or more (percent)" % text)
    return v


# Key fields that make two runs different machines, builds or placements.
MACHINE_FIELDS = ("cpu", "cpus", "cores", "smt", "virt", "kernel", "compiler",
                  "libbenchmark", "liburcu", "flags", "placement")
# The same, as the binary writes them into raw.json's context: checked
# too, so that runs without key.txt (or with a stale one) are still told apart.
CONTEXT_FIELDS = ("kcb_cpu_model", "num_cpus", "kcb_kernel", "kcb_compiler",
                  "kcb_hot_cflags")


def verdict(p, change, low, high, alpha, min_change, reachable):
    floor = min_change / 100.0
    if p < alpha:
        if abs(change) >= floor:
            return "faster" if change < 0 else "slower"
        return "below floor"
    if reachable and low is not None and -floor < low and high < floor:
        return "same"
    return "undecided"


def compare(a, b, alpha, min_change=0.0):
    """[(Bench of a, median A, median B, HL change, low, high, p, verdict)]
    for the benchmarks of a also in b (matched by run_name), in a's order."""
    by_name = {x.run_name: x for x in b}
    rows = []
    for x in a:
        y = by_name.get(x.run_name)
        if y is None:
            continue
        ma, mb = stats.median(x.samples), stats.median(y.samples)
        _, p = stats.mann_whitney(x.samples, y.samples)
        change, low, high = stats.hodges_lehmann(x.samples, y.samples)
        reachable = stats.min_p(len(x.samples), len(y.samples)) < alpha
        rows.append((x, ma, mb, change, low, high, p,
                     verdict(p, change, low, high, alpha, min_change, reachable)))
    return rows


def only_in(a, b):
    names = {x.run_name for x in b}
    return [x.run_name for x in a if x.run_name not in names]


def key_of(path):
    """The first line of the results dir's key.txt, as a field dict."""
    d = path if os.path.isdir(path) else os.path.dirname(path)
    k = read_file(os.path.join(d, "key.txt"))
    line = k.splitlines()[0] if k else ""
    fields = {}
    for part in line.split("; "):
        if "=" in part:
            f, v = part.split("=", 1)
            fields[f.strip()] = v.strip()
    return line or "(no key.txt)", fields


def _differing(fields, a, b):
    """[(field, A's, B's)] for the fields that differ (absent counts)."""
    return [(f, str(a.get(f, "-")), str(b.get(f, "-"))) for f in fields
            if (f in a or f in b) and a.get(f) != b.get(f)]


def machine_diff(ka, kb, ca=None, cb=None):
    """What tells A's machine, build or placement from B's: key.txt's
    fields (ka, kb) and raw.json's context (ca, cb)."""
    return _differing(MACHINE_FIELDS, ka, kb) + _differing(CONTEXT_FIELDS, ca or {}, cb or {})


def _inside_results_dir(path):
    d = os.path.dirname(os.path.abspath(path))
    return any(os.path.exists(os.path.join(d, f)) for f in ("raw.json", "key.txt"))


def check_out(path, force):
    """UsageError before anything is read or printed if --out cannot or
    should not be written: it once overwrote its own input."""
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise UsageError("cannot write %s: %s is not a directory" % (path, d))
    if os.path.isdir(path):
        raise UsageError("--out %s is a directory" % path)
    if force:
        return
    if os.path.lexists(path):
        raise UsageError("--out %s exists; choose a new file (or --force)" % path)
    if _inside_results_dir(path):
        raise UsageError("--out %s is inside a results directory; write the report "
                         "elsewhere (or --force)" % path)


def _fmt_change(ch, low, high):
    if low is None:
        return "%+.1f%%" % (100 * ch), "too few"
    return "%+.1f%%" % (100 * ch), "[%+.1f, %+.1f]" % (100 * low, 100 * high)


VERDICTS = ("faster", "slower", "below floor", "same", "undecided")


def report(pa, pb, rows, alpha, reps, min_change=0.0, missing=((), ()), diff=()):
    (la, _), (lb, _) = key_of(pa), key_of(pb)
    head = "kcovbench compare\nA: %s\n  %s\nB: %s\n  %s" % (pa, la, pb, lb)
    if diff:
        head += "\nDIFFERENT MACHINES OR BUILDS (--cross-machine): " + "; ".join(
            "%s: %s | %s" % d for d in diff)
    header = ["benchmark", "thr", "n", "A ns/op", "change", "95% CI", "p", "verdict"]
    body = []
    for b, ma, mb, ch, lo, hi, p, v in rows:
        c, ci = _fmt_change(ch, lo, hi)
        body.append([b.row, str(b.threads), "%d/%d" % (len(b.samples), len(b.samples_b)),
                     "%.3g" % ma, c, ci, "%.3f" % p, v])
    n = len(rows)
    counts = {v: sum(r[7] == v for r in rows) for v in VERDICTS}
    summary = ("%d benchmarks, repetitions A %s, B %s; change and 95%% interval: "
               "Hodges-Lehmann on B/A, distribution-free; two-sided Mann-Whitney U, "
               "alpha %g; floor %g%%: %s"
               % (n, reps[0], reps[1], alpha, min_change,
                  ", ".join("%d %s" % (counts[v], v) for v in VERDICTS)))
    within = [r for r in rows if r[0].config != "empty" and abs(r[2] / r[1] - 1) <= AGREE]
    judged = sum(r[0].config != "empty" for r in rows)
    if judged:
        summary += ("\nmedians within +-%g%%: %d of %d rows (empty excluded); the "
                    "project's A/A target is 95%%" % (100 * AGREE, len(within), judged))
    for side, names in zip("AB", missing):
        if names:
            summary += "\nonly in %s (%d): %s" % (side, len(names), ", ".join(names))
    moved = [r for r in rows if r[0].config == "empty" and r[6] < alpha]
    if moved:
        # The empty hook is the harness alone: if it moved significantly, by
        # any amount, the machine did (other load, a busy vCPU), and so may
        # every other verdict.
        summary += ("\nwarning: the empty hook changed significantly in %d of %d rows "
                    "(%s): A and B ran on a machine in different states; read the "
                    "verdicts with care" % (
                        len(moved), sum(r[0].config == "empty" for r in rows),
                        ", ".join("%s %+.1f%%" % (r[0].row, 100 * r[3]) for r in moved)))
    return "\n".join(table.wrap(head) + [""] + table.txt(header, body).splitlines()
                     + [""] + table.wrap(summary)) + "\n"


def _reps(benches):
    """"9", or "3-9" when benchmarks had different numbers of repetitions."""
    lo, hi = min(len(x.samples) for x in benches), max(len(x.samples) for x in benches)
    return str(lo) if lo == hi else "%d-%d" % (lo, hi)


STUDY = os.path.join(ROOT, "results", "planted-effect", "report.txt")


def study_note():
    """compare's own measured A/A false-alarm rate (results/planted-effect,
    the study of two runs minutes apart), read, not typed; and where a
    change is decided instead."""
    text = read_file(STUDY) or ""
    m = re.search(r"A/A false alarms \(faster or slower\): (\d+ of \d+ = [0-9.]+)", text)
    rate = ("A/A false alarms %s in results/planted-effect" % m.group(1)) if m else \
        "its A/A false-alarm rate is not measured here (no %s)" % os.path.relpath(STUDY, ROOT)
    return ("note: compare judges two runs made at different times, so it judges the "
            "machine's drift too (%s); to decide a change, measure A and B in one process: "
            "./kcovbench ab A B" % rate)


def main(args):
    if args.out:
        check_out(args.out, args.force)
    ca, a = results.load(args.a)
    cb, b = results.load(args.b)
    diff = machine_diff(key_of(args.a)[1], key_of(args.b)[1], ca, cb)
    if diff and not args.cross_machine:
        sys.stderr.write("kcovbench compare: A and B come from different machines or "
                         "builds; refusing (--cross-machine compares anyway):\n" +
                         "".join("  %s: A %s | B %s\n" % d for d in diff))
        return 3
    rows = compare(a, b, args.alpha, args.min_change)
    if not rows:
        raise UsageError("no benchmark (run_name) is in both %s and %s" % (args.a, args.b))
    by_name = {x.run_name: x for x in b}
    for r in rows:
        r[0].samples_b = by_name[r[0].run_name].samples
    few = min(len(x.samples) for x in a + b)
    if few < MIN_REPS:
        warn("only %d repetitions in some benchmark; the U test needs %d+ "
             "to find a difference at all: such rows are undecided" % (few, MIN_REPS))
    text = report(args.a, args.b, rows, args.alpha, (_reps(a), _reps(b)), args.min_change,
                  (only_in(a, b), only_in(b, a)), diff)
    text += "\n".join(table.wrap(study_note())) + "\n"
    sys.stdout.write(text)
    if args.out:
        try:
            atomic_write(args.out, text)
        except OSError as e:
            raise UsageError("cannot write %s: %s" % (args.out, e.strerror or e))
    return 0
