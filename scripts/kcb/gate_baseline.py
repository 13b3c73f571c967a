"""The gate's baseline file, results/gate/baseline.json: its defaults
(thresholds, absolute limits), reading it with every check that keeps a
damaged one from judging, writing it atomically, and whether it may be
compared with counts made here."""
import datetime
import json
import math
import os

from .common import ROOT, UsageError, atomic_write
from .gate_counts import BACKEND_EVENTS, BATCH


FORMAT = "kcovbench-gate/1"
BASELINE = os.path.join(ROOT, "results", "gate", "baseline.json")


# Percent increase per op that fails the gate.  Instructions and branches
# are exact under callgrind and nearly so with perf's user-space counts;
# cycles move with the machine's load, hence the wider default.
DEFAULT_THRESHOLDS = {"instructions": 2.0, "branches": 2.0, "cycles": 10.0}


# Growth per op, in counts, that fails whatever the percentage: on a hook of
# 65 instructions +2% lets one more instruction through, and one more
# instruction on every basic block is what a reviewer asks about.  Half an
# instruction per op is a whole one on every call of a one-hook op, with
# room for perf's few stray user-space counts.
DEFAULT_ABS_LIMITS = {"instructions": 0.5}


# Key fields that must match for counts to be comparable.  The CPU matters
# to hardware counts (cycles above all), not to valgrind's.
REQUIRED_KEY = {"callgrind": ("backend", "tool", "compiler", "arch", "ops"),
                "perf": ("backend", "tool", "compiler", "arch", "ops", "cpu")}


def comparable(base, key):
    """[(field, baseline value, ours)] that differ and must not."""
    bkey = base.get("key", {})
    return [(f, bkey.get(f), key[f]) for f in REQUIRED_KEY[key["backend"]]
            if bkey.get(f) != key[f]]


def load_baseline(path):
    """The baseline document, None if there is no file; UsageError if bad."""
    try:
        with open(path) as f:
            doc = json.load(f, parse_constant=_no_constant)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise UsageError("cannot read baseline %s: %s" % (path, e))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or \
            not isinstance(doc.get("entries"), list):
        raise UsageError("%s is not a %s baseline" % (path, FORMAT))
    bad = baseline_problems(doc)
    if bad:
        raise UsageError("baseline %s cannot judge anything:\n%s" % (
            path, "".join("  %s\n" % b for b in bad)))
    return doc


def _no_constant(name):
    # Python's json reads NaN and Infinity; compared with a limit they pass.
    raise ValueError("%s is not a number a baseline may hold" % name)


def _number(v):
    """A finite JSON number >= 0 (1e999 reads as infinity: refused too)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and \
        math.isfinite(v) and v >= 0


def baseline_problems(doc):
    """What makes a baseline unable to judge, each a line: a limit or count
    that is null, not a number or not finite would let any measurement pass;
    a malformed key or entry would crash the gate; a second entry for one
    config and mode would silently replace the first."""
    return _key_problems(doc) + _limit_problems(doc) + _entry_problems(doc)


def _key_problems(doc):
    bad = ["%s is %r, not %s" % (f, doc[f], what)
           for f, kind, what in (("backend", str, "a name"), ("info", dict, "an object"))
           if f in doc and not isinstance(doc[f], kind)]
    key = doc.get("key")
    if not isinstance(key, dict):
        return bad + ["key is %r, not an object" % (key,)]
    ops = key.get("ops")
    if not isinstance(ops, int) or isinstance(ops, bool) or ops <= 0 or ops % BATCH:
        bad.append("key ops is %r, not a positive multiple of %d" % (ops, BATCH))
    return bad


def _limit_problems(doc):
    bad = []
    for kind in ("thresholds", "abs_limits"):
        lims = doc.get(kind, {})
        if not isinstance(lims, dict):
            bad.append("%s is not an object" % kind)
            continue
        bad += ["%s %s is %r, not a finite number >= 0" % (kind, e, v)
                for e, v in sorted(lims.items()) if not _number(v)]
    return bad


def _entry_problems(doc):
    bad, seen = [], set()
    backend = doc.get("backend")
    evs = BACKEND_EVENTS.get(backend if isinstance(backend, str) else None,
                             ("instructions",))
    for i, e in enumerate(doc["entries"]):
        if not isinstance(e, dict):
            bad.append("entry %d is %r, not an object" % (i, e))
            continue
        cm = (e.get("config"), e.get("mode"))
        wrong = [f for f, v in zip(("config", "mode"), cm) if not isinstance(v, str) or not v]
        if wrong:
            bad += ["entry %d: %s is %r, not a name" % (i, f, e.get(f)) for f in wrong]
            continue
        name = "entry %d (%s %s)" % (i, cm[0], cm[1])
        if cm in seen:
            bad.append("%s: %s %s appears twice; one set of counts must judge" % (name, *cm))
        seen.add(cm)
        counts = e.get("counts")
        if not isinstance(counts, dict) or not counts:
            bad.append("%s has no counts" % name)
            continue
        bad += ["%s: %s count is %r, not a finite number > 0" % (name, ev, counts.get(ev))
                for ev in evs if not _number(counts.get(ev)) or not counts.get(ev)]
    return bad


def entries_by_key(doc):
    return {(e["config"], e["mode"]): e for e in doc.get("entries", [])}


def write_baseline(path, old, key, info, thresholds, result, ops, command, abs_limits=None):
    entries = {}
    kept = 0
    if old and not comparable(old, key):
        entries = entries_by_key(old)
        kept = len(set(entries) - set(result))
    for (c, m), r in result.items():
        entries[(c, m)] = {
            "config": c, "mode": m, "backend": key["backend"], "counts": r["counts"],
            "per_op": {e: round(v / ops, 4) for e, v in r["counts"].items()}}
    doc = {
        "format": FORMAT,
        "made": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "backend": key["backend"],
        "key": key,
        "info": info,
        "thresholds": thresholds,
        "abs_limits": abs_limits if abs_limits is not None else dict(DEFAULT_ABS_LIMITS),
        "entries": sorted(entries.values(), key=lambda e: (e["config"], e["mode"])),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return kept
