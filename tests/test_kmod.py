#!/usr/bin/env python3
"""Tests of `kcovbench kmod run` that need no kernel: bad input (exit 2
before anything is built or booted), the specs it writes, reading a
guest's serial log, and the side-by-side table of kernel and userland
runs.  The runs themselves are tested under qemu (scripts/qemu-kmod-test,
scripts/qemu-kmod-badinput).  Run: python3 tests/test_kmod.py"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from kcb import cmd_kmod, kmod_target, results  # noqa: E402
from kcb.common import Failure  # noqa: E402


def run(*args):
    return subprocess.run([os.path.join(ROOT, "kcovbench"), "kmod", "run"] + list(args),
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def rep(name, threads, ns):
    """One repetition as kcb_json.c writes it (or Google Benchmark)."""
    run_name = "%s/irq:0/iterations:1/manual_time/threads:%d" % (name, threads)
    return dict(name=run_name, run_name=run_name, run_type="iteration", repetitions=2,
                repetition_index=0, threads=threads, iterations=threads, real_time=1e8,
                cpu_time=1e8, time_unit="ns", ns_per_op=ns, ops=1000, ops_per_s=1e9 / ns,
                pinned=threads, fair_spread=0, share_min=1, share_max=1, label="cpus=0")


class BadInput(unittest.TestCase):
    def assertBad(self, r, word):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(word, r.stderr)

    def test_refused_before_anything_runs(self):
        self.assertBad(run("--modes", "bogus"), "bogus")
        self.assertBad(run("--qemu", "i386"), "i386")
        self.assertBad(run("--qemu", "amd64", "--threads", "3"), "3 threads on 2 CPUs")
        self.assertBad(run("--qemu", "amd64", "--threads", "0"), "positive")
        self.assertBad(run("--qemu", "amd64", "--duration", "11"), "'11'")
        self.assertBad(run("--qemu", "amd64", "--duration", "x"), "'x'")
        self.assertBad(run("--qemu", "amd64", "--repetitions", "0"), "repetitions")
        self.assertBad(run("--qemu", "amd64", "--repetitions", "100", "--duration", "1"),
                       "60 s")
        self.assertBad(run("--qemu", "amd64", "--configs", "nosuch"), "nosuch")
        self.assertBad(run("--qemu", "amd64", "--name", "../x"), "name")
        # refused before the boot, not by the module two minutes into it
        self.assertBad(run("--qemu", "amd64", "--smp", "0"), "--smp 0")
        self.assertBad(run("--qemu", "amd64", "--smp", "-1"), "--smp -1")
        self.assertBad(run("--qemu", "amd64", "--placement", "list:0,0"), "appears twice")
        self.assertBad(run("--qemu", "amd64", "--placement", "list:0,2"), "--smp 2")
        self.assertBad(run("--qemu", "amd64", "--placement", "list:4294967296"),
                       "not in a guest")


class Specs(unittest.TestCase):
    def test_one_spec_per_config_mode_threads(self):
        s = cmd_kmod.specs_for(["empty", "linux", "netbsd/cas"], ["pertask", "workload"],
                           [1, 2], 200, 50, 5)
        # netbsd/cas has no workload copy: 3 x 2 x 2 less its 2
        self.assertEqual(len(s), 10)
        self.assertIn("config=linux mode=workload threads=2 window_ms=200 warmup_ms=50 reps=5", s)
        self.assertFalse([x for x in s if "netbsd/cas mode=workload" in x])

    def test_paired_specs(self):
        s = cmd_kmod.specs_for(["empty", "netbsd/cas"], ["pertask", "workload"], [2], 100, 5, 1,
                           ab="linux/planted-nops")
        # B has no workload copy: no paired workload run at all
        self.assertEqual(s, ["config=empty mode=pertask threads=2 window_ms=100 warmup_ms=5 "
                             "reps=1 ab=linux/planted-nops",
                             "config=netbsd/cas mode=pertask threads=2 window_ms=100 "
                             "warmup_ms=5 reps=1 ab=linux/planted-nops"])
        s = cmd_kmod.specs_for(["linux"], ["workload", "cmp"], [1], 100, 5, 1, ab="linux")
        self.assertEqual([x.split()[1] for x in s], ["mode=workload", "mode=cmp"])

    def test_upstream_configs_from_the_registry(self):
        self.assertIn("linux", cmd_kmod.upstream_configs())
        self.assertIn("openbsd-1.49", cmd_kmod.upstream_configs())


class Console(unittest.TestCase):
    def test_parse(self):
        doc = {"context": {"kcb_spec": "x"}, "benchmarks": [rep("kmod:linux/pertask", 1, 3.5)]}
        log = ("[ 1.0] boot noise\nkcb-run 1: config=linux\nkcb-json-begin 1\n%s\n"
               "kcb-json-end 1\nkcb-run 2: config=nosuch\n"
               "kcb-run-failed 2: failed -22: bad spec\n"
               "kcb-json-begin 3\n{ truncated\nkcb-json-end 3\n"
               "kcb-dmesg-begin\n[ 2.0] kcovbench: linux/pertask\nkcb-dmesg-end\n"
               % json.dumps(doc, indent=2))
        docs, failed, dmesg = kmod_target.parse_console(log)
        self.assertEqual(list(docs), [1])
        self.assertEqual(docs[1]["benchmarks"][0]["ns_per_op"], 3.5)
        self.assertEqual(failed[2], "failed -22: bad spec")
        self.assertIn("do not parse", failed[3])
        self.assertIn("kcovbench: linux/pertask", dmesg)


class Table(unittest.TestCase):
    def test_kmod_names_and_side_by_side(self):
        runs = [rep("linux/pertask", 1, 3.0), rep("linux/pertask", 2, 6.0),
                rep("kmod:linux/pertask", 1, 30.0), rep("kmod:linux/pertask", 2, 60.0),
                rep("kmod:netbsd/cas/pertask", 1, 40.0)]
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "raw.json"), "w") as f:
                json.dump({"context": {}, "benchmarks": runs}, f)
            _, benches = results.load(d)
        b = [x for x in benches if x.run_name.startswith("kmod:netbsd")][0]
        self.assertEqual((b.config, b.mode, b.irq, b.row), ("kmod:netbsd/cas", "pertask", "0",
                                                           "kmod:netbsd/cas/pertask"))
        txt, _ = cmd_kmod.side_by_side(benches, "title")
        rows = {line.split()[0]: line.split()[1:] for line in txt[1:]}
        self.assertEqual(rows["config/mode"], ["user", "1t", "kmod", "1t", "user", "2t",
                                               "kmod", "2t"])
        self.assertEqual(rows["linux/pertask"], ["3.00", "30.0", "6.00", "60.0"])
        self.assertEqual(rows["netbsd/cas/pertask"], ["-", "40.0", "-", "-"])

    def test_n_is_what_was_measured(self):
        # 3 repetitions asked, 2 measured in every cell: the title says 2
        runs = []
        for i in range(2):
            for name in ("linux/pertask", "kmod:linux/pertask"):
                r = rep(name, 1, 3.0 + i)
                r["repetition_index"] = i
                runs.append(r)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "raw.json"), "w") as f:
                json.dump({"context": {}, "benchmarks": runs}, f)
            _, benches = results.load(d)
        txt, _ = cmd_kmod.render("t", "key", benches, 3, "qemu")
        self.assertIn("n=2 repetitions measured", " ".join(txt.split()))


class Paired(unittest.TestCase):
    """A paired run's repetition (kcb_json.c's kcb_ab): the loader takes
    it as A's row, and the paired table shows each thread's summary."""

    def paired(self):
        r = rep("kmod:linux/pertask", 2, 1.5)
        r["kcb_ab"] = {"a": "linux", "b": "linux/planted-nops", "window_ns": 200000,
                       "seed": 2 ** 64 - 1, "batches": [3, 3], "threads": [
                           {"cpu": 0, "rounds": 10, "pairs": 9, "dropped": 1, "preempted": 1,
                            "migrated": 0, "a_ns_per_op": 1.5, "b_ns_per_op": 1.65,
                            "log_ratio_ppm": 95310},
                           {"cpu": 1, "rounds": 10, "pairs": 10, "dropped": 0, "preempted": 0,
                            "migrated": 0, "a_ns_per_op": 1.5, "b_ns_per_op": 1.5,
                            "log_ratio_ppm": -1000}]}
        return r

    def test_loaded_as_a_row(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "raw.json"), "w") as f:
                json.dump({"context": {}, "benchmarks": [self.paired()]}, f)
            _, benches = results.load(d)
        self.assertEqual([(b.row, b.samples) for b in benches], [("kmod:linux/pertask", [1.5])])

    def test_table(self):
        header, rows = cmd_kmod.ab_rows([rep("kmod:linux/pertask", 1, 1.0), self.paired()])
        self.assertEqual(len(rows), 2)
        row = dict(zip(header, rows[0]))
        self.assertEqual((row["A"], row["B"], row["mode"], row["pairs"], row["dropped"]),
                         ("linux", "linux/planted-nops", "pertask", "9", "1"))
        self.assertEqual((row["A ns/op"], row["B ns/op"], row["B/A"]),
                         ("1.500", "1.650", "+10.00%"))
        self.assertEqual(dict(zip(header, rows[1]))["B/A"], "-0.10%")
        txt, md = cmd_kmod.render("n", "key", [], 1, "qemu", [self.paired()])
        self.assertIn("linux/planted-nops", txt)
        self.assertIn("| linux | linux/planted-nops |", md)

    def test_malformed_summary_fails(self):
        r = self.paired()
        del r["kcb_ab"]["threads"][1]["pairs"]
        with self.assertRaisesRegex(Failure, "malformed"):
            cmd_kmod.ab_rows([r])


class RunHere(unittest.TestCase):
    """The load / run / unload sequence with stand-ins for make, mount,
    insmod, rmmod and dmesg on PATH, and a fake debugfs directory: each
    failure the Oops check or the next run depends on is seen."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="kcb-kmod-")
        tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        bin_dir = os.path.join(tmp, "bin")
        os.makedirs(bin_dir)
        for prog in ("make", "mount", "insmod", "rmmod", "dmesg"):
            with open(os.path.join(bin_dir, prog), "w") as f:
                f.write('#!/bin/sh\necho "[ 1.0] %s ran"\nexit ${FAKE_%s_RC:-0}\n'
                        % (prog, prog.upper()))
            os.chmod(os.path.join(bin_dir, prog), 0o755)
        ctl = os.path.join(tmp, "debugfs", "kcovbench")
        os.makedirs(ctl)
        with open(os.path.join(ctl, "results"), "w") as f:
            json.dump({"context": {}, "benchmarks": []}, f)
        real_exists = os.path.exists

        def exists(path):
            if path.endswith("/build/Makefile"):
                return True             # the running kernel's headers
            return False if path == "/sys/module/kcovbench" else real_exists(path)
        for patch in (mock.patch.dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"]),
                      mock.patch.object(kmod_target, "DEBUGFS", os.path.dirname(ctl)),
                      mock.patch.object(kmod_target.os, "geteuid", lambda: 0),
                      mock.patch.object(kmod_target.os.path, "exists", exists)):
            patch.start()
            self.addCleanup(patch.stop)

    def run_here(self, **rcs):
        with mock.patch.dict(os.environ, {"FAKE_%s_RC" % k.upper(): str(v)
                                          for k, v in rcs.items()}):
            return kmod_target.run_here(["config=linux mode=pertask threads=1"])

    def test_stand_ins_pass(self):
        docs, failed, dmesg, _, _ = self.run_here()
        self.assertEqual((list(docs), failed), ([1], {}))

    def test_failed_dmesg_is_not_an_empty_log(self):
        with self.assertRaisesRegex(Failure, "dmesg failed"):
            self.run_here(dmesg=1)

    def test_failed_rmmod_is_seen(self):
        with self.assertRaisesRegex(Failure, "rmmod kcovbench failed .*still loaded"):
            self.run_here(rmmod=1)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unit_main
    unit_main.run(__name__)
