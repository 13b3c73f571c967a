#!/usr/bin/env python3
"""Damaged inputs against every reader of saved results: each must end
with a message and exit 2 (bad input) or 3 (not comparable), never a
traceback, never exit 0, and write nothing.  Readers: compare (the damaged
set as A and as B), report, plot, ab --from, and gate with a damaged
baseline.
Run: python3 tests/test_damaged.py"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KCOVBENCH = os.path.join(ROOT, "kcovbench")
BIN = os.path.join(ROOT, "build", "plain", "kcovbench")
GATE_BASELINE = os.path.join(ROOT, "results", "gate", "baseline.json")

KEY = ("cpu=AMD EPYC; cpus=2; cores=2; smt=1; kernel=6.1.0; virt=kvm; compiler=gcc 12.2; "
       "libbenchmark=1.7.1; git=abc1234; flags=-O2; placement=spread\n")
CONTEXT = {"num_cpus": 2, "kcb_cpu_model": "AMD EPYC", "kcb_kernel": "Linux 6.1.0",
           "kcb_compiler": "gcc 12.2", "kcb_hot_cflags": "-O2", "kcb_hwcounters": "no: test"}


def good_doc():
    """A raw.json in Google Benchmark 1.7.1's shape: linux/pertask at 1
    thread, 9 repetitions."""
    name = "linux/pertask/irq:0/iterations:1/manual_time/threads:1"
    runs = [dict(name=name, run_name=name, run_type="iteration", repetitions=9,
                 repetition_index=i, threads=1, iterations=1, real_time=5e7, cpu_time=5e7,
                 time_unit="ns", ns_per_op=2.0 + i / 100, ops_per_s=5e8, fair_spread=0.0,
                 pinned=1, family_index=0, per_family_instance_index=0)
            for i in range(9)]
    return {"context": dict(CONTEXT), "benchmarks": runs}


def with_run(change):
    """A case: the good document with change(first run) applied."""
    def make():
        doc = good_doc()
        change(doc["benchmarks"][0])
        return doc
    return make


def setter(key, value):
    return with_run(lambda r: r.__setitem__(key, value))


def dropper(key):
    return with_run(lambda r: r.pop(key))


def dumped(doc_fn, edit=lambda text: text):
    """raw.json's bytes: the document as Python's json writes it (NaN and
    Infinity included, as a careless writer would), then edited."""
    return lambda: edit(json.dumps(doc_fn())).encode()


def duplicated():
    doc = good_doc()
    doc["benchmarks"].append(dict(doc["benchmarks"][3]))
    return doc


def text(data):
    return lambda: data


def key_with(field, value):
    return re.sub(r"(^|; )%s=[^;\n]*" % field, r"\g<1>%s=%s" % (field, value), KEY)


def context_with(field, value):
    def make():
        doc = good_doc()
        doc["context"][field] = value
        return doc
    return make


ALL = ("compare-as-A", "compare-as-B", "report", "plot")
COMPARE = ("compare-as-A", "compare-as-B")

# (name, raw.json bytes or None for no raw.json, key.txt text or None,
#  the readers that must refuse it).  Every reader of a results directory
# refuses a damaged raw.json; key.txt matters to those that compare sets.
CASES = [
    ("truncated JSON", dumped(good_doc, lambda t: t[:len(t) // 2]), KEY, ALL),
    ("empty file", text(b""), KEY, ALL),
    ("not UTF-8", text(b"\xff\xfe{\x00"), KEY, ALL),
    ("top level a list", dumped(lambda: [good_doc()]), KEY, ALL),
    ("no benchmarks key", dumped(lambda: {"context": CONTEXT}), KEY, ALL),
    ("benchmarks a string", dumped(lambda: {"context": CONTEXT, "benchmarks": "x"}), KEY, ALL),
    ("empty benchmarks list", dumped(lambda: {"context": CONTEXT, "benchmarks": []}), KEY, ALL),
    ("benchmark entry a number", dumped(lambda: dict(good_doc(), benchmarks=[1, 2])), KEY, ALL),
    ("ns_per_op NaN", dumped(setter("ns_per_op", float("nan"))), KEY, ALL),
    ("ns_per_op Infinity", dumped(setter("ns_per_op", float("inf"))), KEY, ALL),
    ("ns_per_op -Infinity", dumped(setter("ns_per_op", float("-inf"))), KEY, ALL),
    ("ns_per_op 1e999", dumped(setter("ns_per_op", 1.5), lambda t: t.replace(
        '"ns_per_op": 1.5', '"ns_per_op": 1e999', 1)), KEY, ALL),
    ("ns_per_op 0", dumped(setter("ns_per_op", 0)), KEY, ALL),
    ("ns_per_op negative", dumped(setter("ns_per_op", -2.0)), KEY, ALL),
    ("ns_per_op a string", dumped(setter("ns_per_op", "2.0")), KEY, ALL),
    ("ns_per_op null", dumped(setter("ns_per_op", None)), KEY, ALL),
    ("ns_per_op true", dumped(setter("ns_per_op", True)), KEY, ALL),
    ("ns_per_op missing", dumped(dropper("ns_per_op")), KEY, ALL),
    ("cycles_per_op NaN", dumped(setter("cycles_per_op", float("nan"))), KEY, ALL),
    ("fair_spread negative", dumped(setter("fair_spread", -1)), KEY, ALL),
    ("pinned a string", dumped(setter("pinned", "1")), KEY, ALL),
    ("duplicated repetition", dumped(duplicated), KEY, ALL),
    ("threads a string", dumped(setter("threads", "1")), KEY, ALL),
    ("threads 0", dumped(setter("threads", 0)), KEY, ALL),
    ("run_name a number", dumped(setter("run_name", 7)), KEY, ALL),
    ("repetition_index a string", dumped(setter("repetition_index", "0")), KEY, ALL),
    ("context a list", dumped(lambda: dict(good_doc(), context=[1])), KEY, ALL),
    ("no raw.json", None, KEY, ALL),
    ("missing key.txt", dumped(good_doc), None, ("compare-as-A", "compare-as-B", "report")),
    ("another CPU in key.txt", dumped(good_doc), key_with("cpu", "Intel Xeon"), COMPARE),
    ("a VM against bare metal", dumped(good_doc), key_with("virt", "none"), COMPARE),
    ("another placement", dumped(good_doc), key_with("placement", "core"), COMPARE),
    ("other hook flags", dumped(good_doc), key_with("flags", "-O3"), ALL[:3]),
    ("another CPU in raw.json only", dumped(context_with("kcb_cpu_model", "Intel Xeon")),
     KEY, COMPARE),
    ("another kernel in raw.json only", dumped(context_with("kcb_kernel", "Linux 6.18")),
     KEY, COMPARE),
]


def baseline_case(edit):
    """A gate baseline: the committed one, edited (a function of the
    document returning it), written as JSON text (NaN as Python writes it)."""
    def make():
        with open(GATE_BASELINE) as f:
            doc = json.load(f)
        return json.dumps(edit(doc)).encode()
    return make


def _set(path, value):
    def edit(doc):
        d = doc
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = value
        return doc
    return edit


def _dup_entry(doc):
    doc["entries"].append(dict(doc["entries"][0]))
    return doc


def _count_path(event):
    return ["entries", 0, "counts", event]


GATE_CASES = [
    ("baseline truncated", lambda: baseline_case(lambda d: d)()[:200]),
    ("baseline empty", text(b"")),
    ("baseline NaN count", baseline_case(_set(_count_path("instructions"), float("nan")))),
    ("baseline Infinity threshold", baseline_case(_set(["thresholds", "instructions"],
                                                       float("inf")))),
    ("baseline duplicated entry", baseline_case(_dup_entry)),
    ("baseline entry not an object", baseline_case(_set(["entries", 0], 5))),
    ("baseline entry without config", baseline_case(
        lambda d: (d["entries"][0].pop("config"), d)[1])),
    ("baseline ops a string", baseline_case(_set(["key", "ops"], "65536"))),
    ("baseline key null", baseline_case(_set(["key"], None))),
]

# ---- Readers --------------------------------------------------------------
# Each: argv for ./kcovbench, given the damaged set, a good set and a path
# the reader may write (which must not appear).
READERS = {
    "compare-as-A": lambda bad, good, out: ["compare", bad, good],
    "compare-as-B": lambda bad, good, out: ["compare", good, bad],
    "report": lambda bad, good, out: ["report", good, bad, "--out", out],
    "plot": lambda bad, good, out: ["plot", bad],
}
# `./kcovbench ab --from DIR` re-reads a saved ab results directory
# (raw-ab.json.gz, or raw-ab.json as here): scripts/kcb/raw_ab.py.
def good_ab():
    """An ab results document: linux vs linux, pertask, 1 thread, 20 pairs."""
    t = {"dropped": 1, "pairs": 20, "a": [2.0 + i / 1000 for i in range(20)],
         "b": [2.01 + i / 1000 for i in range(20)], "round": list(range(20))}
    trial = {"a": "linux", "b": "linux", "mode_a": "pertask", "mode_b": "pertask",
             "threads": 1, "layouts": [{"layout": 0, "placement": {}, "threads": [t]}]}
    return {"args": {"window_us": 200}, "key": KEY,
            "rows": [{"mode": "pertask", "threads": 1, "trials": [trial]}]}


def ab_with(change):
    def make():
        doc = good_ab()
        change(doc, doc["rows"][0]["trials"][0]["layouts"][0]["threads"][0])
        return doc
    return make


def ab_set(key, value):
    return ab_with(lambda d, t: t.__setitem__(key, value))


def ab_first(key, value):
    def change(d, t):
        t[key] = [value] + t[key][1:]
    return ab_with(change)


AB_READERS = {"ab": lambda bad, good, out: ["ab", "--from", bad]}
AB = ("ab",)
AB_CASES = [
    ("ab: truncated JSON", dumped(good_ab, lambda t: t[:len(t) // 2]), KEY, AB),
    ("ab: empty file", text(b""), KEY, AB),
    ("ab: top level a list", dumped(lambda: [good_ab()]), KEY, AB),
    ("ab: no rows", dumped(lambda: dict(good_ab(), rows=[])), KEY, AB),
    ("ab: rows a string", dumped(lambda: dict(good_ab(), rows="x")), KEY, AB),
    ("ab: A ns/op NaN", dumped(ab_first("a", float("nan"))), KEY, AB),
    ("ab: B ns/op Infinity", dumped(ab_first("b", float("inf"))), KEY, AB),
    ("ab: A ns/op 0", dumped(ab_first("a", 0)), KEY, AB),
    ("ab: B ns/op negative", dumped(ab_first("b", -1.5)), KEY, AB),
    ("ab: ns/op a string", dumped(ab_first("a", "2.0")), KEY, AB),
    ("ab: duplicated round", dumped(ab_first("round", 5)), KEY, AB),
    ("ab: a and b of different lengths", dumped(ab_with(lambda d, t: t["b"].pop())), KEY, AB),
    ("ab: dropped negative", dumped(ab_set("dropped", -1)), KEY, AB),
    ("ab: threads' pairs missing", dumped(ab_with(
        lambda d, t: d["rows"][0]["trials"][0]["layouts"][0].pop("threads"))), KEY, AB),
    ("ab: layout 8", dumped(ab_with(
        lambda d, t: d["rows"][0]["trials"][0]["layouts"][0].__setitem__("layout", 8))), KEY, AB),
    ("ab: duplicated row", dumped(ab_with(
        lambda d, t: d["rows"].append(d["rows"][0]))), KEY, AB),
    ("ab: no raw-ab.json", None, KEY, AB),
]


class Damaged(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="kcb-damaged-")
        self.tmp = self._tmp.name
        self.good = self.results_dir("good", json.dumps(good_doc()).encode(), KEY)

    def tearDown(self):
        self._tmp.cleanup()

    def results_dir(self, name, raw, key, raw_name="raw.json"):
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        if raw is not None:
            with open(os.path.join(d, raw_name), "wb") as f:
                f.write(raw)
        if key is not None:
            with open(os.path.join(d, "key.txt"), "w") as f:
                f.write(key)
        return d

    def assertRefused(self, argv, what, written=()):
        r = subprocess.run([KCOVBENCH] + argv, capture_output=True, text=True, cwd=ROOT,
                           timeout=120)
        self.assertIn(r.returncode, (2, 3), "%s: exit %d\n%s%s" % (
            what, r.returncode, r.stdout, r.stderr))
        self.assertNotIn("Traceback", r.stderr, what)
        self.assertRegex(r.stderr, r"kcovbench \w+: ", "%s: no message" % what)
        for path in written:
            self.assertFalse(os.path.exists(path), "%s wrote %s" % (what, path))

    def run_cases(self, cases, readers, raw_name="raw.json"):
        for i, (name, raw, key, which) in enumerate(cases):
            bad = self.results_dir("bad%d" % i, raw() if raw else None, key, raw_name)
            for reader in which:
                out = os.path.join(self.tmp, "out%d-%s" % (i, reader))
                with self.subTest(case=name, reader=reader):
                    self.assertRefused(readers[reader](bad, self.good, out),
                                       "%s (%s)" % (reader, name),
                                       (out, os.path.join(bad, "plot.svg")))

    def test_good_set_is_read(self):
        # the fixture itself is fine: each refusal below is the damage's
        r = subprocess.run([KCOVBENCH, "compare", self.good, self.good],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_results_readers(self):
        self.run_cases(CASES, READERS)

    def test_ab_reader(self):
        self.run_cases(AB_CASES, AB_READERS, "raw-ab.json")

    def test_gate_damaged_baseline(self):
        for name, make in GATE_CASES:
            path = os.path.join(self.tmp, re.sub(r"\W+", "-", name) + ".json")
            with open(path, "wb") as f:
                f.write(make())
            with self.subTest(case=name):
                self.assertRefused(["gate", "--baseline", path, "--binary", BIN,
                                    "--configs", "linux", "--modes", "pertask"],
                                   "gate (%s)" % name)

    def test_enough_cases(self):
        n = sum(len(w) for _, _, _, w in CASES) + len(GATE_CASES)
        self.assertGreaterEqual(len(CASES) + len(GATE_CASES), 30)
        self.assertGreaterEqual(n, 100)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unit_main
    unit_main.run(__name__)
