#!/usr/bin/env python3
"""Tests of `kcovbench gate`: it catches a planted regression, passes an
unchanged build, refuses what it cannot compare, and speaks perf stat's
control-fifo protocol.  Run: python3 tests/test_gate.py [-v]

The planted regression: a copy of the kcovbench binary whose obsd-1.49
front end is compiled from a temporary copy of variants/fe_obsd_149.c with
one extra `(void)kcb_curcpu();` in fe_lookup(), linked with the same other
objects as build/plain/kcovbench (variants/ itself is not touched)."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from kcb import cmd_gate, gate_baseline, gate_counts, gate_verdict  # noqa: E402
from kcb.common import UsageError  # noqa: E402

KCOVBENCH = os.path.join(ROOT, "kcovbench")
TARGET = "build/plain/kcovbench"
PLANT_FE = "obsd_149"
PLANT_CONFIG = "openbsd-1.49"
# A small set for the end-to-end runs: the planted config, one that shares
# its claim, one that shares nothing with it.
E2E = ["--configs=openbsd-1.48,openbsd-1.49,linux", "--modes=pertask,cmp"]


def run_gate(*args, env=None):
    r = subprocess.run([sys.executable, KCOVBENCH, "gate"] + list(args), cwd=ROOT,
                       capture_output=True, text=True, env=env)
    return r.returncode, r.stdout, r.stderr


def plant(src):
    """fe source with one extra curcpu read at the top of fe_lookup()."""
    m = re.search(r"^static __always_inline bool fe_lookup\([^)]*\)\n\{\n", src, re.M)
    if not m:
        raise AssertionError("fe_lookup() not found where expected")
    return src[:m.end()] + "\t(void)kcb_curcpu();\t/* planted regression */\n" + src[m.end():]


class Builds:
    """A clean and a planted copy of the binary, from one snapshot of the
    objects (other builds may rewrite build/plain/ meanwhile)."""

    def __init__(self, tmp):
        r = subprocess.run(["ninja", TARGET], cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            raise AssertionError("ninja %s failed:\n%s" % (TARGET, r.stdout + r.stderr))
        cmds = subprocess.run(["ninja", "-t", "commands", TARGET], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.splitlines()
        src = "variants/fe_%s.c" % PLANT_FE
        # the plain build's compile (ab's layout sets compile the file too)
        cc = [shlex.split(c) for c in cmds if (" -c %s " % src) in c and " -o build/plain/" in c]
        link = [shlex.split(c) for c in cmds if re.search(r"\s-o %s(\s|$)" % TARGET, c)]
        if len(cc) != 1 or len(link) != 1:
            raise AssertionError("cannot find the compile of %s and the link of %s in "
                                 "`ninja -t commands`" % (src, TARGET))
        cc, link = cc[0], link[0]
        hook_obj = cc[cc.index("-o") + 1]
        objs = [a for a in link if a.endswith(".o")]
        snap = os.path.join(tmp, "objs")
        os.makedirs(snap)
        for o in objs:
            # paths kept: ab's layout sets hold objects of the same names
            os.makedirs(os.path.dirname(os.path.join(snap, o)), exist_ok=True)
            shutil.copy(os.path.join(ROOT, o), os.path.join(snap, o))
        with open(os.path.join(ROOT, src)) as f:
            text = f.read()
        self.exe = {}
        for name, body in (("clean", text), ("planted", plant(text))):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            csrc = os.path.join(d, os.path.basename(src))
            with open(csrc, "w") as f:
                f.write(body)
            obj = os.path.join(d, os.path.basename(hook_obj))
            c = [a for a in cc if a not in ("-MMD",)]
            if "-MF" in c:
                i = c.index("-MF")
                del c[i:i + 2]
            c[c.index(src)] = csrc
            c[c.index("-o") + 1] = obj
            # the copy's "template.h" and "../hotpath/kcb.h" resolve from here
            c.insert(1, "-I" + os.path.join(ROOT, "variants"))
            subprocess.run(c, cwd=ROOT, check=True)
            exe = os.path.join(d, "kcovbench")
            ln = list(link)
            ln[ln.index("-o") + 1] = exe
            ln = [obj if a == hook_obj else
                  (os.path.join(snap, a) if a.endswith(".o") else a)
                  for a in ln]
            subprocess.run(ln, cwd=ROOT, check=True)
            self.exe[name] = exe
        self.diff = subprocess.run(["diff", os.path.join(ROOT, src),
                                    os.path.join(tmp, "planted", os.path.basename(src))],
                                   capture_output=True, text=True).stdout


class PlantedRegression(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kcb-test-gate-")
        cls.b = Builds(cls.tmp)
        cls.base = os.path.join(cls.tmp, "baseline.json")
        rc, out, err = run_gate("--update", "--binary", cls.b.exe["clean"],
                                "--baseline", cls.base, *E2E)
        if rc:
            raise AssertionError("gate --update exited %d:\n%s%s" % (rc, out, err))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_plant_is_one_line(self):
        added = [l for l in self.b.diff.splitlines() if l.startswith(">")]
        self.assertEqual(len(added), 1, self.b.diff)
        self.assertIn("kcb_curcpu()", added[0])

    def test_clean_copy_passes(self):
        rc, out, err = run_gate("--binary", self.b.exe["clean"], "--baseline", self.base, *E2E)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("gate: PASS", out)

    def test_planted_copy_fails_naming_the_config(self):
        rc, out, err = run_gate("--binary", self.b.exe["planted"], "--baseline", self.base, *E2E)
        print("\n--- planted regression: exit %d\n%s%s---" % (rc, out, err), file=sys.stderr)
        self.assertEqual(rc, 1, out + err)
        regs = out.split("REGRESSIONS", 1)[1]
        rows = [l.split() for l in regs.splitlines()[2:] if l.strip() and not l.startswith("gate:")]
        self.assertTrue(rows, out)
        # every regressed row is the planted config; its pertask path grew
        self.assertEqual({r[0] for r in rows}, {PLANT_CONFIG}, out)
        self.assertIn([PLANT_CONFIG, "pertask", "instructions"], [r[:3] for r in rows])
        for r in rows:
            self.assertEqual(r[2], "instructions", out)

    def test_looser_threshold_still_fails_on_one_instruction(self):
        # +1 instruction on ~41-47 is 2.1-2.4 %: under a 3 % limit the
        # relative test lets it through, the absolute one does not
        rc, out, err = run_gate("--binary", self.b.exe["planted"], "--baseline", self.base,
                                "--threshold", "instructions=3", *E2E)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("+0.5/op", out)

    def test_both_limits_loosened_let_it_pass(self):
        rc, out, err = run_gate("--binary", self.b.exe["planted"], "--baseline", self.base,
                                "--threshold", "instructions=3",
                                "--abs-limit", "instructions=2", *E2E)
        self.assertEqual(rc, 0, out + err)


class Refusals(unittest.TestCase):
    """Exit 2 and 3 come before any measurement."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcb-test-gate-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_missing_baseline_is_3(self):
        rc, out, err = run_gate("--baseline", os.path.join(self.tmp, "none.json"))
        self.assertEqual(rc, 3, out + err)
        self.assertIn("--update", err)

    def test_other_compiler_is_3(self):
        p = os.path.join(self.tmp, "b.json")
        key = {"backend": "callgrind", "tool": gate_counts.tool_version("callgrind"),
               "compiler": "GCC: (Debian 99.0.0-1) 99.0.0", "arch": "x86_64",
               "ops": gate_counts.DEFAULT_OPS, "cpu": "x"}
        gate_baseline.write_baseline(p, None, key, {}, {}, {}, gate_counts.DEFAULT_OPS, "test")
        rc, out, err = run_gate("--baseline", p)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("compiler", err)

    def test_bad_usage_is_2(self):
        for args in (["--threshold", "instructions"], ["--threshold", "bogus=2"],
                     ["--modes", "sideways"], ["--ops", "1000"], ["--frobnicate"]):
            rc, out, err = run_gate(*args)
            self.assertEqual(rc, 2, "%s: %s%s" % (args, out, err))

    def _baseline_with(self, **change):
        p = os.path.join(self.tmp, "b.json")
        with open(gate_baseline.BASELINE) as f:
            doc = json.load(f)
        for k, v in change.items():
            if k == "entry_counts":
                doc["entries"][0]["counts"] = v
            else:
                doc[k] = v
        with open(p, "w") as f:
            json.dump(doc, f)
        return p

    def test_null_threshold_fails(self):
        p = self._baseline_with(thresholds={"instructions": None, "branches": 2, "cycles": 10})
        rc, out, err = run_gate("--baseline", p)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("thresholds instructions is None", err)

    def test_entry_without_counts_fails(self):
        for counts in ({}, None, {"instructions": 0, "branches": 1}):
            p = self._baseline_with(entry_counts=counts)
            rc, out, err = run_gate("--baseline", p)
            self.assertEqual(rc, 2, "%r: %s%s" % (counts, out, err))
            self.assertIn("cannot judge", err)

    def test_not_a_baseline_is_2(self):
        p = os.path.join(self.tmp, "b.json")
        with open(p, "w") as f:
            f.write("{\"format\": \"something else\"}")
        rc, out, err = run_gate("--baseline", p)
        self.assertEqual(rc, 2, out + err)


