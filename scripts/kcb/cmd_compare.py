"""kcovbench compare A B: for every benchmark in both runs, the change of
the median ns/op from A to B and a two-sided Mann-Whitney U test over the
repetitions; "faster"/"slower" when p < alpha and the medians differ by at
least --min-change, else "same".

Why a floor: on one machine two runs drift apart as a whole by 1-3% (the
empty hook moves too: results/selfcompare), while repetitions inside a run
sit much closer, so the bare U test calls that drift significant.  A change
smaller than the floor is not one this machine reproduces; --min-change 0
gives the bare U test.  The summary always counts both."""
import argparse
import os
import sys

from . import results, stats, table
from .common import UsageError, atomic_write, read_file, warn

NAME = "compare"
HELP = "A/B verdicts between two results directories (or raw.json files)"
MIN_REPS = 9        # below this the U test rarely reaches p < 0.05
MIN_CHANGE = 5.0    # percent: the default practical floor (see above)


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
    p.add_argument("--out", metavar="FILE", help="also write the report here")


def _percent(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("min-change %r is not a number" % text)
    if not 0 <= v < 1000:
        raise argparse.ArgumentTypeError("min-change %r: must be 0 or more (percent)" % text)
    return v


def compare(a, b, alpha, min_change=0.0):
    """[(Bench of a, median A, median B, relative change, p, verdict)] for the
    benchmarks of a also in b (matched by run_name), in a's order."""
    by_name = {x.run_name: x for x in b}
    rows = []
    for x in a:
        y = by_name.get(x.run_name)
        if y is None:
            continue
        ma, mb = stats.median(x.samples), stats.median(y.samples)
        _, p = stats.mann_whitney(x.samples, y.samples)
        change = (mb - ma) / ma if ma else 0.0
        small = abs(change) * 100 < min_change
        verdict = "same" if p >= alpha or small else "faster" if mb < ma else "slower"
        rows.append((x, ma, mb, change, p, verdict))
    return rows


def _key(path):
    d = path if os.path.isdir(path) else os.path.dirname(path)
    k = read_file(os.path.join(d, "key.txt"))
    return k.splitlines()[0] if k else "(no key.txt)"


def report(pa, pb, rows, alpha, reps, min_change=0.0):
    head = "kcovbench compare\nA: %s\n  %s\nB: %s\n  %s" % (pa, _key(pa), pb, _key(pb))
    header = ["benchmark", "thr", "A ns/op", "B ns/op", "change", "p", "verdict"]
    body = [[b.row, str(b.threads), "%.3g" % ma, "%.3g" % mb, "%+.1f%%" % (100 * ch),
             "%.3f" % p, v] for b, ma, mb, ch, p, v in rows]
    n = len(rows)
    same = sum(r[5] == "same" for r in rows)
    bare = sum(r[4] >= alpha for r in rows)
    summary = ("%d benchmarks, repetitions A %s, B %s, two-sided Mann-Whitney U, "
               "alpha %g, changes under %g%% count as same: %d faster, %d slower, "
               "%d same (%.0f%% same); the bare U test alone: %d same (%.0f%%)"
               % (n, reps[0], reps[1], alpha, min_change,
                  sum(r[5] == "faster" for r in rows),
                  sum(r[5] == "slower" for r in rows), same, 100 * same / n if n else 0,
                  bare, 100 * bare / n if n else 0))
    moved = [r for r in rows if r[0].config == "empty" and r[5] != "same"]
    if moved:
        # The empty hook is the harness alone: if it "changed", the machine
        # did (other load, a busy vCPU), and so may every other verdict.
        summary += ("\nwarning: the empty baseline differs in %d of %d rows: A and B ran "
                    "on a machine in different states; read the verdicts with care"
                    % (len(moved), sum(r[0].config == "empty" for r in rows)))
    return "\n".join(table.wrap(head) + [""] + table.txt(header, body).splitlines()
                     + [""] + table.wrap(summary)) + "\n"


def _reps(benches):
    """"9", or "3-9" when benchmarks had different numbers of repetitions."""
    lo, hi = min(len(x.samples) for x in benches), max(len(x.samples) for x in benches)
    return str(lo) if lo == hi else "%d-%d" % (lo, hi)


def main(args):
    if args.out:
        d = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(d):
            raise UsageError("cannot write %s: %s is not a directory" % (args.out, d))
    _, a = results.load(args.a)
    _, b = results.load(args.b)
    rows = compare(a, b, args.alpha, args.min_change)
    if not rows:
        raise UsageError("no benchmark (run_name) is in both %s and %s" % (args.a, args.b))
    few = min(len(x.samples) for x in a + b)
    if few < MIN_REPS:
        warn("only %d repetitions in some benchmark; the U test needs %d+ "
             "to find a difference at all" % (few, MIN_REPS))
    text = report(args.a, args.b, rows, args.alpha, (_reps(a), _reps(b)), args.min_change)
    sys.stdout.write(text)
    if args.out:
        try:
            atomic_write(args.out, text)
        except OSError as e:
            raise UsageError("cannot write %s: %s" % (args.out, e.strerror or e))
    return 0
