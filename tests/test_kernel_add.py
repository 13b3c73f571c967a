#!/usr/bin/env python3
"""`kcovbench kernel add` (issue 24, docs/kernel-configs.md).

- A patch that does not apply, one that does not build, and one that
  touches another file than kernel/kcov.c are refused with patch's or the
  compiler's message (scripts/kernel-obj on Debian's cached 6.12 tree).
- A user's tree: a copy of linux-source-6.12 (hardlinked, every file a
  build writes copied instead, so the cached tree is never written) with a
  small patch of its own applied, passed as --source DIR: the two commands
  of "Measure a patch from a kernel checkout", as shown, with a short
  --time.  The configuration is removed and the binary relinked after.

Needs Debian's linux-source-6.12 prepared under .cache/src (scripts/setup);
skipped without it.  Run: python3 tests/test_kernel_add.py"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, ".cache", "src", "linux-source-6.12")
CACHE = os.path.join(ROOT, ".cache", "kernel-obj")
HAVE = os.path.exists(os.path.join(SRC, "kernel", "kcov.o"))

# a patch whose context is not in 6.12's kcov.c
NO_APPLY = """--- a/kernel/kcov.c
+++ b/kernel/kcov.c
@@ -1,3 +1,4 @@
 this line is not in kcov.c
+/* added */
 nor this one
 nor this
"""
# a patch that applies and does not compile
NO_BUILD = """--- a/kernel/kcov.c
+++ b/kernel/kcov.c
@@ -232,2 +232,3 @@
 EXPORT_SYMBOL(__sanitizer_cov_trace_pc);
+static int kcovbench_test_error = undeclared_in_kcovbench_test;
 
"""
OTHER_FILE = """--- a/kernel/fork.c
+++ b/kernel/fork.c
@@ -1,1 +1,2 @@
+/* x */
 x
"""
# the user's own change to the tree: a comment in kcov.c (the object is
# rebuilt in the tree by make)
TREE_PATCH = """--- a/kernel/kcov.c
+++ b/kernel/kcov.c
@@ -1,3 +1,4 @@
 // SPDX-License-Identifier: GPL-2.0
+/* kcovbench tests/test_kernel_add.py: a user's tree */
 #define pr_fmt(fmt) "kcov: " fmt
 
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def user_tree(dst):
    """SRC copied to dst: hardlinks for the unpacked sources, real copies of
    every file the preparation or a build wrote (newer than the Makefile)
    and of kernel/, so that make in dst never writes through a link."""
    r = subprocess.run(["cp", "-al", SRC, dst])
    assert r.returncode == 0
    made = os.path.getmtime(os.path.join(SRC, "Makefile"))
    for d, dirs, files in os.walk(dst):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p):
                continue
            if os.path.getmtime(p) > made + 1 or os.path.relpath(d, dst) == "kernel":
                tmp = p + ".kcbcopy"
                shutil.copy2(p, tmp)
                os.replace(tmp, p)


@unittest.skipUnless(HAVE, "no prepared linux-source-6.12 under .cache/src (scripts/setup)")
class RefusedPatches(unittest.TestCase):
    def add(self, name, patch_text):
        with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
            f.write(patch_text)
        try:
            return sh([os.path.join(ROOT, "scripts", "kernel-obj"), name, "--source", "deb:6.12",
                       "--patch", f.name])
        finally:
            os.unlink(f.name)
            shutil.rmtree(os.path.join(CACHE, name), ignore_errors=True)

    def test_does_not_apply(self):
        r = self.add("test-noapply", NO_APPLY)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("does not apply", r.stderr)
        self.assertRegex(r.stderr, r"(?i)hunk|malformed|FAILED")     # patch's own words

    def test_does_not_build(self):
        r = self.add("test-nobuild", NO_BUILD)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("does not build", r.stderr)
        self.assertIn("undeclared_in_kcovbench_test", r.stderr)     # the compiler's message
        self.assertIn("error:", r.stderr)

    def test_other_file_refused(self):
        r = self.add("test-otherfile", OTHER_FILE)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("only kernel/kcov.c", r.stderr)


@unittest.skipUnless(HAVE, "no prepared linux-source-6.12 under .cache/src (scripts/setup)")
class UserTree(unittest.TestCase):
    NAME = "test-usertree"

    def test_the_two_commands(self):
        tmp = tempfile.mkdtemp(prefix="kcb-tree-")
        tree = os.path.join(tmp, "linux")
        try:
            user_tree(tree)
            r = subprocess.run(["patch", "-p1", "-d", tree], input=TREE_PATCH, text=True,
                               capture_output=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(tree, ".config")) as f:
                self.assertIn("CONFIG_KCOV=y", f.read())
            os.unlink(os.path.join(tree, ".kcb-version"))   # a user's tree has none
            # docs/kernel-configs.md, "Measure a patch from a kernel checkout"
            r = sh(["./kcovbench", "kernel", "add", self.NAME, "--source", tree,
                    "--patch", os.path.join(ROOT, "proposals", "switch-once.patch")])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("make kernel/kcov.o in %s" % tree, r.stderr)
            with open(os.path.join(CACHE, self.NAME, "key.txt")) as f:
                key = f.read()
            self.assertIn("tree %s" % tree, key)
            self.assertRegex(key, r"patch=switch-once\.patch sha256:[0-9a-f]{16}")
            r = sh(["./kcovbench", "list"])
            self.assertRegex(r.stdout, r"(?m)^\s*kernel-%s\s+\[REAL KERNEL\]" % re.escape(self.NAME))
            r = sh(["./kcovbench", "ab", "kernel-6.12", "kernel-" + self.NAME, "--modes",
                    "switch16", "switch16-pc", "--time", "0.1", "--no-save"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("switch16-pc/1T", r.stdout)
            # the twins hold the user's object too
            self.assertEqual(sh(["ninja", "build/plain/test_kobj"]).returncode, 0)
            r = sh([os.path.join(ROOT, "build", "plain", "test_kobj"), "-r", "kernel-" + self.NAME,
                    self.NAME])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(os.path.join(CACHE, self.NAME), ignore_errors=True)
            sh(["ninja", "build/plain/kcovbench", "build/plain/test_kobj"])


if __name__ == "__main__":
    import unit_main    # 0 passed (every class skipped) is a failure
    unit_main.run(__name__)
