"""Reading `kcovbench ab`'s pairs, from the binary or a saved results
directory (raw-ab.json.gz): every field checked, so that a damaged file is
refused with a message (UsageError, exit 2) and never becomes a verdict."""
import gzip
import json
import math
import os

from .common import UsageError


def _need(cond, where, what):
    if not cond:
        raise UsageError("%s: %s" % (where, what))


def _typed(obj, key, types, where):
    _need(isinstance(obj, dict), where, "not an object")
    _need(key in obj, where, "no %r" % key)
    v = obj[key]
    _need(isinstance(v, types) and not isinstance(v, bool), where,
          "%r is %s, not %s" % (key, type(v).__name__, "/".join(t.__name__ for t in types)))
    return v


def _ns_list(t, key, where):
    xs = _typed(t, key, (list,), where)
    for x in xs:
        _need(isinstance(x, (int, float)) and not isinstance(x, bool), where,
              "%s holds %r, not a number" % (key, x))
        _need(math.isfinite(x) and x > 0, where,
              "%s holds %r ns/op: not a measurement (finite and positive)" % (key, x))
    return xs


def check_thread(t, where):
    a, b = _ns_list(t, "a", where), _ns_list(t, "b", where)
    rounds = _typed(t, "round", (list,), where)
    _need(len(a) == len(b) == len(rounds), where,
          "a, b and round differ in length (%d, %d, %d)" % (len(a), len(b), len(rounds)))
    _need(all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in rounds),
          where, "a round index is not a whole number")
    _need(len(set(rounds)) == len(rounds), where, "a round appears twice")
    _need(_typed(t, "dropped", (int,), where) >= 0, where, "dropped is negative")
    return t


def check_trial(doc, where):
    """One run of the binary: its variants, mode and every thread's pairs."""
    for k in ("a", "b", "mode_a", "mode_b"):
        _typed(doc, k, (str,), where)
    _need(_typed(doc, "threads", (int,), where) >= 1, where, "threads below 1")
    layouts = _typed(doc, "layouts", (list,), where)
    _need(layouts, where, "no layouts")
    seen = set()
    for i, lay in enumerate(layouts):
        w = "%s, layout %d" % (where, i)
        at = _typed(lay, "layout", (int,), w)
        _need(at in (0, 16, 32, 48) and at not in seen, w, "layout %r twice or not 0/16/32/48"
              % at)
        seen.add(at)
        _typed(lay, "placement", (dict,), w)
        threads = _typed(lay, "threads", (list,), w)
        _need(len(threads) == doc["threads"], w, "%d threads' pairs for %d threads"
              % (len(threads), doc["threads"]))
        for j, t in enumerate(threads):
            check_thread(t, "%s, thread %d" % (w, j))
    return doc


def load(d):
    """A saved ab results directory's document, checked whole."""
    for name, opener in (("raw-ab.json.gz", gzip.open), ("raw-ab.json", open)):
        path = os.path.join(d, name)
        if os.path.exists(path):
            break
    else:
        raise UsageError("%s: no raw-ab.json.gz (not an ab results directory)" % d)
    try:
        with opener(path, "rt") as f:
            doc = json.load(f)
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as e:
        raise UsageError("cannot read %s: %s" % (path, e))
    rows = _typed(doc, "rows", (list,), path)
    _need(rows, path, "no rows")
    _typed(doc, "args", (dict,), path)
    keys = set()
    for i, r in enumerate(rows):
        w = "%s, row %d" % (path, i)
        k = (_typed(r, "mode", (str,), w), _typed(r, "threads", (int,), w))
        _need(k not in keys, w, "row %s/%dT twice" % k)
        keys.add(k)
        trials = _typed(r, "trials", (list,), w)
        _need(trials, w, "no trials")
        for j, t in enumerate(trials):
            check_trial(t, "%s, trial %d" % (w, j))
    return doc
