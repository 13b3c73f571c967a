"""The variant registry, as the binary was built with it: `kcovbench list
--json` (bench/list_json.c), run once per process and again only if the
binary changed.  Python's one source for front ends, pairs, configurations,
remote designs, lookups and modes: nothing here or elsewhere restates them.

The binary is built when missing (ninja, as every command does); a
KCOVBENCH_BIN that is not a program is bad input (UsageError)."""
import json
import os

from . import binary
from .common import Failure, Lazy  # noqa: F401 (Lazy: for callers)

_cache = {"key": None, "doc": None}
# what an empty or partial registry is missing: a load fails instead
REQUIRED = ("frontends", "pairs", "configs", "remotes", "lookups", "modes", "hooks")


def _key():
    try:
        st = os.stat(binary.BIN)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _parse(text):
    """The document, checked: every section there and none empty."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise Failure("%s list --json is not JSON: %s" % (binary.BIN, e))
    if not isinstance(doc, dict):
        raise Failure("%s list --json: not an object" % binary.BIN)
    empty = [k for k in REQUIRED if not doc.get(k)]
    if empty:
        raise Failure("%s list --json: empty or missing %s" % (binary.BIN, ", ".join(empty)))
    return doc


def doc():
    """The whole registry (a dict, as list --json prints it)."""
    if binary.OVERRIDE:
        binary._check_override()
    elif _key() is None:
        binary.ensure_built()
    key = _key()
    if _cache["doc"] is None or _cache["key"] != key:
        out = binary._run(["list", "--json"])
        if out.returncode != 0:
            raise Failure("%s list --json failed: %s" % (binary.BIN, out.stderr.strip()))
        _cache["doc"], _cache["key"] = _parse(out.stdout), key
    return _cache["doc"]


def frontends(broken=False):
    """The front ends' entries; the broken ones (tests only) with broken=True."""
    return [f for f in doc()["frontends"] if broken or not f["broken"]]


def pairs():
    return doc()["pairs"]


def configs(proposals=True):
    """The configurations' entries, the proposals' too unless proposals=False."""
    return [c for c in doc()["configs"] if proposals or not c["proposal"]]


def config_names(proposals=True):
    return [c["name"] for c in configs(proposals)]


def upstream_configs():
    return config_names(proposals=False)


def proposed_configs():
    return [c["name"] for c in configs() if c["proposal"]]


def config_ids(proposals=True, upstream=True):
    """[(name, front end id, pair id)]: the C ids the hooks' symbols use
    (kcb_<fe>__<pair>__<hook>)."""
    return [(c["name"], c["frontend_id"], c["pair_id"]) for c in configs()
            if (proposals and c["proposal"]) or (upstream and not c["proposal"])]


def kernels():
    """The real kernel objects linked in (kobj/: kernel-6.1, ...), each a
    configuration with the modes it runs; none when none was built."""
    return doc().get("kernels", [])


def remotes():
    return doc()["remotes"]


def lookups():
    return doc()["lookups"]


def hooks():
    return doc()["hooks"]


def modes():
    """Every mode's entry, in the binary's order."""
    return doc()["modes"]


def mode_names(workload=True):
    return [m["name"] for m in modes() if workload or not m["workload"]]


def switch_modes():
    return [m["name"] for m in modes() if m["switch_cases"]]


def unique_modes():
    """The unique modes (trace_pc_guard's, Jiao's hash table's)."""
    return [m["name"] for m in modes() if m["guard"] or m["hash"]]


def default_modes():
    """What the binary runs unless --modes says otherwise."""
    return [m["name"] for m in modes() if m["default"]]


def controls():
    """{pair name: "BROKEN CONTROL" or "PLANTED CONTROL"}."""
    return {p["name"]: p["control"] for p in pairs() if p["control"]}


def proposals():
    """The names of every front end, pair, configuration and remote design
    not upstream's merged code (ours, and the unmerged upstream patches of
    unmerged()): a row naming any of them is kept out of the upstream rows."""
    return {x["name"] for k in ("frontends", "pairs", "configs", "remotes")
            for x in doc()[k] if x["proposal"] and not x.get("broken")}


def unmerged():
    """The names of the front ends and configurations that replicate an
    upstream patch mailed but not merged (`list`: [UNMERGED UPSTREAM]); they
    are in proposals() too, kept apart from the upstream rows."""
    return {x["name"] for k in ("frontends", "configs") for x in doc()[k] if x.get("unmerged")}


def configs_fitting(mode):
    """The configurations that can run mode (the unique modes need their
    front end's hooks, the workload a copy)."""
    return [c["name"] for c in configs() if mode in c["modes"]]
