"""kcovbench report DIR...: result sets from several machines (or several
placement classes of one) merged into one table: one column group per
machine key and placement, rows matched by benchmark name.  Writes
table.md, table.csv, table.txt (72 columns, for a mail) and plot.svg/.png
(one curve per column group, for --config) into --out.

Sets are only comparable as builds of one thing: when their code-generation
flags or kcovbench commits differ, report refuses (exit 3) unless --mixed
is given, and then prints the difference above the table."""
import os
import shlex
import subprocess
import sys

from . import cmd_plot, results, stats, table
from .common import Failure, Staging, UsageError, atomic_write, read_file

NAME = "report"
HELP = "merge result sets from several machines into one table"
MACHINE = ("cpu", "cpus", "cores", "smt", "kernel", "virt", "compiler", "libbenchmark")
BUILD = ("flags", "git")
NOT_COMPARABLE = 3


def add_arguments(p):
    p.add_argument("dirs", nargs="+", metavar="DIR", help="results directories")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="where the merged report goes (created whole, must not exist)")
    p.add_argument("--mixed", action="store_true",
                   help="merge sets whose code-generation flags or commits differ")
    p.add_argument("--config", default="linux",
                   help="the configuration the plot draws (default: %(default)s)")


def key_fields(d):
    """{field: value} of a results directory's key line (key.txt, line 1)."""
    text = read_file(os.path.join(d, "key.txt"))
    if not text:
        raise UsageError("%s has no key.txt: not a results directory kcovbench wrote" % d)
    out = {}
    for part in text.splitlines()[0].split("; "):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def group_label(i, f):
    return "M%d %s" % (i + 1, f.get("placement", "spread"))


def load_sets(dirs):
    """[(label, key fields, [Bench])], one per directory; directories with
    the same machine and placement keep separate groups (M1, M2 ...) only
    when their machine keys differ."""
    sets, machines = [], []
    for d in dirs:
        if not os.path.isdir(d):
            raise UsageError("%s is not a results directory" % d)
        f = key_fields(d)
        _, benches = results.load(d)
        if not benches:
            raise UsageError("%s holds no benchmarks" % d)
        m = tuple(f.get(k, "?") for k in MACHINE)
        if m not in machines:
            machines.append(m)
        sets.append((group_label(machines.index(m), f), f, benches))
    labels = [s[0] for s in sets]
    dup = {l for l in labels if labels.count(l) > 1}
    return [("%s (%s)" % (l, os.path.basename(os.path.normpath(d))) if l in dup else l, f, b)
            for (l, f, b), d in zip(sets, dirs)], machines


def build_differences(sets):
    """["git: 92f4210 vs 1a512a1", ...] for the build fields that differ."""
    out = []
    for k in BUILD:
        vals = list(dict.fromkeys(f.get(k, "(not recorded)") for _, f, _ in sets))
        if len(vals) > 1:
            out.append("%s: %s" % (k, " vs ".join(vals)))
    return out


def merge(sets):
    """(rows, header): rows are benchmark names in first-seen order, each
    {label: Bench}."""
    rows = {}
    for label, _, benches in sets:
        for b in benches:
            rows.setdefault((b.row, b.threads), {})[label] = b
    return rows


def _cell(b, full):
    if b is None:
        return "-"
    xs = b.samples
    med = stats.median(xs)
    if not full:
        return "%.3g" % med
    return "%.3g (n=%d, %.3g-%.3g)" % (med, len(xs), min(xs), max(xs))


def render(sets, machines, diffs, command):
    labels = [l for l, _, _ in sets]
    rows = merge(sets)
    legend = ["M%d: %s" % (i + 1, "; ".join("%s=%s" % kv for kv in zip(MACHINE, m)))
              for i, m in enumerate(machines)]
    head = ["kcovbench report: ns/op, median of each set's repetitions; "
            "one column group per machine and placement"] + legend
    if diffs:
        head.append("MIXED BUILDS (--mixed): " + "; ".join(diffs))
    head.append("command: " + command)
    header = ["benchmark", "thr"] + labels
    md_body = [[r, str(t)] + [_cell(by.get(l), True) for l in labels]
               for (r, t), by in rows.items()]
    txt_body = [[r, str(t)] + [_cell(by.get(l), False) for l in labels]
                for (r, t), by in rows.items()]
    txt = "\n".join(sum((table.wrap(h) for h in head), []) + [""]
                    + table.txt(header, txt_body).splitlines()) + "\n"
    md = "\n".join(["# kcovbench report", "", "```"] + head + ["```", "",
                   table.md(header, md_body)]) + "\n"
    csv_header = ["benchmark", "threads", "group", "n", "median", "min", "max"]
    csv_rows = [[r, str(t), l, str(len(b.samples)), "%.6g" % stats.median(b.samples),
                 "%.6g" % min(b.samples), "%.6g" % max(b.samples)]
                for (r, t), by in rows.items() for l, b in by.items()]
    return txt, md, table.csv_text(csv_header, csv_rows)


class Relabelled:
    """A Bench seen by the plot as one line per column group."""

    def __init__(self, b, label):
        self.__dict__.update(b.__dict__)
        self.config = label
        self.samples = b.samples


def plot(sets, config, stage_dir):
    benches = [Relabelled(b, l) for l, _, bs in sets for b in bs if b.config == config]
    if not benches:
        return None
    ncpus = max(b.threads for b in benches)
    outs = [("svg dynamic background 'white'", os.path.join(stage_dir, "plot.svg")),
            ("pngcairo", os.path.join(stage_dir, "plot.png"))]
    title = "%s: ns/op vs threads, one curve per machine and placement" % config
    try:
        r = subprocess.run(["gnuplot"], input=cmd_plot.script(benches, ncpus, title, outs),
                           text=True, capture_output=True)
    except OSError as e:
        raise Failure("cannot run gnuplot (%s); scripts/setup installs gnuplot-nox" % e.strerror)
    if r.returncode != 0:
        raise Failure("gnuplot failed:\n" + r.stderr)
    return outs


def main(a):
    sets, machines = load_sets(a.dirs)
    diffs = build_differences(sets)
    if diffs and not a.mixed:
        print("kcovbench report: not comparable builds (give --mixed to merge anyway): "
              + "; ".join(diffs), file=sys.stderr)
        return NOT_COMPARABLE
    txt, md, csv = render(sets, machines, diffs, shlex.join(["./kcovbench"] + sys.argv[1:]))
    with Staging(a.out) as stage:
        for name, data in (("table.txt", txt), ("table.md", md), ("table.csv", csv)):
            atomic_write(os.path.join(stage.path, name), data)
        if not plot(sets, a.config, stage.path):
            print("kcovbench report: no %s rows to plot" % a.config, file=sys.stderr)
        stage.commit()
    sys.stdout.write(txt)
    print("report: %s" % a.out, file=sys.stderr)
    return 0
