#!/usr/bin/env python3
"""Tests of ./kcovbench, the Python driver: bad input and ^C (exit 2 / 130,
nothing left behind), the statistics behind compare, the table writer, a
real short run and its plot.  Run: python3 tests/test_cli.py"""
import contextlib
import json
import math
import statistics
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from kcb import machine, registry, results, stats, table  # noqa: E402
from kcb.common import UsageError  # noqa: E402

KCOVBENCH = os.path.join(ROOT, "kcovbench")
SMALL = ["--configs", "linux", "--modes", "pertask", "--threads", "1",
         "--duration", "0.05", "--repetitions", "2"]


def kcovbench(*args, timeout=300, env=None):
    return subprocess.run([KCOVBENCH] + list(args), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=dict(os.environ, **(env or {})))


def fake_raw(path, series, context=None):
    """A raw.json in Google Benchmark 1.7.1's shape: series maps
    "config/mode/irq:0" + threads to ns/op per repetition; context adds
    to the file's context."""
    runs = []
    for (name, threads), xs in series.items():
        run_name = "%s/iterations:1/manual_time/threads:%d" % (name, threads)
        for i, x in enumerate(xs):
            runs.append(dict(name=run_name, run_name=run_name, run_type="iteration",
                             repetitions=len(xs), repetition_index=i, threads=threads,
                             iterations=1, real_time=2e8, cpu_time=1e5, time_unit="ns",
                             ns_per_op=x, ops_per_s=1e9 / x, pinned=threads))
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "raw.json"), "w") as f:
        json.dump({"context": dict({"num_cpus": 2, "kcb_hwcounters": "no: test"},
                                   **(context or {})),
                   "benchmarks": runs}, f)
    return path


FAKE_GIT = """#!/bin/sh
# rev-parse answers; status fails, as in a tree git cannot read
case "$*" in
*rev-parse*) echo abc1234;;
*status*) echo "fatal: index file corrupt" >&2; exit 128;;
*) exit 1;;
esac
"""


@contextlib.contextmanager
def failing_git_status():
    """A git on PATH whose status fails (shared with test_realprog.py)."""
    with tempfile.TemporaryDirectory(prefix="kcb-git-") as d:
        with open(os.path.join(d, "git"), "w") as f:
            f.write(FAKE_GIT)
        os.chmod(os.path.join(d, "git"), 0o755)
        old = os.environ["PATH"]
        os.environ["PATH"] = d + os.pathsep + old
        try:
            yield
        finally:
            os.environ["PATH"] = old


