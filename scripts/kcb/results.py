"""Reading a results directory: Google Benchmark JSON grouped into one
Bench per (config, mode, irq, threads), with its repetitions."""
import json
import math
import os
import re

from . import registry
from .common import UsageError, warn

# Parts Google Benchmark appends to our "config/mode/irq:N" names.
GB_PART = re.compile(r"^(iterations|threads|repeats|min_time|min_warmup_time):|"
                     r"^(manual_time|real_time|process_time)$")


# Per-operation counters worth a table; the last two only exist where the
# binary could open hardware counters.
METRICS = ("ns_per_op", "cycles_per_op", "instructions_per_op")

# Claim pairs that are controls, not designs ({pair: "BROKEN CONTROL" or
# "PLANTED CONTROL"}), and the names of proposals (front ends, pairs,
# configurations and remote designs of ours): the registry's, read from the
# binary when first used.  A results file written by a binary that stores
# them (raw.json's context: kcb_controls, kcb_proposals) is read with its
# own instead, so that it reads the same after the registry changes.
CONTROLS = registry.Lazy(registry.controls)
PROPOSALS = registry.Lazy(registry.proposals)
# Of PROPOSALS, the upstream patches mailed but not merged (`list` marks
# them [UNMERGED UPSTREAM]): apart from the upstream rows, marked upstream's.
UNMERGED = registry.Lazy(registry.unmerged)


def flags_of(context):
    """(controls, proposals, unmerged) stored in a results file's context,
    or the registry's where it stores none."""
    ctx = context or {}
    c, p, u = ctx.get("kcb_controls"), ctx.get("kcb_proposals"), ctx.get("kcb_unmerged", "")
    if not isinstance(c, str) or not isinstance(p, str) or not isinstance(u, str):
        return CONTROLS, PROPOSALS, UNMERGED
    controls = dict(x.split(":", 1) for x in c.split(",") if ":" in x)
    return controls, set(x for x in p.split(",") if x), set(x for x in u.split(",") if x)


def is_proposal(config, proposals=None):
    """True if config ("proposed-linux", "obsd-1.49/chunk") names a proposal."""
    proposals = PROPOSALS if proposals is None else proposals
    return any(p in proposals for p in re.split(r"[/+:]", config))


def is_unmerged(config, proposals=None, unmerged=None):
    """True if config names an unmerged upstream patch and no proposal of ours."""
    proposals = PROPOSALS if proposals is None else proposals
    unmerged = UNMERGED if unmerged is None else unmerged
    parts = re.split(r"[/+:]", config)
    return (any(p in unmerged for p in parts)
            and not any(p in proposals and p not in unmerged for p in parts))


def mark(config):
    """The mark a table puts after config's name: " [PROPOSAL]", " [UNMERGED
    UPSTREAM]" or nothing (the registry's flags)."""
    if not is_proposal(config):
        return ""
    return " [UNMERGED UPSTREAM]" if is_unmerged(config) else " [PROPOSAL]"


class Bench:
    def __init__(self, run_name, threads, flags=None):
        """flags: (controls, proposals, unmerged) of the file it is read from
        (flags_of); the registry's by default."""
        controls, proposals, unmerged = flags or (CONTROLS, PROPOSALS, UNMERGED)
        self.run_name = run_name
        self.threads = threads
        ours = [p for p in run_name.split("/") if not GB_PART.match(p)]
        # "kmod:linux" is a config run inside kcovbench.ko (kmod.py), no key:value
        kv = dict(p.split(":", 1) for p in ours if ":" in p and not p.startswith("kmod:"))
        words = [p for p in ours if ":" not in p or p.startswith("kmod:")]
        self.mode = words[-1] if len(words) > 1 else ""
        self.config = "/".join(words[:-1]) if len(words) > 1 else "/".join(words)
        self.irq = kv.get("irq", "0")
        # irq:0 is the default: name only the unusual case; other key:value
        # parts (handles:16, recs:0) tell rows apart and stay
        self.row = "/".join(p for p in ours if p != "irq:0")
        self.control = controls.get(self.config.rsplit("/", 1)[-1])
        if self.control:
            self.row += " [%s]" % self.control
        self.proposal = not self.control and is_proposal(self.config, proposals)
        if self.proposal:
            self.row += " [UNMERGED UPSTREAM]" if is_unmerged(self.config, proposals, unmerged) else " [PROPOSAL]"
        self.order = (0, 0)         # GB's registration order, set by load()
        self.values = {}            # counter -> its value in each repetition
        self.unpinned = False       # some thread did not run where it was pinned

    @property
    def samples(self):
        """ns/op of each repetition: what tables and verdicts are about."""
        return self.values["ns_per_op"]


