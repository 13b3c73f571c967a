"""A run's tables and its publication: the cells (median (min-max) of the
repetitions), table.txt, table.md and table.csv, and the commit of the
staged results directory (shared by run, kmod run and scripts/device-sweep)."""
import os
import sys

from . import results, stats, table
from .common import atomic_write

UNITS = {"ns_per_op": "ns/op", "cycles_per_op": "cycles/op",
         "instructions_per_op": "instructions/op"}
# Why Debian's debug build of Google Benchmark does not touch the numbers.
TIMING_NOTE = ("timed by the harness around the variant's own loop; Google "
               "Benchmark (Debian's debug build) only calls it once per repetition")


def _num(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def cell(b, metric, reps=None):
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


def common_count(benches, metric, requested):
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
    body = [[r] + [cell(by_t[t], metric, reps) if t in by_t else "-" for t in threads]
            for r, by_t in rows.items()]
    return header, body


def csv(benches, target=None):
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
        n = common_count(benches, m, reps)
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
