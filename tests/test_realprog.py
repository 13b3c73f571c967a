#!/usr/bin/env python3
"""Tests of `kcovbench realprog` that need no download: the recipes (every
shipped one parses, bad ones are refused with file:line), the command line
(--list, unknown programs), the deb-src entries derived from apt's
configuration, the runtime (empty in the benchmark build), the
front-end-only objects (they record nothing) and the drain: on a small
instrumented program, drains every few microseconds count exactly the
records written, although many signals land inside a hook.
Run: python3 tests/test_realprog.py [-v]"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from kcb import (cmd_realprog, machine, realprog_build, realprog_measure,  # noqa: E402
                 realprog_source, realprog_work, recipe)
from kcb.common import Failure, UsageError  # noqa: E402

KCOVBENCH = os.path.join(ROOT, "kcovbench")
GOOD = ("Program: p\nDescription: d\nSource: s\nTree: t.c\nBuild:\n $CC $CFLAGS -c t.c\n"
        "Objects: t.o\nRun: {exe} 1\nRun-Small: {exe} 0\n")

# A branchy program that records a few million PCs in well under a second.
PROG = r"""
#include <stdio.h>
#include <stdint.h>
static uint64_t step(uint64_t x, int i)
{
	if (x & 1)
		x = 3 * x + 1;
	else
		x >>= 1;
	if (i % 3 == 0)
		x ^= (uint64_t)i;
	return x;
}
int main(void)
{
	uint64_t x = 27, sum = 0;
	for (int i = 0; i < 1000000; i++) {
		x = step(x | 2, i);
		sum += x;
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}
"""


class Recipes(unittest.TestCase):
    def test_shipped_recipes_parse(self):
        got = recipe.all_recipes()
        self.assertGreaterEqual(len(got), 3, [r.name for r in got])
        for r in got:
            self.assertIn("{exe}", r.run)
            self.assertTrue(r.objects)

    def test_bad_recipes_are_refused(self):
        recipe.parse(GOOD, "x.recipe")
        for bad, why in ((GOOD + "Colour: red\n", r"x.recipe:10: unknown field Colour"),
                         (GOOD.replace("Run: {exe} 1\n", ""), "missing Run"),
                         (GOOD.replace("Run: {exe} 1", "Run: prog 1"), r"Run has no \{exe\}"),
                         (" lost\n" + GOOD, r"x.recipe:1: a continuation line"),
                         (GOOD + "Output-Filter: (\n", "Output-Filter"),
                         (GOOD + "Tree: again\n", "Tree given twice"),
                         (GOOD.replace("{exe} 1", "{exe} 1 | cksum"), "without a shell"),
                         ("no colon here\n" + GOOD, r"x.recipe:1: want 'Field: value'"),
                         # hyperfine would split it only after the fetch and build
                         (GOOD.replace("{exe} 1", "{exe} 'a b"),
                          r"x.recipe:8: Run: No closing quotation"),
                         (GOOD.replace("{exe} 0", '{exe} "0'),
                          r"x.recipe:9: Run-Small: No closing quotation")):
            with self.assertRaisesRegex(UsageError, why):
                recipe.parse(bad, "x.recipe")

    def test_continuation_lines_keep_the_shell(self):
        f = recipe.parse(GOOD.replace("Build:\n $CC $CFLAGS -c t.c\n",
                                      "Build:\n a\n\tb c\n"), "x.recipe")
        self.assertEqual(f["Build"], "a\nb c")

    def test_readme_example_parses(self):
        text = open(os.path.join(ROOT, "realprog", "README.md")).read()
        ex = re.search(r"```\n(Program: .*?)```", text, re.S).group(1)
        f = recipe.parse(ex, "realprog/README.md")
        self.assertEqual(f["Program"], "bzip2")

    def test_list_shows_every_recipe(self):
        r = subprocess.run([KCOVBENCH, "realprog", "--list"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [l.split()[0] for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual(names, [x.name for x in recipe.all_recipes()])
        for n in ("sqlite", "zstd", "gawk"):
            self.assertIn(n, names)

    def test_unknown_program_and_too_few_runs_are_usage_errors(self):
        for args, why in ((["--program", "nosuch"], "no program nosuch"),
                          (["--runs", "2", "--rounds", "2"], "at least 10 runs"),
                          (["--configs", "nosuch"], "unknown configuration nosuch")):
            r = subprocess.run([KCOVBENCH, "realprog"] + args, capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn(why, r.stderr)


class MachineKey(unittest.TestCase):
    def test_failing_git_status_is_not_clean(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from test_cli import failing_git_status
        rc = recipe.Recipe("x.recipe", recipe.parse(GOOD, "x.recipe"))
        with failing_git_status():
            key = dict(cmd_realprog.machine_key(rc))
        self.assertEqual(key["git"], "abc1234-dirty")


class Apt(unittest.TestCase):
    def test_deb_src_from_deb822(self):
        text = ("Types: deb\n# a comment\nURIs: http://example.invalid/debian\n"
                "Suites: s s-updates\nComponents: main\nSigned-By: /k.gpg\n\n"
                "Types: deb\nEnabled: no\nURIs: http://example.invalid/off\nSuites: s\n"
                "Components: main\n\nTypes: deb-src\nURIs: http://example.invalid/src\n"
                "Suites: s\nComponents: main\n")
        self.assertEqual(realprog_source.src_from_deb822(text), [
            "Types: deb-src\nURIs: http://example.invalid/debian\nSuites: s s-updates\n"
            "Components: main\nSigned-By: /k.gpg"])
        self.assertEqual(realprog_source.src_from_list(
            "deb [signed-by=/k.gpg] http://example.invalid/d s main\n# deb x y z\n"),
            ["deb-src [signed-by=/k.gpg] http://example.invalid/d s main"])


class Runtime(unittest.TestCase):
    def test_runtime_is_empty_in_the_benchmark_build(self):
        # scripts/configure compiles every C file of bench/ into kcovbench
        flags = ["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                 "-Werror", "-D_GNU_SOURCE", "-c", os.path.join(ROOT, "bench", "instrument_rt.c")]
        with tempfile.TemporaryDirectory() as d:
            o = os.path.join(d, "rt.o")
            subprocess.run(flags + ["-o", o], check=True)
            self.assertEqual(subprocess.run(["nm", o], capture_output=True, text=True).stdout, "")
            for defs in (["-DKCB_RT_SHARED=0"], ["-DKCB_RT_SHARED=1"], ["-DKCB_RT_EMPTY=1"]):
                subprocess.run(flags + ["-DKCB_INSTRUMENT_RT"] + defs + ["-o", o], check=True)
                syms = subprocess.run(["nm", o], capture_output=True, text=True).stdout
                self.assertIn("__sanitizer_cov_trace_cmpd", syms)


class Drain(unittest.TestCase):
    """The small program linked as realprog links a build."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        realprog_work.WORK = cls.tmp.name        # hooks and runtime objects go here
        src = os.path.join(cls.tmp.name, "p.c")
        with open(src, "w") as f:
            f.write(PROG)
        cls.obj = os.path.join(cls.tmp.name, "p.o")
        subprocess.run(["gcc", "-O1", "-fsanitize-coverage=trace-pc", "-c", src, "-o", cls.obj],
                       check=True)
        subprocess.run(["ninja", "-C", ROOT, "feonly"], check=True, stdout=subprocess.DEVNULL)
        cls.rt, cls.kcb = realprog_build.runtime()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def link(self, fe, pair, fe_only=False):
        out = os.path.join(self.tmp.name, "p-%s-%s-%d" % (fe, pair, fe_only))
        subprocess.run(["gcc", "-o", out, self.obj] + self.kcb +
                       [realprog_build.hooks(fe, pair, fe_only), self.rt["pertask"]] + realprog_build.LIBS,
                       check=True)
        return out

    def stats(self, exe, **env):
        r = subprocess.run([exe], capture_output=True, text=True,
                           env=dict(os.environ, KCB_RT_STATS="1", **env))
        self.assertEqual(r.returncode, 0, r.stderr)
        m = realprog_measure.STATS.search(r.stderr)
        self.assertTrue(m, r.stderr)
        v = [int(x) for x in m.groups()]
        return r.stdout, dict(zip(("drains", "in_hook", "records"), v[:3])), v[-1]

    def test_drains_count_exactly_though_signals_land_in_hooks(self):
        for fe, pair in (("lnx", "plain_count_first"), ("lnx", "plain_store_first"),
                         ("obsd_149", "cas")):
            exe = self.link(fe, pair)
            # one drain, at exit, into a buffer that holds everything
            out0, exact, bad0 = self.stats(exe, KCB_RT_PERIOD_US=str(3600 * 10 ** 6),
                                           KCB_RT_WORDS=str(1 << 25))
            self.assertEqual(exact["drains"], 0)
            # a drain every 13 us: thousands of signals inside a hook
            out1, got, bad1 = self.stats(exe, KCB_RT_PERIOD_US="13")
            print("%s/%s: %d records exact; drained %d in %d drains, %d signals in a hook "
                  "retried" % (fe, pair, exact["records"], got["records"], got["drains"],
                               got["in_hook"]), file=sys.stderr)
            self.assertEqual(out0, out1)
            self.assertEqual((bad0, bad1), (0, 0))
            self.assertGreater(exact["records"], 10 ** 6)
            self.assertGreater(got["in_hook"], 0, "no drain landed in a hook: nothing tested")
            self.assertEqual(got["records"], exact["records"])

    def link_kernel(self, name, kid):
        # as realprog_build.build links a kernel-* configuration
        out = os.path.join(self.tmp.name, "p-kobj-%s" % kid)
        subprocess.run(["gcc", "-o", out, self.obj] + self.kcb +
                       [realprog_build.kobj_hooks(kid), realprog_build.kobj_runtime(kid, name)] +
                       realprog_build.LIBS + realprog_build.kobj_link_flags(), check=True)
        return out

    def test_kernel_objects_drain_exactly(self):
        # issue 24: the real kcov.o's hooks in the program (-no-pie, %gs
        # set up before the first hook), the same drain, the same count of
        # records as the replica's
        kernels = realprog_build.kernel_configs()
        if not kernels:
            self.skipTest("no kernel object linked (scripts/setup builds them)")
        _, ref, _ = self.stats(self.link("lnx", "plain_count_first"),
                               KCB_RT_PERIOD_US=str(3600 * 10 ** 6), KCB_RT_WORDS=str(1 << 25))
        for name, _, kid in kernels:
            exe = self.link_kernel(name, kid)
            out0, exact, bad0 = self.stats(exe, KCB_RT_PERIOD_US=str(3600 * 10 ** 6),
                                           KCB_RT_WORDS=str(1 << 25))
            out1, got, bad1 = self.stats(exe, KCB_RT_PERIOD_US="13")
            print("%s: %d records exact; drained %d in %d drains, %d signals in a hook "
                  "retried" % (name, exact["records"], got["records"], got["drains"],
                               got["in_hook"]), file=sys.stderr)
            self.assertEqual(out0, out1)
            self.assertEqual((bad0, bad1), (0, 0))
            self.assertEqual(exact["records"], ref["records"], name)
            self.assertGreater(got["in_hook"], 0, "no drain landed in a hook: nothing tested")
            self.assertEqual(got["records"], exact["records"], name)

    def test_front_end_only_records_nothing(self):
        _, st, _ = self.stats(self.link("lnx", None, True))
        self.assertEqual(st["records"], 0)
        dis = subprocess.run(["objdump", "-d", os.path.join(ROOT, "build", "feonly",
                                                            "variants_fe_lnx.o")],
                             capture_output=True, text=True, check=True).stdout
        body = re.search(r"<kcb_lnx__fe_only__trace_pc>:\n(.*?)\n\n", dis, re.S).group(1)
        self.assertIn("%fs:", body)     # the lookup of current is there
        self.assertNotIn("lock", body)


class Publishing(unittest.TestCase):
    """realprog's results appear whole or not at all, through run's
    staging, and a tree with changes may not publish into results/.  The
    fetch, build, check and timing are stand-ins: nothing is downloaded."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="kcb-realprog-")
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        self.fetched = []

    def main(self, out, hyperfine, *extra):
        import argparse
        from unittest import mock
        ap = argparse.ArgumentParser()
        cmd_realprog.add_arguments(ap)
        args = ap.parse_args(["--program", "sqlite", "--out", out, "--no-callgrind",
                              "--configs", "upstream"] + list(extra))
        checked = {run: {"%s/linux" % sid: {"records": 1} for sid, _, _ in cmd_realprog.SETS}
                   for run in ("Run-Small", "Run")}

        def fetch(rc):
            self.fetched.append(rc.name)
            return self.tmp, self.tmp

        def write(d, ctx, cmds):
            with open(os.path.join(d, "README.md"), "w") as f:
                f.write("new\n")
        with mock.patch.object(cmd_realprog, "fetch", fetch), \
                mock.patch.object(cmd_realprog, "build", lambda rc, tree, which: {"linux": "x"}), \
                mock.patch.object(cmd_realprog, "check", lambda *a: checked), \
                mock.patch.object(cmd_realprog, "hyperfine", hyperfine), \
                mock.patch.object(cmd_realprog, "which_configs", lambda arg: []), \
                mock.patch.object(cmd_realprog, "machine_key", lambda rc: [("git", "abc1234")]), \
                mock.patch.object(cmd_realprog.shutil, "which", lambda tool: "/bin/" + tool), \
                mock.patch.object(cmd_realprog.report, "write", write), \
                mock.patch.object(cmd_realprog.report, "write_index", lambda out: None), \
                mock.patch.object(cmd_realprog, "say", lambda msg: None):
            return cmd_realprog.main(args)

    def old_set(self):
        d = os.path.join(self.tmp, "out", "sqlite")
        os.makedirs(d)
        for name in ("hyperfine-round1.json", "hyperfine-round9.json", "README.md"):
            with open(os.path.join(d, name), "w") as f:
                f.write("old\n")
        return d

    @staticmethod
    def rounds(fail):
        def hyperfine(rc, bins, run_dir, runs, rounds, cpu, out, *shown):
            with open(os.path.join(out, "hyperfine-round1.json"), "w") as f:
                f.write("new\n")
            if fail:
                raise Failure("hyperfine exited 1")
            return [], {}
        return hyperfine

    def test_a_failed_round_leaves_the_old_set_whole(self):
        # the old rounds used to be deleted and the new ones written in place
        d = self.old_set()
        with self.assertRaises(Failure):
            self.main(os.path.join(self.tmp, "out"), self.rounds(True))
        self.assertEqual(sorted(os.listdir(os.path.dirname(d))), ["sqlite"])
        for name in ("hyperfine-round1.json", "hyperfine-round9.json", "README.md"):
            with open(os.path.join(d, name)) as f:
                self.assertEqual(f.read(), "old\n", name)

    def test_a_finished_run_replaces_the_whole_set(self):
        d = self.old_set()
        self.assertEqual(self.main(os.path.join(self.tmp, "out"), self.rounds(False)), 0)
        self.assertEqual(sorted(os.listdir(os.path.dirname(d))), ["sqlite"])
        self.assertEqual(sorted(os.listdir(d)), ["README.md", "hyperfine-round1.json"])

    def test_a_tree_with_changes_may_not_publish_into_results(self):
        from unittest import mock
        out = os.path.join(ROOT, "results", "kcb-test-realprog-%d" % os.getpid())
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", out]))
        # machine.tree_git asks tree_dirty (no create=True: a patch of a name
        # that is not there would pass on a dirty tree and fail on a clean one)
        with mock.patch.object(machine, "tree_dirty", lambda *a: True):
            with self.assertRaises(UsageError) as e:
                self.main(out, self.rounds(False))
        self.assertIn("clean, committed tree", str(e.exception))
        self.assertEqual(self.fetched, [])          # refused before the fetch
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unit_main
    unit_main.run(__name__)
