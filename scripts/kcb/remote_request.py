"""The request-rate remote table (bench/remote_bench.c --modes=remote-request,
the module's remote= runs with records=): ns per section per design,
context, records and threads, and the share of it spent outside the hooks,
against the baseline hooks-only (the same loop and records, start/stop cut
to kcov_start/kcov_stop's stores)."""
import re

from . import registry, stats

BASELINE = "hooks-only"
RECORDS = (1, 16, 256)
NAME = re.compile(r"^(?:kmod:)?remote-request/([^/]+)/recs:(\d+)/(task|softirq)/")


def linux_designs():
    """(name, proposal) of the designs on the `linux` hooks: Linux's own and
    the proposal pertask-pcpu-rcu (what the mode runs by default), from
    the registry."""
    return [(r["name"], r["proposal"]) for r in registry.remotes() if r["config"] == "linux"]


def cells_of(benchmarks):
    """(design, records, context, threads) -> [ns per section], from Google
    Benchmark's (or kcb_json.c's) repetitions."""
    cells = {}
    for b in benchmarks:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        m = NAME.match(b["run_name"])
        if m:
            key = (m.group(1), int(m.group(2)), m.group(3), b["threads"])
            cells.setdefault(key, []).append(b["ns_per_op"])
    return cells


def names_of(cells):
    """(name, proposal) of the designs that have cells: Linux's designs in
    the registry's order, then any other measured one, the baseline aside."""
    names = [n for n in linux_designs() if any(k[0] == n[0] for k in cells)]
    seen = {n for n, _ in names}
    for k in sorted(cells):
        if k[0] != BASELINE and k[0] not in seen:
            names.append((k[0], False))
            seen.add(k[0])
    return names


def table(cells):
    """The share table of cells: header and one row per design, context and
    records, at every thread count measured."""
    threads = sorted({k[3] for k in cells})
    return header(threads) + rows(names_of(cells), cells, threads)


def share(section, hooks):
    """The share of a section outside the hooks: 1 - hooks/section, in %;
    below 0 (the baseline measured slower: noise) shown as such."""
    if not section or not hooks:
        return "-"
    return "%.0f%%" % (100.0 * (1.0 - hooks / section))


def header(threads):
    cols = "".join(" | ns, %d thr | outside hooks, %d thr" % (t, t) for t in threads)
    return ["| design | context | records%s |" % cols,
            "|---|---|---:" + "|---:|---:" * len(threads) + "|"]


def rows(names, cells, threads, records=RECORDS):
    """One row per design, context and records: median [min..max] ns per
    section at each thread count, and its share outside the hooks (medians
    against the baseline's at the same context, records and threads).  The
    baseline's own rows come first."""
    def med(*key):
        xs = cells.get(key)
        return stats.median(xs) if xs else None

    def cell(*key):
        xs = cells.get(key)
        return "%.1f [%.1f..%.1f]" % (stats.median(xs), min(xs), max(xs)) if xs else "-"

    out = []
    for name, proposal in [(BASELINE, False)] + list(names):
        for ctx in ("task", "softirq"):
            for n in records:
                if not any((name, n, ctx, t) in cells for t in threads):
                    continue
                line = "| %s%s | %s | %d" % (name, " **(proposal)**" if proposal else "", ctx, n)
                for t in threads:
                    line += " | %s | %s" % (cell(name, n, ctx, t),
                                            "(baseline)" if name == BASELINE else
                                            share(med(name, n, ctx, t), med(BASELINE, n, ctx, t)))
                out.append(line + " |")
    return out
