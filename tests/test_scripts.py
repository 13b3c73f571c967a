#!/usr/bin/env python3
"""Tests of the shell and Python scripts under scripts/ that CI and the
evidence in results/ rely on: each failure is seen, nothing is half
published.  Each runs a copy of the script in a scratch tree with
stand-ins for what it calls (no benchmark, no build, no boot).
Run: python3 tests/test_scripts.py"""
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kcb.common import Failure  # noqa: E402
from test_cli import fake_raw  # noqa: E402


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def stub(path, body="exit 0"):
    write(path, "#!/bin/sh\n%s\n" % body, 0o755)


class Tree(unittest.TestCase):
    """A scratch tree holding copies of some scripts, and a bin/ put first
    on PATH for stand-ins."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="kcb-scripts-")
        self.addCleanup(self._tmp.cleanup)
        self.tree = os.path.join(self._tmp.name, "tree")
        self.bin = os.path.join(self._tmp.name, "bin")
        os.makedirs(self.bin)

    def copy(self, rel):
        dst = os.path.join(self.tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), dst)

    def path(self, *rel):
        return os.path.join(self.tree, *rel)

    def run_sh(self, *args, **env):
        # GIT_CEILING_DIRECTORIES: the scratch tree is a repository only
        # when a test makes it one
        env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"],
                   GIT_CEILING_DIRECTORIES=self._tmp.name, **env)
        return subprocess.run(["sh"] + list(args), cwd=self.tree, env=env,
                              capture_output=True, text=True, timeout=120)

    def git_init(self):
        for cmd in (["init", "-q"], ["add", "-A", "--", ".", ":!results"],
                    ["commit", "-qm", "t"]):
            subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t"] + cmd,
                           cwd=self.tree, check=True, capture_output=True)


class BrokenControlRuns(Tree):
    def test_a_crashed_run_fails_the_script(self):
        self.copy("scripts/broken-control-runs")
        stub(os.path.join(self.bin, "ninja"))
        # the first run catches the control, the second crashes
        stub(self.path("build", "plain", "test_twins"),
             'n=$(cat "$0.n" 2>/dev/null || echo 0); echo $((n + 1)) >"$0.n"\n'
             '[ "$n" = 0 ] || kill -SEGV $$\n'
             'echo "ok broken-control-caught-first-attempt linux/broken"')
        r = self.run_sh("scripts/broken-control-runs", "2", "10")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("test_twins exited 139", r.stdout)


class GateRuns(Tree):
    def setUp(self):
        super().setUp()
        self.copy("scripts/gate-runs")
        stub(self.path("kcovbench"), 'echo gate; exit "${FAKE_GATE_RC:-0}"')
        write(self.path("results", "gate", "runs", "01.log"), "old\n")

    def logs(self):
        with open(self.path("results", "gate", "runs", "01.log")) as f:
            return f.read()

    def test_failed_runs_keep_the_previous_logs(self):
        self.git_init()
        r = self.run_sh("scripts/gate-runs", "10", FAKE_GATE_RC="1")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(self.logs(), "old\n")
        kept = re.search(r"this attempt's logs: (\S+)", r.stderr)
        self.assertTrue(kept, r.stderr)
        self.addCleanup(shutil.rmtree, kept.group(1), True)
        with open(os.path.join(kept.group(1), "10.log")) as f:
            self.assertEqual(f.read(), "gate\nexit 1\n")
        self.assertEqual(sorted(os.listdir(self.path("results", "gate"))), ["runs"])

    def test_passing_runs_replace_them(self):
        self.git_init()
        r = self.run_sh("scripts/gate-runs", "10")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.logs(), "gate\nexit 0\n")
        self.assertEqual(sorted(os.listdir(self.path("results", "gate"))), ["key.txt", "runs"])
        self.assertEqual(sorted(os.listdir(self.path("results", "gate", "runs"))),
                         ["%02d.log" % i for i in range(1, 11)] + ["key.txt"])

    def test_failing_git_status_is_not_clean(self):
        r = self.run_sh("scripts/gate-runs", "1")       # not a repository
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("git status failed", r.stderr)
        self.assertEqual(self.logs(), "old\n")


class TestSuite(Tree):
    def test_missing_cli_suite_fails(self):
        """scripts/test with every suite a stand-in that passes, and
        tests/test_cli.py absent: the run must fail and name it."""
        self.copy("scripts/test")
        with open(self.path("scripts", "test")) as f:
            paths = set(re.findall(r"\b(?:build|scripts|tests)/[\w./-]+", f.read()))
        for rel in paths - {"scripts/test", "tests/test_cli.py"}:
            if rel.endswith(".py"):
                write(self.path(rel), "import sys\nsys.exit(0)\n")
            else:
                stub(self.path(rel))
        stub(os.path.join(self.bin, "ninja"))
        r = self.run_sh("scripts/test", KCB_SKIP_QEMU="1")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("failed suites: cli", r.stderr)


class BuildVersion(Tree):
    def test_failing_git_status_is_dirty(self):
        self.copy("scripts/build-version")
        from test_cli import FAKE_GIT
        write(os.path.join(self.bin, "git"), FAKE_GIT, 0o755)
        r = self.run_sh("scripts/build-version", "v.h")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("v.h")) as f:
            self.assertIn("#define KCB_GIT_DIRTY 1", f.read())




def dis(base=0, branch=8, pre=""):
    """A small hooks.dis: f at base (its jne going to f+branch), then g;
    pre is put before f (a function added before them)."""
    g = base + 0x40
    f = [(0, "mov    0x0(%%rip),%%eax        # %x <f+0x6>" % (base + 6)),
         (6, "jne    %x <f+0x%x>" % (base + branch, branch)),
         (8, "ret"), (9, "jmp    %x <g>" % g), (0xe, "nop")]
    return (pre + "f:\n" + "".join("%8x:\t%s\n" % (base + o, t) for o, t in f)
            + "  ;; f: 3 insns, 0 %fs loads, 0 lock, 0 calls, 0 indirect\n\n"
            + "g:\n%8x:\tret\n" % g
            + "  ;; g: 1 insns, 0 %fs loads, 0 lock, 0 calls, 0 indirect\n\n"
            + ";; summary: hook insns fs lock calls indirect\n"
            + ";; f      3  0  0  0  0\n;; g      1  0  0  0  0\n")


class HooksDisSame(unittest.TestCase):
    """scripts/hooks-dis-same: the same code at other addresses is the
    same; a changed instruction or a lost function is not."""

    def same(self, old, new):
        with tempfile.TemporaryDirectory() as d:
            a, b = os.path.join(d, "old"), os.path.join(d, "new")
            write(a, old)
            write(b, new)
            r = subprocess.run([os.path.join(ROOT, "scripts", "hooks-dis-same"), a, b],
                               capture_output=True, text=True)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r.returncode == 0, r.stdout

    def test_moved_is_same(self):
        old = dis()
        self.assertTrue(self.same(old, old)[0])
        # every address moved (a function added before): still the same
        ok, out = self.same(old, dis(0x100, pre="h:\n       0:\tret\n\n"))
        self.assertTrue(ok, out)
        self.assertIn("1 only in NEW", out)

    def test_changed_and_lost_fail(self):
        old = dis()
        ok, out = self.same(old, old.replace("jne ", "je  "))
        self.assertFalse(ok)
        self.assertIn("1 changed", out)
        ok, out = self.same(old, old.split("g:\n")[0])
        self.assertFalse(ok)
        self.assertIn("only in", out)

    def test_branch_to_the_trailing_jump_keeps_it(self):
        """A jmp after ret is gas's padding jump unless a branch goes to it
        (then it is a tail call, and a change to it counts)."""
        old = dis(branch=9)
        ok, _ = self.same(old, old.replace("jmp    40 <g>", "jmp    40 <h>"))
        self.assertFalse(ok)
        pad = dis()
        self.assertTrue(self.same(pad, pad.replace("jmp    40 <g>", "jmp    40 <h>"))[0])

def device_sweep():
    loader = importlib.machinery.SourceFileLoader(
        "device_sweep", os.path.join(ROOT, "scripts", "device-sweep"))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


class DeviceSweepCollect(Tree):
    """A sweep's OUT directory where spread ran and core did not."""

    def setUp(self):
        super().setUp()
        self.src, self.out = self.path("out"), self.path("results")
        os.makedirs(self.out)
        write(os.path.join(self.src, "state.txt"),
              "cpu_model=t\ncpus=2\nkernel=k\nseconds=3\nskipped=\n")
        write(os.path.join(self.src, "topology.json"),
              '{"cores": 2, "smt": 1, "classes": {"spread": {"cpus": "0,1"}, '
              '"core": {"cpus": "0,1"}, "smt": {"refused": "no SMT"}}}\n')
        fake_raw(self.path("spread"), {("linux/pertask/irq:0", 1): [3.0, 3.1]})
        os.rename(self.path("spread", "raw.json"), os.path.join(self.src, "spread.json"))
        self.sweep = device_sweep()

    def collect(self, partial=False):
        return self.sweep.collect(self.src, "t", self.out, "collect", partial=partial)

    def test_failed_class_stops_it(self):
        write(os.path.join(self.src, "errors.txt"), "core failed: 139\n")
        with self.assertRaisesRegex(Failure, r"core \(exit 139\); nothing published"):
            self.collect()
        self.assertEqual(os.listdir(self.out), [])

    def test_class_without_output_stops_it(self):
        with self.assertRaisesRegex(Failure, r"core \(no output"):
            self.collect()
        self.assertEqual(os.listdir(self.out), [])

    def test_partial_is_marked(self):
        write(os.path.join(self.src, "errors.txt"), "core failed: 139\n")
        made = self.collect(partial=True)
        self.assertEqual([os.path.basename(d) for d in made], ["t-spread"])
        with open(os.path.join(made[0], "key.txt")) as f:
            self.assertIn("partial sweep: failed or missing classes: core (exit 139)", f.read())