class TempDir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="kcb-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def assertBadInput(self, r, *words):
        """Exit 2, a message naming the problem, and nothing written."""
        self.assertEqual(r.returncode, 2, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


class Stats(unittest.TestCase):
    def test_exact_fully_separated(self):
        # only 2 of the C(18, 9) orderings are as extreme, both sides counted
        _, p = stats.mann_whitney(range(1, 10), range(10, 19))
        self.assertAlmostEqual(p, 2 / math.comb(18, 9))

    def test_exact_three_each_never_significant(self):
        _, p = stats.mann_whitney([1, 2, 3], [4, 5, 6])
        self.assertAlmostEqual(p, 0.1)

    def test_exact_distribution_sums_to_one(self):
        self.assertEqual(sum(stats._u_counts(5, 7)), math.comb(12, 5))

    def test_normal_with_ties(self):
        # by hand: ranks 1 (x), 3 3 3 (x x y), 5 6 (y): U_x = 7 - 6 = 1;
        # mean 4.5; var = 9/12 * (7 - (27 - 3) / (6 * 5)) = 4.65;
        # z = (|1 - 4.5| - 0.5) / sqrt(4.65)
        u, p = stats.mann_whitney([1, 2, 2], [2, 3, 4])
        self.assertEqual(u, 1)
        self.assertAlmostEqual(p, math.erfc(3 / math.sqrt(4.65) / math.sqrt(2)))

    def test_normal_close_to_exact(self):
        x, y = range(0, 40, 2), range(7, 47, 2)         # 40 values: normal path
        _, p_normal = stats.mann_whitney(x, y)
        counts = stats._u_counts(20, 20)
        u = sum(1 for a in x for b in y if a > b)
        p_exact = 2 * sum(counts[:u + 1]) / math.comb(40, 20)
        self.assertLess(abs(p_normal - p_exact) / p_exact, 0.1)

    def test_false_positive_rate_is_alpha(self):
        # A/A with nothing changed: about 5% of rows may say "different"
        # at alpha 0.05 (a bit less: the exact test at n = 9 is discrete)
        rng = random.Random(1)
        trials = 2000
        hits = sum(stats.mann_whitney([rng.lognormvariate(0, 0.3) for _ in range(9)],
                                      [rng.lognormvariate(0, 0.3) for _ in range(9)])[1] < 0.05
                   for _ in range(trials))
        self.assertTrue(0.02 <= hits / trials <= 0.07, hits / trials)

    def test_hodges_lehmann_interval_by_brute_force(self):
        # The interval holds exactly the log-shifts the exact U test at 5%
        # does not reject: check it against a scan of shifts.
        rng = random.Random(7)
        for m, n in ((9, 9), (7, 10), (5, 5)):
            x = [rng.lognormvariate(0, 0.2) for _ in range(m)]
            y = [rng.lognormvariate(0.1, 0.2) for _ in range(n)]
            est, lo, hi = stats.hodges_lehmann(x, y)
            d = sorted(math.log(b) - math.log(a) for a in x for b in y)
            self.assertAlmostEqual(math.log1p(est), statistics.median(d))
            inside = [s for s in (d[i] + 1e-9 for i in range(len(d) - 1))
                      if stats.mann_whitney([math.log(v) + s for v in x],
                                            [math.log(v) for v in y])[1] > 0.05]
            self.assertAlmostEqual(math.log1p(lo), min(inside) - 1e-9, places=6)
            self.assertAlmostEqual(math.log1p(hi), max(inside) + 1e-9 - 1e-9, delta=1e-6 +
                                   max(b - a for a, b in zip(d, d[1:])))
        self.assertEqual(stats.hodges_lehmann([1, 2, 3], [1, 2, 3])[1], None)

    def test_bimodal(self):
        self.assertTrue(stats.bimodal([1.0, 1.01, 1.02, 1.5, 1.51, 1.52]))
        self.assertFalse(stats.bimodal([1.0, 1.01, 1.02, 1.03, 1.04, 1.05]))
        self.assertFalse(stats.bimodal([1.0, 1.01, 1.02, 1.03, 1.5, 1.51]))  # two outliers

    def test_all_equal_and_symmetric(self):
        self.assertEqual(stats.mann_whitney([5] * 9, [5] * 9)[1], 1.0)
        a, b = [3, 1, 4, 1, 5, 9, 2, 6, 5], [2, 7, 1, 8, 2, 8, 1, 8, 2]
        self.assertAlmostEqual(stats.mann_whitney(a, b)[1], stats.mann_whitney(b, a)[1])


class Provenance(unittest.TestCase):
    def test_dirty_build_may_not_publish_into_results(self):
        res = os.path.join(ROOT, "results", "x")
        for git in ("abc123-dirty", "unknown"):
            with self.assertRaises(UsageError):
                machine.publishable(res, git, False)
            machine.publishable(res, git, True)             # --allow-dirty
            machine.publishable("/tmp/elsewhere", git, False)
        machine.publishable(res, "abc123", False)

    def test_failing_git_status_is_not_clean(self):
        with failing_git_status():
            self.assertEqual(machine.tree_git(), "abc1234-dirty")

    def test_build_stamp_is_read(self):
        self.assertRegex(machine.built_git(), r"^([0-9a-f]{7,}(-dirty)?|unknown)$")


class Tables(unittest.TestCase):
    def test_txt_fits_72_columns(self):
        header = ["config/mode"] + ["%d threads" % t for t in range(1, 17)]
        rows = [["freebsd/plain-store-first+write-then-cas/pertask/irq:1"] +
                ["123.4 ±12%"] * 16, ["linux/cmp"] + ["1.23 ±0.4%"] * 16]
        text = table.txt(header, rows)
        self.assertTrue(all(len(l) <= 72 for l in text.splitlines()), text)
        self.assertEqual(text.count("123.4 ±12%"), 16)
        self.assertIn("\nlinux/cmp ", text)

    def test_md_and_csv(self):
        header, rows = ["a", "b"], [["x|y", "1"]]
        self.assertEqual(table.md(header, rows), "| a | b |\n|---|---:|\n| x\\|y | 1 |\n")
        self.assertEqual(table.csv_text(header, rows), "a,b\nx|y,1\n")


class Compare(TempDir):
    def series(self, scale):
        base = [10.0, 10.2, 9.9, 10.1, 10.05, 9.95, 10.3, 9.8, 10.15]
        return {("linux/pertask/irq:0", 1): [x * scale for x in base],
                ("linux/shared/irq:0", 2): [x * 2 for x in base]}

    def test_verdicts(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        b = fake_raw(os.path.join(self.tmp, "b"), self.series(1.2))
        c = fake_raw(os.path.join(self.tmp, "c"), self.series(0.8))
        r = kcovbench("compare", a, b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"linux/pertask +1 .*\+20\.0%.* slower")
        self.assertRegex(r.stdout, r"linux/shared +2 .* same")
        self.assertNotIn("warning", r.stderr)
        r = kcovbench("compare", a, os.path.join(c, "raw.json"))
        self.assertRegex(r.stdout, r"linux/pertask +1 .*-20\.0%.* faster")
        self.assertIn("1 faster, 0 slower, 0 below floor, 1 same, 0 undecided",
                      " ".join(r.stdout.split()))
        # every row has its change and interval
        self.assertRegex(r.stdout, r"linux/pertask +1 +9/9 .*-20\.0% +\[-2\d\.\d, -1\d\.\d\]")

    def test_empty_baseline_moved(self):
        base = self.series(1.0)
        base[("empty/pertask/irq:0", 1)] = [1.0 + i / 100 for i in range(9)]
        moved = dict(base)
        moved[("empty/pertask/irq:0", 1)] = [2.0 + i / 100 for i in range(9)]
        a = fake_raw(os.path.join(self.tmp, "a"), base)
        b = fake_raw(os.path.join(self.tmp, "b"), moved)
        self.assertNotIn("empty hook changed", kcovbench("compare", a, a).stdout)
        self.assertIn("empty hook changed significantly in 1 of 1",
                      " ".join(kcovbench("compare", a, b).stdout.split()))

    def test_empty_hook_small_move_still_warns(self):
        # +3% with p < 0.001 is under the floor (below floor), but the
        # harness moved: the warning tests the raw change
        base = {("empty/pertask/irq:0", 1): [1.0 + i / 1000 for i in range(9)]}
        moved = {k: [x * 1.03 for x in v] for k, v in base.items()}
        a = fake_raw(os.path.join(self.tmp, "a"), base)
        b = fake_raw(os.path.join(self.tmp, "b"), moved)
        out = kcovbench("compare", a, b).stdout
        self.assertIn("below floor", out)
        self.assertIn("empty hook changed significantly", " ".join(out.split()))

    def test_three_repetitions_are_undecided(self):
        a = fake_raw(os.path.join(self.tmp, "a"), {("linux/cmp/irq:0", 1): [1.0, 1.1, 1.2]})
        b = fake_raw(os.path.join(self.tmp, "b"), {("linux/cmp/irq:0", 1): [3.0, 3.1, 3.2]})
        out = kcovbench("compare", a, b).stdout
        self.assertRegex(out, r"linux/cmp .*too few.* undecided")
        self.assertNotIn(" same\n", out)

    def test_wide_interval_is_undecided_not_same(self):
        rng = random.Random(3)
        noisy = [rng.lognormvariate(0, 0.3) for _ in range(9)]
        a = fake_raw(os.path.join(self.tmp, "a"), {("linux/cmp/irq:0", 1): noisy})
        b = fake_raw(os.path.join(self.tmp, "b"), {("linux/cmp/irq:0", 1): noisy[::-1]})
        self.assertRegex(kcovbench("compare", a, b).stdout, r"linux/cmp .* undecided")

    def test_rows_in_one_run_only_are_listed(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        s = self.series(1.0)
        s[("netbsd/cmp/irq:0", 1)] = [1.0] * 9
        b = fake_raw(os.path.join(self.tmp, "b"), s)
        out = " ".join(kcovbench("compare", a, b).stdout.split())
        self.assertIn("only in B (1): netbsd/cmp/irq:0", out)

    def test_different_machines_refused(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        b = fake_raw(os.path.join(self.tmp, "b"), self.series(1.0))
        for d, cpu in ((a, "AMD EPYC"), (b, "Intel(R) Xeon(R) CPU @ 2.20GHz")):
            with open(os.path.join(d, "key.txt"), "w") as f:
                f.write("cpu=%s; cpus=2; cores=2; kernel=6.1; compiler=gcc 12\n" % cpu)
        r = kcovbench("compare", a, b)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("cpu: A AMD EPYC | B Intel", r.stderr)
        r = kcovbench("compare", a, b, "--cross-machine")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("DIFFERENT MACHINES", r.stdout)

    def test_machines_told_apart_without_key_txt(self):
        # no key.txt on either side used to mean no check at all
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0),
                     {"kcb_cpu_model": "AMD EPYC", "kcb_kernel": "Linux 6.1"})
        for field, other in (("kcb_cpu_model", "Intel Xeon"), ("kcb_kernel", "Linux 6.18"),
                             ("num_cpus", 64), ("kcb_hot_cflags", "-O3")):
            b = fake_raw(os.path.join(self.tmp, "b-" + field), self.series(1.0),
                         {"kcb_cpu_model": "AMD EPYC", "kcb_kernel": "Linux 6.1", field: other})
            r = kcovbench("compare", a, b)
            self.assertEqual(r.returncode, 3, "%s: %s" % (field, r.stderr))
            self.assertIn(field + ":", r.stderr)
        self.assertEqual(kcovbench("compare", a, b, "--cross-machine").returncode, 0)

    def test_virt_smt_and_placement_compared(self):
        key = "cpu=AMD EPYC; cpus=2; cores=2; smt=1; kernel=6.1; virt=kvm; placement=spread\n"
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        with open(os.path.join(a, "key.txt"), "w") as f:
            f.write(key)
        for field, other in (("virt", "none"), ("smt", "2"), ("placement", "core")):
            b = fake_raw(os.path.join(self.tmp, "b-" + field), self.series(1.0))
            with open(os.path.join(b, "key.txt"), "w") as f:
                f.write(re.sub(field + "=[^;\n]*", field + "=" + other, key))
            r = kcovbench("compare", a, b)
            self.assertEqual(r.returncode, 3, "%s: %s" % (field, r.stderr))
            self.assertIn("%s: A" % field, r.stderr)

    def test_out_never_overwrites_an_input(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        b = fake_raw(os.path.join(self.tmp, "b"), self.series(1.2))
        raw_b = os.path.join(b, "raw.json")
        with open(raw_b) as f:
            before = f.read()
        for out in (raw_b, os.path.join(b, "report.txt")):
            r = kcovbench("compare", a, b, "--out", out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("--force", r.stderr)
            self.assertEqual(r.stdout, "")          # refused before printing
        with open(raw_b) as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(os.path.join(b, "report.txt")))
        done = os.path.join(self.tmp, "cmp.txt")
        self.assertEqual(kcovbench("compare", a, b, "--out", done).returncode, 0)
        r = kcovbench("compare", a, b, "--out", done)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("exists", r.stderr)
        r = kcovbench("compare", a, b, "--out", os.path.join(b, "report.txt"), "--force")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_few_repetitions_warn(self):
        s = {("empty/cmp/irq:0", 1): [1.0, 1.1, 1.2]}
        a = fake_raw(os.path.join(self.tmp, "a"), s)
        r = kcovbench("compare", a, a)
        self.assertEqual(r.returncode, 0)
        self.assertIn("only 3 repetitions", r.stderr)

    def test_out_file_and_bad_out(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        out = os.path.join(self.tmp, "cmp.txt")
        r = kcovbench("compare", a, a, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), r.stdout)
        r = kcovbench("compare", a, a, "--out", "/proc/kcb-nonexistent/cmp.txt")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot write", r.stderr)

    def test_min_change_floor(self):
        # a clean 2% shift: the bare U test calls it, the default 5% floor
        # does not; a 10% shift is called either way
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        b2 = fake_raw(os.path.join(self.tmp, "b2"), self.series(1.02))
        b10 = fake_raw(os.path.join(self.tmp, "b10"), self.series(1.10))
        self.assertIn("slower", kcovbench("compare", a, b2, "--min-change", "0").stdout)
        self.assertNotIn(" slower\n", kcovbench("compare", a, b2).stdout)
        self.assertIn("slower", kcovbench("compare", a, b10).stdout)
        self.assertEqual(kcovbench("compare", a, a, "--min-change", "-1").returncode, 2)
        self.assertEqual(kcovbench("compare", a, a, "--min-change", "x").returncode, 2)

    def test_bad_inputs(self):
        a = fake_raw(os.path.join(self.tmp, "a"), self.series(1.0))
        self.assertEqual(kcovbench("compare", a, self.tmp + "/none").returncode, 2)
        self.assertEqual(kcovbench("compare", a, a, "--alpha", "x").returncode, 2)
        b = fake_raw(os.path.join(self.tmp, "b"), {("netbsd/cmp/irq:0", 1): [1.0]})
        r = kcovbench("compare", a, b)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no benchmark", r.stderr)


class BadInput(TempDir):
    """Each is refused before anything runs: exit 2, message, no files."""

    def run_bad(self, *args):
        # a fresh --out: refused input must not even create it
        return kcovbench("run", "--out", os.path.join(self.tmp, "results"), "--name", "x",
                         *args)

    def test_unknown_config(self):
        self.assertBadInput(self.run_bad("--configs", "linux,nosuch"), "nosuch")

    def test_missing_kcovbench_bin(self):
        missing = os.path.join(self.tmp, "nosuch")
        for args in (["list"], ["run", "--out", os.path.join(self.tmp, "results")] + SMALL):
            r = subprocess.run([KCOVBENCH] + args, capture_output=True, text=True, cwd=ROOT,
                               timeout=60, env=dict(os.environ, KCOVBENCH_BIN=missing))
            self.assertNotIn("Traceback", r.stderr)
            self.assertBadInput(r, "KCOVBENCH_BIN=" + missing)

    def test_unknown_mode(self):
        self.assertBadInput(self.run_bad("--modes", "pertask,fast"), "fast")

    def test_threads(self):
        for t in ("0", "-1", "x", "1,0"):
            self.assertBadInput(self.run_bad("--threads", t), "thread count")
        self.assertBadInput(self.run_bad("--threads", "1000"), "--oversubscribe")

    def test_duration_and_repetitions(self):
        for d in ("abc", "0", "-1", "nan"):
            self.assertBadInput(self.run_bad("--duration", d), "duration")
        self.assertBadInput(self.run_bad("--repetitions", "0"), "repetitions")
        for w in ("100", "4096", "x", "16777217"):
            self.assertBadInput(self.run_bad("--buffer-words", w), "buffer words")
        for w in ("0", "-5"):
            self.assertBadInput(self.run_bad("--warmup", w), "warmup")

    def test_window_below_a_millisecond(self):
        # --duration 1e-12 measured a 0 ns window and published it
        for d in ("1e-12", "0.0009"):
            self.assertBadInput(self.run_bad("--duration", d), "duration")

    def test_name_too_long_is_a_message(self):
        r = kcovbench("run", "--out", os.path.join(self.tmp, "results"), "--name", "a" * 300,
                      *SMALL)
        self.assertNotIn("Traceback", r.stderr)
        self.assertBadInput(r, "name of 300 bytes")

    def test_irq_and_name(self):
        self.assertBadInput(self.run_bad("--irq", "2"), "irq")
        self.assertBadInput(self.run_bad("--name", "../escape"), "name")
        self.assertBadInput(self.run_bad("stray"), "stray")

    def test_unwritable_out(self):
        for out in ("/proc/kcb-nonexistent",                 # proc refuses mkdir
                    os.path.join(os.devnull, "results")):     # parent is a file
            r = kcovbench("run", "--out", out, *SMALL)
            self.assertBadInput(r, "cannot write", out)
            self.assertFalse(os.path.exists(out))

    def test_unknown_command(self):
        self.assertEqual(kcovbench("frobnicate").returncode, 2)
        self.assertEqual(kcovbench("plot", self.tmp + "/none").returncode, 2)


class Run(TempDir):
    """Real runs of the binary (short ones)."""

    @classmethod
    def setUpClass(cls):
        r = kcovbench("list")           # builds it if needed, outside any timing
        assert r.returncode == 0, r.stderr

    def test_run_writes_results(self):
        r = kcovbench("run", "--out", self.tmp, "--name", "t", *SMALL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.tmp), ["t"])     # no temp dir left over
        d = os.path.join(self.tmp, "t")
        self.assertEqual(sorted(os.listdir(d)),
                         ["console.txt", "key.txt", "raw.json", "table.csv", "table.md",
                          "table.txt"])
        with open(os.path.join(d, "table.txt")) as f:
            txt = f.read()
        self.assertEqual(r.stdout, txt)
        self.assertTrue(all(len(l) <= 72 for l in txt.splitlines()), txt)
        self.assertRegex(txt, r"\nlinux/pertask +\d")
        self.assertRegex(txt, r"\nempty/pertask +\d")       # the baseline always runs
        with open(os.path.join(d, "key.txt")) as f:
            key = f.read()
        for field in ("cpu=", "cores=", "smt=", "governor=", "kernel=", "virt=",
                      "compiler=", "libbenchmark=", "git=", "hwcounters=", "command: "):
            self.assertIn(field, key)
        with open(os.path.join(d, "table.csv")) as f:
            self.assertTrue(f.readline().startswith("benchmark,config,mode,irq,threads,"))

        r = kcovbench("run", "--out", self.tmp, "--name", "t", *SMALL)
        self.assertEqual(r.returncode, 2)                   # never overwrites
        self.assertIn("exists", r.stderr)

        if subprocess.run(["sh", "-c", "command -v gnuplot"], capture_output=True).returncode:
            self.skipTest("no gnuplot")
        r = kcovbench("plot", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in ("plot.svg", "plot.png"):
            self.assertGreater(os.path.getsize(os.path.join(d, f)), 1000)
        self.assertEqual(len(os.listdir(d)), 8)             # no temporary plot files

    def interrupt(self, whole_group):
        """^C 1.5 s into a run: exit 130, nothing left, no process left."""
        p = subprocess.Popen([KCOVBENCH, "run", "--out", self.tmp, "--duration", "1",
                              "--repetitions", "5"], cwd=ROOT, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        if whole_group:                 # what a terminal's ^C does
            os.killpg(p.pid, signal.SIGINT)
        else:                           # the driver alone: it must stop the binary
            p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertEqual(os.listdir(self.tmp), [])
        time.sleep(0.2)
        with self.assertRaises(ProcessLookupError):
            os.killpg(p.pid, 0)

    def test_controls_are_marked(self):
        """Every pair `list` marks as a control is one the tables mark, and
        a run of the planted control says so in its row."""
        r = kcovbench("list")
        listed = {}
        for line in r.stdout.splitlines():
            m = re.search(r"\[(BROKEN CONTROL|PLANTED CONTROL)\]", line)
            if m:
                pair = prev.split()[0]
                listed[pair] = m.group(1)
            prev = line
        self.assertTrue(listed)
        self.assertEqual(listed, registry.controls())
        r = kcovbench("run", "--out", self.tmp, "--name", "c", "--configs",
                      "linux/planted-nops", *SMALL[2:])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("linux/planted-nops/pertask [PLANTED CONTROL]", r.stdout)
        with open(os.path.join(self.tmp, "c", "table.csv")) as f:
            self.assertIn("[PLANTED CONTROL]", f.read())
        # the results file carries the flags it was written with
        context, _ = results.load(os.path.join(self.tmp, "c"))
        self.assertEqual(results.flags_of(context)[0], registry.controls())

    def test_proposals_are_marked(self):
        """Every name `list` marks [PROPOSAL] is one the tables mark, the
        proposals the issue names are there, `all` runs none of them, and
        a proposal's row says so in every table."""
        r = kcovbench("list")
        listed = {line.split()[0] for line in r.stdout.splitlines()
                  if "[PROPOSAL]" in line}
        self.assertEqual(listed, registry.proposals() - registry.unmerged())
        self.assertEqual(listed | registry.unmerged(), set(results.PROPOSALS))
        unmerged = {line.split()[0] for line in r.stdout.splitlines()
                    if "[UNMERGED UPSTREAM]" in line}
        self.assertEqual(unmerged, set(results.UNMERGED))
        self.assertTrue(unmerged)
        self.assertTrue(results.is_proposal("linux-ext-records"))
        self.assertTrue(results.is_unmerged("linux-ext-records/pertask"))
        self.assertFalse(results.is_unmerged("proposed-linux-ext-mode"))
        for name in ("owner-plain", "chunk", "linux-switch-once",
                     "proposed-openbsd", "proposed-linux", "pertask-pcpu-rcu"):
            self.assertIn(name, listed)
        r = kcovbench("run", "--out", self.tmp, "--name", "p", "--configs",
                      "proposed-linux", "linux", *SMALL[2:])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("proposed-linux/pertask [PROPOSAL]", r.stdout)
        self.assertNotIn("linux/pertask [PROPOSAL]", r.stdout.replace("proposed-linux", ""))
        with open(os.path.join(self.tmp, "p", "table.csv")) as f:
            self.assertIn("proposed-linux/pertask [PROPOSAL]", f.read())
        _, benches = results.load(os.path.join(self.tmp, "p"))
        marked = {b.config for b in benches if b.proposal}
        self.assertIn("proposed-linux", marked)
        self.assertNotIn("linux", marked)
        self.assertIn("remote/pertask-pcpu-rcu", marked)
        # `all` is every upstream front end x pair: no proposal in it
        r = kcovbench("run", "--out", self.tmp, "--name", "a", "--configs", "all",
                      "--modes", "pertask", "--threads", "1", "--duration", "0.001",
                      "--warmup", "0.001", "--repetitions", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, benches = results.load(os.path.join(self.tmp, "a"))
        hooks = [b for b in benches if not b.config.startswith("remote/")]
        self.assertTrue(hooks)
        self.assertFalse([b.config for b in hooks if b.proposal])
        self.assertFalse([b.config for b in hooks if b.control])

    def test_switch_modes_report_every_configuration(self):
        r = kcovbench("run", "--out", self.tmp, "--name", "s", "--modes", "switch",
                      "--threads", "1", "--duration", "0.01", "--warmup", "0.005",
                      "--repetitions", "1", "--", "--remote=none", "--lookups=none")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, benches = results.load(os.path.join(self.tmp, "s"))
        got = {(b.config, b.mode) for b in benches}
        configs = ["empty", "openbsd-1.48", "openbsd-1.49", "linux", "linux-5.x",
                   "freebsd", "netbsd"]
        want = {(c, m) for c in configs for n in (4, 16, 64, 256)
                for m in ("switch%d" % n, "switch%d-pc" % n)}
        self.assertEqual(got, want)

    def test_remote_request_reports_every_design(self):
        """--modes remote-request: every design on Linux's hooks (Linux's
        remote designs and pertask-pcpu-rcu) and the hooks-only baseline,
        at 1, 16 and 256 records, in task context and (all of them have it)
        softirq context, at each thread count, and no hook mode; the
        request-rate table has a share outside the hooks for each."""
        from kcb import remote_request
        r = kcovbench("run", "--out", self.tmp, "--name", "rr", "--modes", "remote-request",
                      "--threads", "1", "2", "--duration", "0.002", "--warmup", "0.001",
                      "--repetitions", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, benches = results.load(os.path.join(self.tmp, "rr"))
        designs = [n for n, _ in remote_request.linux_designs()]
        for d in ("linux-percpu", "linux-pertask-v4", "linux-pertask-locallock",
                  "pertask-pcpu-rcu"):
            self.assertIn(d, designs)
        got = {(b.row.replace(" [PROPOSAL]", ""), b.threads) for b in benches}
        want = {("remote-request/%s/recs:%d/%s" % (d, n, c), t)
                for d in designs + ["hooks-only"] for n in (1, 16, 256)
                for c in ("task", "softirq") for t in (1, 2)}
        self.assertEqual(got, want)
        self.assertIn("remote-request/pertask-pcpu-rcu/recs:16/task [PROPOSAL]", r.stdout)
        t = subprocess.run([os.path.join(ROOT, "scripts", "remote-request-table"),
                            os.path.join(self.tmp, "rr")], capture_output=True, text=True)
        self.assertEqual(t.returncode, 0, t.stderr)
        for d in designs:
            for n in (1, 16, 256):
                self.assertRegex(t.stdout, r"\| %s( \*\*\(proposal\)\*\*)? \| task \| %d \| "
                                 r"[0-9.]+ \[[^|]*\] \| -?[0-9]+%% \|" % (re.escape(d), n))
        # with other modes it adds to them; the binary refuses a stray name
        r = kcovbench("run", "--out", self.tmp, "--name", "rr2", "--modes", "remote-request",
                      "pertask", "--configs", "linux", "--threads", "1", "--duration",
                      "0.002", "--warmup", "0.001", "--repetitions", "1", "--",
                      "--remote=linux-percpu", "--remote-records=16")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, benches = results.load(os.path.join(self.tmp, "rr2"))
        self.assertEqual({b.row for b in benches},
                         {"empty/pertask", "linux/pertask",
                          "remote-request/hooks-only/recs:16/task",
                          "remote-request/hooks-only/recs:16/softirq",
                          "remote-request/linux-percpu/recs:16/task",
                          "remote-request/linux-percpu/recs:16/softirq"})

    def test_sigint_group(self):
        self.interrupt(True)

    def test_sigint_driver_only(self):
        self.interrupt(False)


TINY = ["--configs", "linux", "--modes", "pertask", "--threads", "1", "--duration", "0.05",
        "--repetitions", "1", "--", "--remote=none", "--lookups=none"]


class Publishing(TempDir):
    """Where a run's results go and how they appear: reserved names, no
    nesting, stale staging removed, one measurement at a time, the console
    kept in console.txt."""

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "res")
        lock_dir = tempfile.TemporaryDirectory(prefix="kcb-lock-")
        self.addCleanup(lock_dir.cleanup)
        # a lock of our own: other trees' runs must not hold these tests up
        self.env = {"KCOVBENCH_LOCK": os.path.join(lock_dir.name, "lock")}

    def run_tiny(self, *args, out=None):
        return kcovbench("run", "--out", out or self.out, *(list(args) + TINY), env=self.env)

    def start_tiny(self, *args):
        return subprocess.Popen([KCOVBENCH, "run", "--out", self.out] + list(args) + TINY,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, **self.env))

    def test_same_name_in_the_same_second(self):
        # the second used to run, then lose its results at the final rename
        runs = [self.start_tiny("--name", "same", "--wait") for _ in range(2)]
        done = [(p.wait(timeout=300), p.communicate()) for p in runs]
        codes = sorted(rc for rc, _ in done)
        self.assertEqual(codes, [0, 2], done)
        refused = [err for rc, (_, err) in done if rc == 2][0]
        self.assertIn("already exists", refused)
        self.assertNotIn("benchmark 1 of", refused)     # refused before it ran
        self.assertTrue(os.path.exists(os.path.join(self.out, "same", "raw.json")))
        # default names: both runs keep their results
        runs = [self.start_tiny("--wait") for _ in range(2)]
        for p in runs:
            self.assertEqual(p.wait(timeout=300), 0, p.communicate())
        sets = [d for d in os.listdir(self.out) if d != "same"]
        self.assertEqual(len(sets), 2, sets)
        for d in sets:
            self.assertTrue(os.path.exists(os.path.join(self.out, d, "raw.json")), d)

    def test_measure_lock_refuses_or_waits(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        from kcb import common
        old = os.environ.get("KCOVBENCH_LOCK")
        os.environ["KCOVBENCH_LOCK"] = self.env["KCOVBENCH_LOCK"]
        self.addCleanup(lambda: os.environ.pop("KCOVBENCH_LOCK") if old is None
                        else os.environ.__setitem__("KCOVBENCH_LOCK", old))
        with common.measure_lock():
            r = self.run_tiny("--name", "locked")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("another kcovbench (pid %d) is measuring" % os.getpid(), r.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.out, "locked")))
            p = self.start_tiny("--name", "waited", "--wait")
            time.sleep(3)
            self.assertIsNone(p.poll())
        _, err = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("waiting for kcovbench pid %d" % os.getpid(), err)

    def test_out_inside_a_results_set_is_refused(self):
        fake_raw(os.path.join(self.tmp, "set"), {("linux/pertask/irq:0", 1): [1.0]})
        for out in (os.path.join(self.tmp, "set"), os.path.join(self.tmp, "set", "sub")):
            r = self.run_tiny("--name", "nested", out=out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("inside the results set", r.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, "set"))), ["raw.json"])

    def test_out_in_the_repository_outside_results_is_refused(self):
        out = os.path.join(ROOT, "kcb-test-out-%d" % os.getpid())
        self.addCleanup(shutil.rmtree, out, True)
        r = self.run_tiny("--name", "x", out=out)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("outside results/", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "x")))

    def test_stale_staging_is_removed(self):
        gone = subprocess.Popen(["true"])
        gone.wait()                     # a pid nobody has now (reuse aside)
        stale = os.path.join(self.out, ".old.tmp-%d-abcd1234" % gone.pid)
        live = os.path.join(self.out, ".busy.tmp-%d-abcd1234" % os.getpid())
        for d in (stale, live, os.path.join(self.out, "old")):
            os.makedirs(d)
        with open(os.path.join(stale, "raw.json.part"), "w") as f:
            f.write("{")
        r = self.run_tiny("--name", "new")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("left by a driver that died", r.stderr)
        self.assertEqual(sorted(os.listdir(self.out)), [os.path.basename(live), "new"])

    def test_console_kept_progress_shown(self):
        r = self.run_tiny("--name", "quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Library was built as DEBUG", r.stderr)
        self.assertNotIn("linux/pertask/irq:0/iterations:1", r.stderr)
        with open(os.path.join(self.out, "quiet", "console.txt")) as f:
            self.assertIn("linux/pertask/irq:0/iterations:1", f.read())
        self.assertIn("only calls it once per repetition", " ".join(r.stdout.split()))
        r = self.run_tiny("--name", "loud", "--verbose")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("linux/pertask/irq:0/iterations:1", r.stderr)

    def test_progress_line_counts_benchmarks(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        from kcb import progress
        names = {"a/x/irq:0/threads:1", "b/x/irq:0/threads:1", "c/x/irq:0/threads:1"}
        p = progress.Progress(os.path.join(self.tmp, "console.txt"), names, 2, 30, False)
        p.feed(iter(["Run on (2 X 2596 MHz CPU s)\n", "a/x/irq:0/threads:1  5 ns\n",
                     "a/x/irq:0/threads:1  6 ns\n", "a/x/irq:0/threads:1_median 5 ns\n",
                     "b/x/irq:0/threads:1  5 ns\n"]))
        self.assertRegex(p.line(), r"benchmark 1 of 3, \d+ s elapsed, ~30 s expected")

    def test_table_n_is_the_measured_count(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        from kcb import run_output
        d = fake_raw(os.path.join(self.tmp, "r"), {("linux/pertask/irq:0", 1): [1.0] * 9,
                                                    ("linux/pertask/irq:0", 2): [2.0] * 7})
        _, benches = results.load(d)
        txt, md = run_output.render("r", "key", benches, 9)
        self.assertIn("n=9 repetitions", " ".join(txt.split()))
        self.assertRegex(txt, r"linux/pertask +1\.00 .*2\.00 \(2\.00-2\.00\) n=7")
        txt, _ = run_output.render("r", "key", benches[1:], 9)
        self.assertIn("n=7 repetitions", " ".join(txt.split()))

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"),
                         "needs root to run as nobody")
    def test_plot_into_an_unwritable_directory(self):
        d = fake_raw(os.path.join(self.tmp, "ro"), {("linux/pertask/irq:0", 1): [1.0, 1.1]})
        os.chmod(self.tmp, 0o755)
        os.chmod(d, 0o555)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            KCOVBENCH, "plot", d], capture_output=True, text=True, cwd=ROOT,
                           timeout=120)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot write to %s" % d, r.stderr)


