"""The gate's verdict: counts per op against the baseline's, each event
judged by its relative threshold and its absolute limit, and the tables
that show it."""
from .gate_baseline import DEFAULT_ABS_LIMITS, entries_by_key
from .gate_counts import BACKEND_EVENTS


def judge(base, result, ops, thresholds, backend, abs_limits=None):
    """(rows, regressions, missing): one row per (config, mode).  An event
    regresses past its relative threshold (percent) or its absolute limit
    (counts per op), whichever it crosses first."""
    abs_limits = DEFAULT_ABS_LIMITS if abs_limits is None else abs_limits
    bent = entries_by_key(base) if base else {}
    bops = base.get("key", {}).get("ops", ops) if base else ops
    rows, regs, missing = [], [], []
    for (c, m), r in result.items():
        be = bent.get((c, m))
        row = {"config": c, "mode": m, "now": {}, "base": {}, "change": {}, "verdict": "ok"}
        for e in BACKEND_EVENTS[backend]:
            now = r["counts"][e] / ops
            row["now"][e] = now
            if be is None or e not in be.get("counts", {}):
                continue
            b = be["counts"][e] / bops
            row["base"][e] = b
            ch = (now - b) / b * 100 if b else (0.0 if now == b else float("inf"))
            row["change"][e] = ch
            lim, alim = thresholds.get(e), abs_limits.get(e)
            if (lim is not None and ch > lim) or (alim is not None and now - b > alim):
                row["verdict"] = "REGRESSED"
                regs.append({"config": c, "mode": m, "event": e, "baseline": b,
                             "now": now, "change": ch, "limit": lim, "abs_limit": alim})
        if be is None:
            row["verdict"] = "no baseline"
            missing.append((c, m))
        rows.append(row)
    return rows, regs, missing


def _txt(header, rows, left=1):
    """A plain table: the first `left` columns left-aligned, the others
    (numbers) right-aligned."""
    w = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = []
    for r in [header] + rows:
        out.append("  ".join(r[i].ljust(w[i]) if i < left else r[i].rjust(w[i])
                             for i in range(len(r))).rstrip())
    return "\n".join(out) + "\n"


SHORT = {"instructions": "instr/op", "branches": "branch/op", "cycles": "cycles/op"}


def _pct(x):
    if x == float("inf"):
        return "+inf%"
    if x != 0 and abs(x) < 0.005:
        return "%+.4f%%" % x        # a change too small for two decimals, not none
    return "%+.2f%%" % x


def render(rows, backend):
    evs = BACKEND_EVENTS[backend]
    header = ["config", "mode"]
    for e in evs:
        header += [SHORT[e], "change"]
    header.append("verdict")
    body = []
    for r in rows:
        line = [r["config"], r["mode"]]
        for e in evs:
            line.append("%.4f" % r["now"][e])
            line.append(_pct(r["change"][e]) if e in r["change"] else "-")
        line.append(r["verdict"])
        body.append(line)
    return _txt(header, body, left=2)


def render_regressions(regs):
    header = ["config", "mode", "event", "baseline/op", "now/op", "change", "limit"]
    body = [[g["config"], g["mode"], g["event"], "%.4f" % g["baseline"], "%.4f" % g["now"],
             _pct(g["change"]), "+%g%% or +%s/op" % (
                 g["limit"], "%g" % g["abs_limit"] if g.get("abs_limit") is not None else "-")]
            for g in regs]
    return _txt(header, body, left=3)