class QemuSet(unittest.TestCase):
    """kcb/qemu_set.py: a qemu script's set replaces the old one whole, and
    a write that fails leaves the old one as it was."""

    def setUp(self):
        from kcb import qemu_set
        self.qemu_set = qemu_set
        self.tmp = tempfile.mkdtemp()
        self.out = os.path.join(self.tmp, "set")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_replaces_whole(self):
        self.qemu_set.publish(self.out, {"a.json": "1", "old.txt": "x"})
        self.qemu_set.publish(self.out, {"a.json": "2", "README.md": "r"})
        self.assertEqual(sorted(os.listdir(self.out)), ["README.md", "a.json"])
        with open(os.path.join(self.out, "a.json")) as f:
            self.assertEqual(f.read(), "2")
        self.assertEqual(os.listdir(self.tmp), ["set"])

    def test_failed_write_keeps_old(self):
        self.qemu_set.publish(self.out, {"a.json": "1"})
        with self.assertRaises(OSError):
            self.qemu_set.publish(self.out, {"a.json": "2", "no/such/dir": "x"})
        self.assertEqual(os.listdir(self.out), ["a.json"])
        self.assertEqual(os.listdir(self.tmp), ["set"])

    def test_guest_benchmarks(self):
        log = os.path.join(self.tmp, "log")
        write(log, "noise\nkcb-json-begin a/task/1\n{\"benchmarks\": [{\"x\": 1}]}\n"
              "kcb-json-end a/task/1\nkcb-json-begin b\n{\"benchmarks\": [{\"x\": 2}]}\n"
              "kcb-json-end b\n")
        self.assertEqual(self.qemu_set.guest_benchmarks(log), [{"x": 1}, {"x": 2}])


if __name__ == "__main__":
    import unit_main
    unit_main.run(__name__)