BIN = os.path.join(ROOT, "build", "plain", "kcovbench")
# An LD_PRELOAD library for the C harness's failure paths: KCB_FAIL=
# calloc:NxS fails calloc(N, S); KCB_FAIL=setaffinity fails every pinning,
# setaffinity:main only thread 0's (Google Benchmark runs it on the main
# thread); aligned_alloc:A:K fails the K-th aligned_alloc(A, ...);
# stall:MS holds a thread other than 0 for MS ms in its set-up (the
# allocation of its trace buffer), after the start barrier: the scheduler
# holding it off through the whole window.
FAULTS_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static int main_thread(void)
{
	return syscall(SYS_gettid) == getpid();
}
static int fault(const char *name)
{
	const char *f = getenv("KCB_FAIL");

	return f && !strncmp(f, name, strlen(name));
}
void *aligned_alloc(size_t align, size_t size)
{
	static int calls;
	void *(*real)(size_t, size_t) = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, __func__);
	const char *f = getenv("KCB_FAIL");
	char *end;

	if (fault("aligned_alloc:") && strtoul(f + 14, &end, 10) == align && *end == ':' &&
	    __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) == atoi(end + 1))
		return NULL;
	return real(align, size);
}
int posix_memalign(void **p, size_t align, size_t size)
{
	int (*real)(void **, size_t, size_t) =
	    (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, __func__);

	if (fault("stall:") && size >= (1 << 20) && !main_thread()) {
		struct timespec ts = { 0, atol(getenv("KCB_FAIL") + 6) * 1000000L };

		fprintf(stderr, "faults: thread stalled before its window\n");
		nanosleep(&ts, NULL);
	}
	return real(p, align, size);
}
extern void *__libc_calloc(size_t n, size_t size);
void *calloc(size_t n, size_t size)
{
	const char *f = getenv("KCB_FAIL");
	char *end;

	if (f && !strncmp(f, "calloc:", 7) && strtoul(f + 7, &end, 10) == n &&
	    *end == 'x' && strtoul(end + 1, NULL, 10) == size)
		return NULL;
	return __libc_calloc(n, size);
}
int pthread_setaffinity_np(pthread_t t, size_t len, const cpu_set_t *set)
{
	int (*real)(pthread_t, size_t, const cpu_set_t *) =
	    (int (*)(pthread_t, size_t, const cpu_set_t *))dlsym(RTLD_NEXT, __func__);
	const char *f = getenv("KCB_FAIL");

	if (f && (!strcmp(f, "setaffinity") || (!strcmp(f, "setaffinity:main") && main_thread())))
		return EINVAL;
	return real(t, len, set);
}
"""
# Reads two counters from closed descriptors, as a counter gone bad would.
HWREAD_C = r"""
#include <inttypes.h>
#include <stdio.h>
#include "hwcount.h"
int main(void)
{
	struct hwcount h = { .fd_cycles = -1, .fd_insns = -1 };
	uint64_t cycles = 1, insns = 1;

	hw_read(&h, &cycles, &insns);
	printf("cycles=%" PRIu64 " insns=%" PRIu64 "\n", cycles, insns);
	return 0;
}
"""
QUICK = ["--configs=linux", "--modes=pertask", "--irq=0", "--threads=1", "--window=0.01",
         "--warmup=0.01", "--benchmark_repetitions=1", "--remote=none", "--lookups=none"]


TWO_THREADS = [a for a in QUICK if not a.startswith("--threads=")] + ["--threads=2"]


def bench_here(*args, env=None, timeout=60):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=dict(os.environ, **(env or {})))


class Harness(TempDir):
    """The C binary's failure paths: each ends with a message and a
    non-zero exit, never a row of zeros or a silent exit 0."""

    def compile(self, name, source, *args):
        src = os.path.join(self.tmp, name + ".c")
        with open(src, "w") as f:
            f.write(source)
        out = os.path.join(self.tmp, name)
        r = subprocess.run(["gcc", "-O1", "-o", out, src] + list(args),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def faults(self):
        return {"LD_PRELOAD": self.compile("faults.so", FAULTS_C, "-shared", "-fPIC", "-ldl")}

    def test_benchmark_error_fails_the_run(self):
        # every thread's pinning fails: the benchmarks end with SkipWithError
        r = bench_here("bench", *QUICK, env=dict(self.faults(), KCB_FAIL="setaffinity"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("ended with an error", r.stderr)

    def test_failed_allocation_is_an_error(self):
        env = self.faults()
        for fail, arg in (("calloc:7x4", "--threads=" + ",".join(["1"] * 7)),
                          ("calloc:7x8", "--configs=" + ",".join(["linux"] * 7))):
            r = bench_here("bench", *(QUICK + [arg]), env=dict(env, KCB_FAIL=fail))
            self.assertEqual(r.returncode, 1, "%s: %s" % (fail, r.stderr))
            self.assertIn("out of memory", r.stderr)

    def test_failed_window_allocations_are_errors(self):
        # the window's slots (1st aligned_alloc(128)), then bench.c's thread
        # state (2nd): a message and exit 1, not a write through NULL
        env = self.faults()
        for k in (1, 2):
            r = bench_here("bench", *TWO_THREADS, env=dict(env, KCB_FAIL="aligned_alloc:128:%d" % k))
            self.assertEqual(r.returncode, 1, "allocation %d: %s" % (k, r.stderr))
            self.assertIn("out of memory", r.stderr)

    def test_thread_0_set_up_failure_ends_the_run(self):
        # thread 1 used to wait forever in measure() for thread 0's window
        try:
            r = bench_here("bench", *TWO_THREADS, timeout=30,
                           env=dict(self.faults(), KCB_FAIL="setaffinity:main"))
        except subprocess.TimeoutExpired:
            self.fail("thread 0's failed set-up left the other thread waiting")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("thread 0 could not set up", r.stderr)

    def test_thread_held_off_through_the_window_is_not_halved(self):
        # Thread 1 sleeps through thread 0's whole window.  When every
        # thread reports, mean(ns/op) x sum(ops/s) >= threads (the means'
        # inequality); a thread with no batch in the window reports
        # nothing and Google Benchmark's average halves the other: 0.5.
        out = os.path.join(self.tmp, "raw.json")
        r = bench_here("bench", *TWO_THREADS, "--benchmark_repetitions=2",
                       "--benchmark_out=" + out, "--benchmark_out_format=json",
                       env=dict(self.faults(), KCB_FAIL="stall:300"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("thread stalled", r.stderr)
        with open(out) as f:
            rows = [b for b in json.load(f)["benchmarks"]
                    if b["run_type"] == "iteration" and b["threads"] == 2]
        self.assertEqual(len(rows), 4, rows)    # empty and linux, 2 repetitions
        for b in rows:
            self.assertGreaterEqual(b["ns_per_op"] * b["ops_per_s"] / 1e9, 2 * 0.999, b)
            self.assertGreater(b["share_min"], 0, b)

    def test_failed_counter_read_is_not_zero(self):
        exe = self.compile("hwread", HWREAD_C, "-I", os.path.join(ROOT, "bench"),
                           os.path.join(ROOT, "bench", "hwcount.c"))
        r = subprocess.run([exe], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("counter", r.stderr)
        self.assertNotIn("cycles=0", r.stdout)

    def test_pdeathsig_refuses_a_dead_or_bad_driver(self):
        gone = subprocess.Popen(["true"])
        gone.wait()                     # a pid nobody has now (reuse aside)
        r = bench_here("list", env={"KCOVBENCH_PDEATHSIG": str(gone.pid)})
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("driver", r.stderr)
        r = bench_here("list", env={"KCOVBENCH_PDEATHSIG": "x1"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("KCOVBENCH_PDEATHSIG", r.stderr)
        r = bench_here("list", env={"KCOVBENCH_PDEATHSIG": str(os.getpid())})
        self.assertEqual(r.returncode, 0, r.stderr)


def alive(pid):
    """Running, not a zombie a subreaper has yet to reap."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class DriverDeath(TempDir):
    """The driver killed mid-run: no benchmark process outlives it."""
    LONG = ["--configs", "linux", "--modes", "pertask", "--duration", "2",
            "--repetitions", "3"]

    def start(self):
        """A run whose binary is measuring: (driver, the binary's pid)."""
        p = subprocess.Popen([KCOVBENCH, "run", "--out", self.tmp] + self.LONG, cwd=ROOT,
                             start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        for _ in range(300):            # the build check and set-up come first
            found = self.ours("-P", str(p.pid), BIN + " bench")
            if found:
                time.sleep(0.3)
                return p, found[0]
            time.sleep(0.1)
        self.fail("the driver started no benchmark in 30 s")

    def ours(self, *args):
        r = subprocess.run(["pgrep"] + list(args[:-1]) + ["-f", re.escape(args[-1])],
                           capture_output=True, text=True)
        return [int(x) for x in r.stdout.split()]

    def assertNoBinaryLeft(self, child):
        time.sleep(2)
        # this tree's binary only: other trees' benchmarks may be running
        self.assertEqual(self.ours(BIN), [], "benchmark processes outlived the driver")
        self.assertFalse(alive(child), "the benchmark outlived the driver")

    def test_sigkill_leaves_no_benchmark_running(self):
        p, child = self.start()
        p.kill()
        p.wait(timeout=10)
        self.assertNoBinaryLeft(child)

    def test_sighup_is_sigterm(self):
        p, child = self.start()
        p.send_signal(signal.SIGHUP)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 128 + signal.SIGHUP, err)
        self.assertIn("interrupted", err)
        self.assertEqual(os.listdir(self.tmp), [])
        self.assertNoBinaryLeft(child)