def _read_doc(path):
    """The JSON document of a raw.json, checked for the shape we read."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise UsageError("cannot read results %s: %s" % (path, e.strerror or e))
    except ValueError as e:     # UnicodeDecodeError included
        raise UsageError("%s is not valid JSON (truncated or damaged?): %s" % (path, e))
    if not isinstance(doc, dict):
        raise UsageError("%s: not a Google Benchmark JSON object" % path)
    runs, context = doc.get("benchmarks"), doc.get("context", {})
    if not isinstance(runs, list):
        raise UsageError("%s: \"benchmarks\" is %s, not a list" % (
            path, "missing" if runs is None else type(runs).__name__))
    if not runs:
        raise UsageError("%s: the benchmarks list is empty" % path)
    if not isinstance(context, dict):
        raise UsageError("%s: \"context\" is not an object" % path)
    return context, runs


def _value(path, name, key, v, zero_ok=False):
    """A counter: a finite number above 0 (at or above, where zero_ok).
    NaN or Infinity would become a verdict; 0 or less is no measurement."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UsageError("%s: %s: %s is %s, not a number" % (path, name, key, json.dumps(v)))
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
        raise UsageError("%s: %s: %s is %r: must be finite and %s" % (
            path, name, key, v, "0 or more" if zero_ok else "above 0"))
    return float(v)


def _field(path, r, key, kind, default=None):
    """r[key] of the given type (bools are not ints here)."""
    v = r.get(key, default)
    if isinstance(v, bool) or not isinstance(v, kind):
        raise UsageError("%s: a benchmark's %s is %s, not %s" % (
            path, key, json.dumps(v), "a number" if kind is int else "a string"))
    return v


def _check_run(path, r):
    """(run_name, threads, repetition index or None) of one row."""
    if not isinstance(r, dict):
        raise UsageError("%s: a benchmark entry is %s, not an object" % (path, json.dumps(r)))
    name = _field(path, r, "run_name", str, r.get("name"))
    threads = _field(path, r, "threads", int, 1)
    if threads < 1:
        raise UsageError("%s: %s: threads is %d" % (path, name, threads))
    rep = r.get("repetition_index")
    if rep is not None and (_field(path, r, "repetition_index", int) < 0):
        raise UsageError("%s: %s: repetition_index is %d" % (path, name, rep))
    return name, threads, rep


def load(path):
    """(context, [Bench]) from a results dir or a raw.json, in the binary's
    order.  UsageError (exit 2) for anything that is not a measurement: bad
    JSON, wrong types, a counter that is not a finite positive number, a
    repetition given twice."""
    if os.path.isdir(path):
        path = os.path.join(path, "raw.json")
    context, runs = _read_doc(path)
    flags = flags_of(context)
    benches, seen = {}, set()
    for r in runs:
        name, threads, rep = _check_run(path, r)
        if r.get("run_type", "iteration") != "iteration":
            continue                # our own statistics, from the repetitions
        if rep is not None:
            if (name, rep) in seen:
                raise UsageError("%s: %s: repetition %d appears twice" % (path, name, rep))
            seen.add((name, rep))
        if r.get("error_occurred"):
            warn("%s: %s" % (name, r.get("error_message", "error")))
            continue
        b = benches.get(name)
        if b is None:
            b = benches[name] = Bench(name, threads, flags)
            b.order = (r.get("family_index", 0), r.get("per_family_instance_index", 0))
        if "ns_per_op" not in r:
            raise UsageError("%s: %s has no ns_per_op counter" % (path, name))
        if "pinned" in r and _value(path, name, "pinned", r["pinned"], True) < b.threads:
            b.unpinned = True
        for k in METRICS + ("fair_spread",):
            if k in r:
                b.values.setdefault(k, []).append(
                    _value(path, name, k, r[k], zero_ok=k == "fair_spread"))
    # GB numbers benchmarks in the order the binary registered them; the
    # file's order is shuffled by --benchmark_enable_random_interleaving
    return context, sorted((b for b in benches.values() if b.values),
                           key=lambda b: b.order)
