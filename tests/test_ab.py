#!/usr/bin/env python3
"""Tests of `kcovbench ab`: the statistics on data whose answer is known,
the verdict rules, the layouts' placement, --base, --from, and its
refusals.  Correctness only: no test asserts a time or a size of effect
measured on this machine.  Run: python3 tests/test_ab.py"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from kcb import cmd_ab, stats  # noqa: E402
import unit_main  # noqa: E402

KCOVBENCH = os.path.join(ROOT, "kcovbench")
BIN = os.path.join(ROOT, "build", "plain", "kcovbench")
SHORT = ["--time=0.05", "--warmup=0.02"]


def run(*argv):
    return subprocess.run([KCOVBENCH] + list(argv), capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def _listed():
    r = subprocess.run([os.path.join(ROOT, "build", "plain", "kcovbench"), "list"],
                       capture_output=True, text=True)
    return set(l.split()[0] for l in r.stdout.splitlines() if "[REAL KERNEL]" in l)


LISTED = _listed()


def binary_ab(*argv):
    r = subprocess.run([BIN, "ab"] + list(argv), capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def layout(a, b, rounds=None, threads=1):
    """An ab layout document from lists of A's and B's ns/op."""
    rounds = rounds or list(range(len(a)))
    return {"layout": 0, "placement": {}, "threads": [
        {"dropped": 0, "pairs": len(a), "a": a, "b": b, "round": rounds}
        for _ in range(threads)]}


class SignedRank(unittest.TestCase):
    def test_known_shift_is_found_and_zero_is_not(self):
        rng = random.Random(7)
        noise = [rng.gauss(0, 0.01) for _ in range(3000)]
        est, lo, hi, p = stats.signed_rank([x + 0.005 for x in noise])
        self.assertLess(lo, 0.005)
        self.assertGreater(hi, 0.005)
        self.assertLess(p, 1e-6)
        est, lo, hi, p = stats.signed_rank(noise)
        self.assertLess(lo, 0)
        self.assertGreater(hi, 0)

    def test_interval_matches_the_walsh_averages_listed(self):
        # small n: every Walsh average listed, the interval's ends are two of them
        d = sorted(random.Random(3).gauss(0.1, 1) for _ in range(40))
        walsh = sorted((d[i] + d[j]) / 2 for i in range(40) for j in range(i, 40))
        est, lo, hi, _ = stats.signed_rank(d)
        self.assertTrue(any(abs(lo - w) < 1e-9 for w in walsh))
        self.assertTrue(any(abs(hi - w) < 1e-9 for w in walsh))
        self.assertAlmostEqual(est, (walsh[(len(walsh) - 1) // 2] + walsh[len(walsh) // 2]) / 2,
                               places=9)

    def test_too_few_pairs_refused(self):
        with self.assertRaises(ValueError):
            stats.signed_rank([0.1] * 5)


class Verdicts(unittest.TestCase):
    def test_slower_same_and_undecided(self):
        rng = random.Random(1)
        a = [2.0 * math.exp(rng.gauss(0, 0.001)) for _ in range(500)]
        slow = cmd_ab.analyse_layout(layout(a, [x * 1.05 for x in a]), 0.05, 0.2)
        self.assertEqual(slow["verdict"], "slower")
        self.assertAlmostEqual(slow["change"], 0.05, places=6)
        # noise symmetric about 0 by construction: p is 1, the interval narrow
        e = [rng.gauss(0, 0.001) for _ in range(250)]
        noise = [x * math.exp(d) for x, d in zip(a, e + [-d for d in e])]
        self.assertEqual(cmd_ab.analyse_layout(layout(a, noise), 0.05, 0.2)["verdict"], "same")
        wild = [x * math.exp(rng.gauss(0, 0.2)) for x in a[:20]]
        self.assertEqual(cmd_ab.analyse_layout(layout(a[:20], wild), 0.05, 0.2)["verdict"],
                         "undecided")

    def test_a_round_is_one_sample_however_many_threads(self):
        a = [2.0 + i / 1000 for i in range(100)]
        one = cmd_ab.round_ratios(layout(a, [x * 1.01 for x in a]))
        two = cmd_ab.round_ratios(layout(a, [x * 1.01 for x in a], threads=2))
        self.assertEqual(len(one), len(two))

    def test_disagreeing_layouts_or_trials_are_undecided(self):
        self.assertEqual(cmd_ab.combine(["slower", "slower"]), "slower")
        self.assertEqual(cmd_ab.combine(["slower", "same"]), "undecided")


class Binary(unittest.TestCase):
    def test_pairs_and_placements(self):
        rc, out, err = binary_ab("--a=linux", "--b=linux/planted-nops", "--layouts=0,16,32,48",
                                 *SHORT)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([l["layout"] for l in doc["layouts"]], [0, 16, 32, 48])
        for lay in doc["layouts"]:
            for side in "ab":
                # every hook and loop of the set at the layout's offset
                pl = lay["placement"][side]
                self.assertEqual({pl["trace_pc"], pl["loop_pc"], pl["trace_cmp8"],
                                  pl["trace_switch"]}, {lay["layout"]}, (side, lay))
            t = lay["threads"][0]
            self.assertGreater(t["pairs"], 0)
            self.assertEqual(len(t["a"]), t["pairs"])
            self.assertTrue(all(x > 0 for x in t["a"] + t["b"]))

    def test_kernel_object_hook_at_each_layout(self):
        # issue 24: the real object is not recompiled per layout; the copy
        # whose measured hook sits at the layout's offset is used
        kernels = [k for k in ("kernel-6.1", "kernel-6.12") if k in LISTED]
        if not kernels:
            self.skipTest("no kernel object linked (scripts/setup)")
        for k in kernels:
            for mode, hook in (("pertask", "trace_pc"), ("cmp", "trace_cmp8"),
                               ("switch16-pc", "trace_switch")):
                rc, out, err = binary_ab("--a=linux", "--b=" + k, "--mode=" + mode,
                                         "--layouts=0,16,32,48", *SHORT)
                self.assertEqual(rc, 0, err)
                for lay in json.loads(out)["layouts"]:
                    for side in "ab":
                        self.assertEqual(lay["placement"][side][hook], lay["layout"],
                                         (k, mode, side, lay["placement"]))
                    if mode == "pertask":
                        self.assertEqual(lay["placement"]["b"]["loop_pc"], lay["layout"])

    def test_two_threads_in_lockstep_and_a_mode_per_side(self):
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("one CPU")
        rc, out, err = binary_ab("--a=linux", "--b=proposed-linux-unique", "--mode=pertask",
                                 "--mode-b=guard-first", "--threads=2", *SHORT)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual((doc["mode_a"], doc["mode_b"]), ("pertask", "guard-first"))
        self.assertEqual(len(doc["layouts"][0]["threads"]), 2)
        self.assertEqual(len(set(doc["cpus"])), 2)

    def test_empty_against_a_unique_mode(self):
        # the shared buffer is set up by the side with a hook
        for b, mode in (("proposed-linux-unique", "guard-first"),
                        ("proposed-linux-uniq-hash", "hash-repeat")):
            rc, out, err = binary_ab("--a=empty", "--b=" + b, "--mode=" + mode, *SHORT)
            self.assertEqual(rc, 0, (b, err))
            self.assertGreater(json.loads(out)["layouts"][0]["threads"][0]["pairs"], 0)

    def test_bad_arguments_are_refused(self):
        for argv in (["--a=linux"], ["--a=linux", "--b=nosuch"], ["--a=linux", "--b=linux",
                     "--layouts=8"], ["--a=linux", "--b=linux", "--layouts=0,0"],
                     ["--a=linux", "--b=linux", "--threads=999"],
                     ["--a=linux", "--b=linux", "--time=-1"],
                     ["--a=linux", "--b=base:linux"],
                     ["--a=linux", "--b=linux", "--mode=nosuch"],
                     ["--a=linux", "--b=openbsd-1.49", "--mode=guard-first"]):
            with self.subTest(argv=argv):
                rc, out, err = binary_ab(*argv)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertIn("kcovbench ab:", err)


class Figures(unittest.TestCase):
    def test_figures_are_the_results(self):
        # docs/proposals.md's and docs/ab.md's ab figures are copied from
        # results/, never typed
        r = subprocess.run([os.path.join(ROOT, "scripts", "readme-figures"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_blocks_only_where_the_generator_looks(self):
        # a figures block anywhere else would never be checked
        for rel, name in (("docs/proposals.md", "proposals"), ("docs/ab.md", "ab-study")):
            with open(os.path.join(ROOT, rel)) as f:
                self.assertIn("<!-- figures:%s -->" % name, f.read(), rel)
        with open(os.path.join(ROOT, "README.md")) as f:
            self.assertNotIn("<!-- figures:", f.read())


class Driver(unittest.TestCase):
    def test_row_saved_and_reread(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run("ab", "linux", "linux/planted-nops", "--time", "0.1", "--modes", "pertask",
                    "cmp", "--out", tmp, "--name", "t")
            self.assertEqual(r.returncode, 0, r.stderr)
            for f in ("key.txt", "raw-ab.json.gz", "table.txt", "table.md", "table.csv",
                      "mail.txt"):
                self.assertTrue(os.path.exists(os.path.join(tmp, "t", f)), f)
            rows = [l for l in r.stdout.splitlines() if l.startswith(("pertask/1T", "cmp/1T"))]
            self.assertTrue(rows, r.stdout)
            again = run("ab", "--from", os.path.join(tmp, "t"))
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertIn("pertask/1T", again.stdout)

    def test_kernel_return_in_the_key(self):
        if "kernel-6.1" not in LISTED:
            self.skipTest("kernel-6.1 not linked (scripts/setup)")
        with tempfile.TemporaryDirectory() as tmp:
            for ret in ("ret", "thunk"):
                r = run("ab", "linux", "kernel-6.1", "--time", "0.1", "--kernel-return", ret,
                        "--out", tmp, "--name", ret, "--allow-dirty")
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(os.path.join(tmp, ret, "key.txt")) as f:
                    key = f.read()
                self.assertIn("kernel-return=%s;" % ret, key)
                self.assertIn("kernel-placement=", key)
                with open(os.path.join(tmp, ret, "kernel-key.txt")) as f:
                    kkey = f.read()
                self.assertIn("kernel-6.1: source=linux-source-6.1", kkey)
                self.assertIn("returns: %s" % ret, kkey)
        r = run("ab", "linux", "kernel-6.1", "--kernel-return", "jmp", "--no-save")
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_base_builds_beside_the_working_tree(self):
        r = run("ab", "linux", "linux", "--base", "HEAD", "--time", "0.1", "--no-save")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("base:linux", r.stdout)

    def test_refusals(self):
        for argv, what in ((["ab", "linux"], "needs A and B"),
                           (["ab", "linux", "nosuch", "--no-save"], "unknown config"),
                           (["ab", "linux", "base:linux", "--no-save"], "needs --base"),
                           (["ab", "linux", "linux", "--base", "no-such-rev", "--no-save"],
                            "not a commit"),
                           (["ab", "--from", "/nonexistent"], "not an ab results"),
                           (["ab", "linux", "linux", "--from", "/tmp"], "no A, B")):
            with self.subTest(argv=argv):
                r = run(*argv)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(what, r.stderr)
                self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unit_main.run(__name__)
