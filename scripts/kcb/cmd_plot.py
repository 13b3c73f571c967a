"""kcovbench plot DIR: scaling curves, ns/op against threads, one panel per
mode and one line per config, written as DIR/plot.svg and DIR/plot.png
with gnuplot.  The dashed line of each config is ideal (linear) scaling:
throughput growing with the thread count, so ns/op staying flat at its
1-thread value; the gap above it is what contention costs."""
import os
import subprocess

from . import binary, results, stats
from .common import Failure, UsageError, writable_dir

NAME = "plot"
HELP = "scaling plots (SVG, PNG) of a results directory"
# Distinct on white, none as pale as gnuplot's default yellow.
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
           "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#000000"]
REFERENCE = "dashed: ideal scaling (1-thread ns/op held flat)"


def add_arguments(p):
    p.add_argument("dir", metavar="RESULTS_DIR")


def _q(s):
    return "'" + s.replace("'", "''") + "'"     # a gnuplot string literal


def place(b):
    """(panel, line) of a benchmark.  Hook benchmarks (config/mode): a
    panel per mode, a line per config.  Other families (lookup/variant/
    handles:16, remote/variant/softirq/recs:0): a panel per family and
    parameters, a line per variant."""
    if b.mode in binary.MODES:
        return "mode: " + b.row[len(b.config) + 1:], b.config
    parts = b.row.split("/")
    if len(parts) < 2:
        return parts[0], parts[0]
    return "/".join(parts[:1] + parts[2:]), parts[1]


def script(benches, ncpus, title, outputs):
    """The gnuplot program: data inline as datablocks, the panels, then a
    panel that carries the one shared key."""
    panels = {}
    for b in benches:
        panel, line = place(b)
        panels.setdefault(panel, {}).setdefault(line, []).append(
            (b.threads, stats.median(b.samples)))
    lines = list(dict.fromkeys(line for p in panels.values() for line in p))
    colour = {line: COLOURS[i % len(COLOURS)] for i, line in enumerate(lines)}
    threads = sorted({b.threads for b in benches})

    data, body = [], []         # datablocks; per panel: settings and plot
    for name, series in panels.items():
        ys = [y for pts in series.values() for _, y in pts]
        logy = max(ys) / max(min(ys), 1e-9) > 20    # else small values flatten out
        body += ["set title %s" % _q(name),
                 "set logscale y" if logy else "unset logscale y",
                 "set yrange [%s:*]" % ("*" if logy else "0")]
        plots = []
        for line, pts in series.items():
            block = "$d%d" % data.count("EOD")     # one per datablock so far
            data += [block + " << EOD"] + ["%d %.6g" % p for p in sorted(pts)] + ["EOD"]
            lc = _q(colour[line])
            plots.append("%s using 1:2 with linespoints lc rgb %s lw 2 pt 7" % (block, lc))
            # ideal scaling: the first (fewest threads) value, held flat
            plots.append("%s using 1:(first_y($0, $2)) with lines lc rgb %s dt 2 lw 1"
                         % (block, lc))
        body.append("plot " + ", \\\n  ".join(plots))
    n = len(panels) + 1
    cols = 2 if n <= 4 else 3
    rows = (n + cols - 1) // cols
    axes = ["set border", "set tics", "set grid ytics", "unset key",
            "set xlabel 'threads'", "set ylabel 'ns/op (median)'",
            "set xtics (%s)" % ", ".join(map(str, threads)),
            "set xrange [%g:%g]" % (threads[0] - 0.3, threads[-1] + 0.3),
            "first_y(i, y) = (i == 0 ? (y0 = y) : y0)"]
    if threads[-1] > ncpus:
        axes += ["set arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 3 lc 'gray40'"
                 % (ncpus, ncpus),
                 "set label 1 'ncpus' at %d, graph 0.95 offset 0.5,0 tc 'gray40'" % ncpus]
    keys = ["NaN with linespoints lc rgb %s lw 2 pt 7 title %s" % (_q(colour[line]), _q(line))
            for line in lines]
    keys.append("NaN with lines lt -1 dt 2 title %s" % _q(REFERENCE))
    key_panel = ["unset title", "unset xlabel", "unset ylabel", "unset arrow",
                 "unset label", "unset border", "unset tics", "unset grid",
                 "unset logscale y", "set xrange [0:1]", "set yrange [0:1]",
                 "set key center center Left reverse box font ',11' spacing 1.3",
                 "plot " + ", \\\n  ".join(keys)]

    out = list(data)
    for term, path in outputs:
        out += ["set terminal %s size %d,%d font 'DejaVu Sans,10'"
                % (term, 520 * cols, 400 * rows),
                "set output %s" % _q(path),
                "set multiplot layout %d,%d title %s" % (rows, cols, _q(title))]
        # axes again for each output: the key panel of the one before unset them
        out += axes + body + key_panel + ["unset multiplot", "set output"]
    return "\n".join(out) + "\n"


def main(args):
    if not os.path.isdir(args.dir):
        raise UsageError("%s is not a results directory" % args.dir)
    context, benches = results.load(args.dir)
    if not benches:
        raise UsageError("%s holds no benchmarks" % args.dir)
    ncpus = int(context.get("num_cpus") or os.cpu_count())
    title = "%s: ns/op vs threads on %s CPUs (dashed: ideal scaling)" % (
        os.path.basename(os.path.abspath(args.dir)), ncpus)
    # before gnuplot: one that cannot open its output writes the PNG to stdout
    writable_dir(args.dir)
    finals = [os.path.join(args.dir, "plot." + ext) for ext in ("svg", "png")]
    tmps = [os.path.join(args.dir, ".plot.%d.%s" % (os.getpid(), ext)) for ext in ("svg", "png")]
    outs = [("svg dynamic background 'white'", tmps[0]), ("pngcairo", tmps[1])]
    try:
        try:
            r = subprocess.run(["gnuplot"], input=script(benches, ncpus, title, outs),
                               text=True, errors="replace", stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        except OSError as e:
            raise Failure("cannot run gnuplot (%s); scripts/setup installs gnuplot-nox"
                          % e.strerror)
        if r.returncode != 0 or not all(os.path.exists(t) and os.path.getsize(t) for t in tmps):
            raise Failure("gnuplot failed:\n" + r.stderr)
        for t, f in zip(tmps, finals):
            os.replace(t, f)        # same directory: each file appears whole
    except OSError as e:
        raise UsageError("cannot write plots in %s: %s" % (args.dir, e.strerror or e))
    finally:
        for t in tmps:
            if os.path.exists(t):
                os.unlink(t)
    for f in finals:
        print(f)
    return 0