# The smallest measurement: one config and mode, one batch of ops.
TINY = ["--binary", os.path.join(ROOT, TARGET), "--configs=empty", "--modes=pertask",
        "--ops=1024"]


class Damaged(unittest.TestCase):
    """A damaged baseline or an unwritable output gets its own message and
    exit 2, before any measurement; never a traceback, never exit 1 (which
    CI reads as a regression) and never a pass."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kcb-test-gate-")
        cls.good = os.path.join(cls.tmp, "good.json")
        rc, out, err = run_gate("--update", "--baseline", cls.good, *TINY)
        if rc:
            raise AssertionError("gate --update exited %d:\n%s%s" % (rc, out, err))
        # a regular file, so that any path under it cannot be written, root or not
        cls.file = os.path.join(cls.tmp, "a-file")
        open(cls.file, "w").close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def refused(self, args, code=2, say=None):
        rc, out, err = run_gate(*args)
        self.assertEqual(rc, code, "%s: %s%s" % (args, out, err))
        self.assertNotIn("Traceback", err)
        self.assertNotIn("PASS", out)
        if say:
            self.assertIn(say, err)

    def damaged(self, change, text=None, say=None):
        """Gate against the good baseline after change(doc), or against text."""
        p = os.path.join(self.tmp, "damaged.json")
        if text is None:
            with open(self.good) as f:
                doc = json.load(f)
            change(doc)
            text = json.dumps(doc)      # writes NaN and Infinity as such
        with open(p, "w") as f:
            f.write(text)
        self.refused(["--baseline", p] + TINY[:-1], say=say)

    def test_good_baseline_passes(self):
        rc, out, err = run_gate("--baseline", self.good, *TINY[:-1])
        self.assertEqual(rc, 0, out + err)

    def test_infinity_count(self):
        def inf(doc):
            doc["entries"][0]["counts"]["instructions"] = float("inf")
        self.damaged(inf, say="Infinity")
        # 1e999 is read as infinity without the word
        with open(self.good) as f:
            doc = json.load(f)
        doc["entries"][0]["counts"]["instructions"] = 123456789
        self.damaged(None, text=json.dumps(doc).replace("123456789", "1e999"),
                     say="not a finite number")

    def test_infinity_threshold_and_limit(self):
        for kind in ("thresholds", "abs_limits"):
            self.damaged(lambda doc: doc[kind].update(instructions=float("inf")),
                         say="Infinity")

    def test_nan_threshold(self):
        self.damaged(lambda doc: doc["thresholds"].update(instructions=float("nan")),
                     say="NaN")

    def test_duplicated_entry(self):
        def dup(doc):
            e = json.loads(json.dumps(doc["entries"][0]))
            e["counts"] = {k: v // 10 for k, v in e["counts"].items()}
            doc["entries"].append(e)    # the later, -90 %, used to win
        self.damaged(dup, say="twice")

    def test_entry_not_an_object(self):
        self.damaged(lambda doc: doc["entries"].insert(0, 5), say="not an object")

    def test_entry_without_config(self):
        self.damaged(lambda doc: doc["entries"][0].pop("config"), say="config")

    def test_null_key(self):
        self.damaged(lambda doc: doc.update(key=None), say="key")

    def test_ops_as_string(self):
        self.damaged(lambda doc: doc["key"].update(ops="1024"), say="ops")

    def test_wrong_types(self):
        for field, value in (("backend", ["callgrind"]), ("info", []),
                             ("thresholds", [2])):
            self.damaged(lambda doc: doc.update({field: value}), say=field)
        self.damaged(lambda doc: doc["entries"][0].update(mode=7), say="mode")
        self.damaged(lambda doc: doc["entries"][0].update(counts=[1, 2]), say="counts")

    def test_truncated_json(self):
        with open(self.good) as f:
            text = f.read()
        self.damaged(None, text=text[:len(text) // 2], say="cannot read baseline")

    def test_unwritable_json(self):
        self.refused(["--baseline", self.good, "--json",
                      os.path.join(self.file, "gate.json")] + TINY[:-1], say="--json")

    def test_json_is_a_directory(self):
        self.refused(["--baseline", self.good, "--json", self.tmp] + TINY[:-1],
                     say="--json")

    def test_unwritable_update(self):
        # no baseline there yet, and no file can be made in /proc, root or not
        self.refused(["--update", "--baseline", "/proc/kcb-test-gate.json"] + TINY,
                     say="--update")


class Counts(unittest.TestCase):
    """--runs, --ops and --jobs: zero or negative is refused by argparse
    (exit 2), not replaced by the default."""

    def refused(self, opt, value):
        # no baseline there: were the value accepted, the exit would be 3
        rc, out, err = run_gate("--baseline", "/nonexistent/kcb-gate.json",
                                "%s=%s" % (opt, value), *TINY[:-1])
        self.assertEqual(rc, 2, "%s=%s: %s%s" % (opt, value, out, err))
        self.assertNotIn("Traceback", err)
        self.assertIn("argument " + opt, err)

    def test_runs_zero(self):
        self.refused("--runs", "0")

    def test_ops_zero(self):
        self.refused("--ops", "0")

    def test_ops_negative(self):
        self.refused("--ops", "-1")

    def test_jobs_zero(self):
        self.refused("--jobs", "0")

    def test_each_zero_negative_or_not_a_number(self):
        for opt in ("--runs", "--ops", "--jobs"):
            for v in ("0", "-1", "-1024", "x", "1.5"):
                self.refused(opt, v)

class OpsCount(unittest.TestCase):
    """`kcovbench ops --ops=N` takes only a positive multiple of the batch:
    strtoull alone read -1024 as 2^64 - 1024 and ran practically forever."""

    def test_bad_counts(self):
        exe = os.path.join(ROOT, TARGET)
        for v in ("-1024", "0", "", "abc", "1024x", " 1024", "0x400",
                  "99999999999999999999999", "1000"):
            r = subprocess.run([exe, "ops", "--config=empty", "--ops=" + v],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, "--ops=%r: %s" % (v, r.stdout + r.stderr))
            self.assertIn("--ops", r.stderr)

    def test_good_count(self):
        r = subprocess.run([os.path.join(ROOT, TARGET), "ops", "--config=empty",
                            "--ops=2048"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2048 ops", r.stdout)


class Units(unittest.TestCase):
    def test_threshold_syntax(self):
        self.assertEqual(cmd_gate._threshold("branches=5"), ("branches", 5.0))
        self.assertEqual(cmd_gate._threshold("instructions=0.5%"), ("instructions", 0.5))

    def test_per_event_thresholds(self):
        base = {"key": {"ops": 100}, "entries": [
            {"config": "c", "mode": "pertask",
             "counts": {"instructions": 1000, "branches": 100}}]}
        res = {("c", "pertask"): {"counts": {"instructions": 1030, "branches": 104}}}
        rows, regs, missing = gate_verdict.judge(base, res, 100, {"instructions": 2, "branches": 5},
                                         "callgrind")
        self.assertEqual([(g["event"], round(g["change"], 2)) for g in regs],
                         [("instructions", 3.0)])
        rows, regs, missing = gate_verdict.judge(base, res, 100, {"instructions": 5, "branches": 3},
                                         "callgrind")
        self.assertEqual([g["event"] for g in regs], ["branches"])
        # fewer instructions is never a regression
        res = {("c", "pertask"): {"counts": {"instructions": 500, "branches": 50}}}
        self.assertEqual(gate_verdict.judge(base, res, 100, {"instructions": 2}, "callgrind")[1], [])

    def test_absolute_limit(self):
        # 65 instructions per op, one more: +1.5 %, under the 2 % threshold
        base = {"key": {"ops": 100}, "entries": [
            {"config": "freebsd", "mode": "cmp",
             "counts": {"instructions": 6500, "branches": 100}}]}
        res = {("freebsd", "cmp"): {"counts": {"instructions": 6600, "branches": 100}}}
        regs = gate_verdict.judge(base, res, 100, {"instructions": 2}, "callgrind")[1]
        self.assertEqual([g["event"] for g in regs], ["instructions"])
        self.assertEqual(gate_verdict.judge(base, res, 100, {"instructions": 2}, "callgrind",
                                    {"instructions": 1.5})[1], [])

    def test_missing_entry(self):
        base = {"key": {"ops": 100}, "entries": []}
        res = {("c", "cmp"): {"counts": {"instructions": 1, "branches": 1}}}
        self.assertEqual(gate_verdict.judge(base, res, 100, {}, "callgrind")[2], [("c", "cmp")])

    def test_kernels_fail_closed(self):
        # issue 24: no kernel object linked -> the default gate fails (exit
        # 4), never passes on the replicas alone; an explicit --configs
        # without kernels still gates the replicas
        real = cmd_gate.registry.kernels
        k61 = {"name": "kernel-6.1", "key": "kernel-6.1: source=x [deb:6.1] patch=none c",
               "modes": ["pertask", "cmp"]}
        base = {"entries": [{"config": "kernel-6.1", "mode": "pertask"}]}
        try:
            cmd_gate.registry.kernels = lambda: []
            with self.assertRaisesRegex(gate_counts.MeasureError, "no real kernel object"):
                cmd_gate._kernel_plan(["linux"], ["pertask"], True, None)
            with self.assertRaisesRegex(gate_counts.MeasureError, "kernel-6.1 is not linked"):
                cmd_gate._kernel_plan(["linux"], ["pertask"], True, base)
            with self.assertRaisesRegex(gate_counts.MeasureError, "kernel-6.1 is not linked"):
                cmd_gate._kernel_plan(["kernel-6.1"], ["pertask"], False, None)
            self.assertEqual(cmd_gate._kernel_plan(["linux"], ["pertask"], False, base),
                             (set(), []))
            cmd_gate.registry.kernels = lambda: [k61]
            skip, notes = cmd_gate._kernel_plan(["linux", "kernel-6.1"], ["pertask", "shared"],
                                                True, base)
            self.assertEqual(skip, {("kernel-6.1", "shared")})
            self.assertIn("shared not counted", notes[0])
            with self.assertRaises(UsageError):
                cmd_gate._kernel_plan(["kernel-6.1"], ["shared"], False, None)
        finally:
            cmd_gate.registry.kernels = real

    def test_late_write_failure_is_usage(self):
        # a write that fails after the up-front check: exit 2, not a traceback
        with self.assertRaisesRegex(UsageError, "--json: cannot write x"):
            with cmd_gate._writing("--json", "x"):
                raise OSError(28, "No space left on device")

    def test_doc_quotes_the_planted_log(self):
        # docs/ci-gate.md's planted numbers are made from results/gate/planted.log
        r = subprocess.run([os.path.join(ROOT, "scripts", "gate-planted"), "doc", "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_parse_perf_csv(self):
        text = ("# started on x\n\n123456,,instructions:u,1000,100.00,,\n"
                "2000,,cycles:u,1000,100.00,,\n300,,branches:u,1000,100.00,,\n")
        self.assertEqual(gate_counts.parse_perf(text),
                         {"instructions": 123456, "cycles": 2000, "branches": 300})
        with self.assertRaises(gate_counts.MeasureError):
            gate_counts.parse_perf("<not supported>,,instructions:u,0,100.00,,\n")

    def test_update_is_atomic_and_keeps_other_entries(self):
        tmp = tempfile.mkdtemp(prefix="kcb-test-gate-")
        try:
            p = os.path.join(tmp, "b.json")
            key = {"backend": "callgrind", "tool": "t", "compiler": "c", "arch": "a",
                   "ops": 1024, "cpu": "x"}
            r1 = {("a", "pertask"): {"counts": {"instructions": 10, "branches": 1}},
                  ("b", "pertask"): {"counts": {"instructions": 20, "branches": 2}}}
            gate_baseline.write_baseline(p, None, key, {}, {}, r1, 1024, "cmd")
            ino = os.stat(p).st_ino
            old = gate_baseline.load_baseline(p)
            r2 = {("a", "pertask"): {"counts": {"instructions": 11, "branches": 1}}}
            kept = gate_baseline.write_baseline(p, old, key, {}, {}, r2, 1024, "cmd")
            self.assertEqual(kept, 1)
            self.assertNotEqual(os.stat(p).st_ino, ino)     # replaced by rename
            self.assertEqual(os.listdir(tmp), ["b.json"])   # no temp file left
            got = {(e["config"], e["counts"]["instructions"])
                   for e in gate_baseline.load_baseline(p)["entries"]}
            self.assertEqual(got, {("a", 11), ("b", 20)})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


FAKE_PERF = r'''#!/usr/bin/env python3
# A stand-in for perf: `perf stat -x, -o OUT -e EVENTS [--control fifo:CTL,ACK
# -D -1] -- CMD`.  It acks enable/disable as perf does and reports
# FAKE_PERF_PER_OP counts per op (from CMD's --ops=N), but only if CMD sent
# enable then disable; `<not counted>` otherwise.
import os, select, subprocess, sys
a = sys.argv[1:]
if a[:1] == ["--version"]:
    print("perf version 0.0-fake"); sys.exit(0)
assert a[0] == "stat", a
out = ctl = ack = None; events = []; i = 1
while i < len(a):
    if a[i].startswith("-x"): i += 1
    elif a[i] == "-o": out = a[i + 1]; i += 2
    elif a[i] == "-e": events = a[i + 1].split(","); i += 2
    elif a[i] == "--control": ctl, ack = a[i + 1][len("fifo:"):].split(","); i += 2
    elif a[i] == "-D": i += 2
    elif a[i] == "--": i += 1; break
    else: break
cmd = a[i:]
seen = []
if ctl:
    cfd = os.open(ctl, os.O_RDWR | os.O_NONBLOCK)
    afd = os.open(ack, os.O_RDWR | os.O_NONBLOCK)
p = subprocess.Popen(cmd)
while p.poll() is None:
    if ctl and select.select([cfd], [], [], 0.01)[0]:
        for word in os.read(cfd, 256).decode().split():
            seen.append(word); os.write(afd, b"ack\n")
    elif not ctl:
        p.wait()
ops = [int(x.split("=")[1]) for x in cmd if x.startswith("--ops=")]
per_op = float(os.environ.get("FAKE_PERF_PER_OP", "10"))
with open(out, "w") as f:
    for e in events:
        if not ctl:
            f.write("1000,,%s,100,100.00,,\n" % e)
        elif seen == ["enable", "disable"] and ops:
            f.write("%d,,%s,100,100.00,,\n" % (per_op * ops[0] * (3 if "cycles" in e else 1), e))
        else:
            f.write("<not counted>,,%s,0,100.00,,\n" % e)
sys.exit(p.returncode)
'''


class PerfBackend(unittest.TestCase):
    """The perf path, against the real binary's --perf-ctl, with a fake perf
    (this VM has no hardware counters)."""

    def test_fake_perf_round_trip(self):
        tmp = tempfile.mkdtemp(prefix="kcb-test-gate-")
        try:
            bindir = os.path.join(tmp, "bin")
            os.makedirs(bindir)
            with open(os.path.join(bindir, "perf"), "w") as f:
                f.write(FAKE_PERF)
            os.chmod(os.path.join(bindir, "perf"), 0o755)
            env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
            base = os.path.join(tmp, "b.json")
            args = ["--baseline", base, "--configs=linux,empty", "--modes=pertask,shared",
                    "--runs=2"]
            rc, out, err = run_gate("--update", *args, env=dict(env, FAKE_PERF_PER_OP="10"))
            self.assertEqual(rc, 0, out + err)
            self.assertIn("backend perf", out)
            doc = gate_baseline.load_baseline(base)
            self.assertEqual(doc["backend"], "perf")
            self.assertEqual({e["per_op"]["instructions"] for e in doc["entries"]}, {10.0})
            self.assertEqual({e["per_op"]["cycles"] for e in doc["entries"]}, {30.0})
            rc, out, err = run_gate(*args, env=dict(env, FAKE_PERF_PER_OP="10.1"))
            self.assertEqual(rc, 0, out + err)
            rc, out, err = run_gate(*args, env=dict(env, FAKE_PERF_PER_OP="10.5"))
            self.assertEqual(rc, 1, out + err)
            self.assertRegex(out.split("REGRESSIONS")[1], r"(?m)^linux\s+pertask\s+instructions")
            # a perf baseline is not comparable with callgrind counts
            rc, out, err = run_gate("--backend=callgrind", *args)
            self.assertEqual(rc, 3, out + err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unit_main
    unit_main.run(__name__)