class UniqueShrink(unittest.TestCase):
    def test_gcc_and_clang_rounds(self):
        """One GCC trace-pc round counted by distinct PC, and clang's
        trace-pc-guard copy through the unique hook in both modes: the
        unique mode keeps fewer records, and not none; the GCC round
        through Jiao's hash-table hook keeps one per distinct PC."""
        r = subprocess.run([os.path.join(ROOT, "build", "plain", "kcovbench"), "unique-shrink"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"records=(\d+) distinct_pcs=(\d+)", r.stdout)
        self.assertTrue(m, r.stdout)
        self.assertGreater(int(m.group(1)), int(m.group(2)))
        m = re.search(r"clang trace-pc-guard copy.*trace-pc mode records=(\d+) "
                      r"unique mode records=(\d+)", r.stdout)
        self.assertTrue(m, r.stdout)
        all_, first = int(m.group(1)), int(m.group(2))
        self.assertGreater(first, 0)
        self.assertGreater(all_, first)
        # Jiao's hash-table mode keeps exactly one record per distinct PC
        m = re.search(r"uniq-hash's hook: unique mode records=(\d+) distinct_pcs=(\d+)", r.stdout)
        self.assertTrue(m, r.stdout)
        self.assertGreater(int(m.group(1)), 0)
        self.assertEqual(m.group(1), m.group(2))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unit_main
    unit_main.run(__name__)
