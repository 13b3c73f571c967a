#!/usr/bin/env python3
"""The kernel-* configurations fail closed (issue 24).  A machine where
scripts/setup could not build a kernel object (it warns and carries on)
gets a binary without kernel-*: the programs must still link as before
(PIE, no kernel configuration listed), and the kobj-twins suite must fail
on it, never pass having checked nothing.  A filter that leaves the
required kernels out, and an empty -r, fail too.  With the objects built,
the binary is non-PIE and lists them.

The no-object binaries are the build's own objects relinked (ninja's link
line) against a bundle made from an empty cache (KCB_KOBJ_CACHE): no
compile.  Needs build/plain/{test_kobj,kcovbench} (ninja).
Run: python3 tests/test_kobj_build.py"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache", "kernel-obj")


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def elf_type(path):
    out = sh(["readelf", "-h", path]).stdout
    return re.search(r"Type:\s+(\w+)", out).group(1)


def built_kernels():
    if not os.path.isdir(CACHE):
        return []
    return sorted("kernel-" + n for n in os.listdir(CACHE)
                  if os.path.exists(os.path.join(CACHE, n, "key.txt")))


def relink(prog, bundle, out):
    """build/plain/PROG's link line with the bundle's kobj.o and link.rsp."""
    r = sh(["ninja", "-t", "commands", "build/plain/" + prog])
    line = shlex.split(r.stdout.strip().splitlines()[-1])
    line = [os.path.join(bundle, "kobj.o") if w == "build/kobj/kobj.o" else
            "@" + os.path.join(bundle, "link.rsp") if w == "@build/kobj/link.rsp" else w
            for w in line]
    line[line.index("-o") + 1] = out
    r = sh(line)
    if r.returncode:
        raise AssertionError("relinking %s: %s" % (prog, r.stderr))
    return out


class NoKernelObject(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kcb-kobj-")
        empty = os.path.join(cls.tmp, "cache")
        os.makedirs(empty)
        cls.bundle = os.path.join(cls.tmp, "kobj")
        r = sh([os.path.join(ROOT, "scripts", "kobj-bundle"), cls.bundle],
               env=dict(os.environ, KCB_KOBJ_CACHE=empty))
        assert r.returncode == 0, r.stderr
        cls.test_kobj = relink("test_kobj", cls.bundle, os.path.join(cls.tmp, "test_kobj"))
        cls.kcovbench = relink("kcovbench", cls.bundle, os.path.join(cls.tmp, "kcovbench"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_links_as_before(self):
        with open(os.path.join(self.bundle, "link.rsp")) as f:
            self.assertEqual(f.read().strip(), "")
        self.assertEqual(elf_type(self.test_kobj), "DYN")
        self.assertEqual(elf_type(self.kcovbench), "DYN")

    def test_list_has_no_kernel(self):
        r = sh([self.kcovbench, "list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("REAL KERNEL", r.stdout)
        self.assertIn("linux", r.stdout)

    def test_suite_fails(self):
        """scripts/test's kobj-twins command on a machine without objects."""
        r = sh([self.test_kobj, "-r", "kernel-6.1,kernel-6.12"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("kernel-6.1 is not linked", r.stderr)
        self.assertIn("kernel-6.12 is not linked", r.stderr)
        self.assertIn("nothing checked", r.stderr)
        self.assertIn("not ok linked kernel-6.1", r.stdout)

    def test_gate_fails_closed(self):
        """The gate counts the kernel configurations by default: without
        any linked it fails (exit 4) before measuring, saying why."""
        r = sh([os.path.join(ROOT, "kcovbench"), "gate", "--binary", self.kcovbench],
               env=dict(os.environ, KCOVBENCH_BIN=self.kcovbench))
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        # the committed baseline holds both kernels' rows: named
        self.assertIn("kernel-6.1, kernel-6.12 are not linked", r.stderr)
        self.assertIn("scripts/setup", r.stderr)
        self.assertNotIn("PASS", r.stdout)

    def test_no_filter_fails(self):
        r = sh([self.test_kobj])
        self.assertEqual(r.returncode, 1)
        self.assertIn("0 kernel objects linked", r.stderr)
        self.assertIn("nothing checked", r.stderr)

    def test_empty_require(self):
        for arg in ("", ","):
            r = sh([self.test_kobj, "-r", arg])
            self.assertEqual(r.returncode, 2)
            self.assertIn("-r lists no configuration", r.stderr)


@unittest.skipUnless(built_kernels(), "no kernel object built (scripts/setup)")
class WithKernelObjects(unittest.TestCase):
    def test_linked_and_listed(self):
        exe = os.path.join(ROOT, "build", "plain", "kcovbench")
        self.assertEqual(elf_type(exe), "EXEC")     # -no-pie: R_X86_64_32S
        self.assertEqual(elf_type(os.path.join(ROOT, "build", "plain", "test_kobj")), "EXEC")
        out = sh([exe, "list"]).stdout
        for k in built_kernels():
            self.assertRegex(out, r"(?m)^\s*%s\s+\[REAL KERNEL\]" % re.escape(k))

    def test_filter_leaving_required_out_fails(self):
        k = built_kernels()[0]
        r = sh([os.path.join(ROOT, "build", "plain", "test_kobj"), "-r", k, "no-such-kernel"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("leaves it out", r.stderr)
        self.assertIn("nothing checked", r.stderr)

    def test_empty_require(self):
        r = sh([os.path.join(ROOT, "build", "plain", "test_kobj"), "-r", ""])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
