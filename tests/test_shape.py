#!/usr/bin/env python3
"""The cost shape each variant declares (FE_SHAPE, CLAIM_<id>_SHAPE; see
tests/shape.py) against the compiled hooks: the userland objects always,
and the module for each kernel flavour built here.  A planted extra
per-CPU load in any hook, and a variant without a declaration, must fail.
The controls (the pairs `kcovbench list --json` marks as such) are not
replicas and are skipped.
Run: python3 tests/test_shape.py"""
import glob
import os
import re
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shape  # noqa: E402
from unit_main import run  # noqa: E402

ROOT = shape.ROOT
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from kcb import registry  # noqa: E402

# the control pairs' C ids (hook symbols name pairs by id)
CONTROLS = registry.Lazy(lambda: tuple(p["id"] for p in registry.pairs() if p["control"]))


def disasm(path):
    return subprocess.run(["objdump", "-dr", "--no-show-raw-insn", path], check=True,
                          capture_output=True, text=True).stdout


def userland():
    subprocess.run(["ninja", "build/plain/kcovbench"], cwd=ROOT, check=True,
                   capture_output=True)
    objs = sorted(glob.glob(os.path.join(ROOT, "build/plain/variants_fe_*.o")))
    assert objs, "no front-end objects"
    return "".join(disasm(o) for o in objs)


class Shape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.decl = shape.declarations()
        cls.user = userland()

    def assertShape(self, text, seg, rt=False):
        problems, checked = shape.check(text, seg, *self.decl, rt=rt, skip_pairs=CONTROLS)
        self.assertEqual(problems, [])
        fes, _, pairs = self.decl
        # every hook of every front end x real pair: 11 hooks, and the
        # 2 tracers (impl_pc, impl_cmp) of each front end that has them
        real = len(pairs) - len(CONTROLS)
        want = len(fes) * real * 11 + \
            sum(d.get("indirect", 0) > 0 for d in fes.values()) * real * 2
        self.assertGreaterEqual(checked, want)

    def test_userland(self):
        self.assertShape(self.user, "fs")

    def test_kernel_code_generation(self):
        """The userland hooks are built as Debian's ORC kernel builds
        kcov.o: no frame pointer set up, no stack protector, no vector
        registers."""
        hooks = shape.functions(self.user)
        self.assertTrue(hooks)
        framed = [n for n, insns in hooks.items()
                  if any(i == "mov    %rsp,%rbp" for _, i, _ in insns)]
        guarded = [n for n, insns in hooks.items()
                   if any("%fs:0x28" in i for _, i, _ in insns)]
        # the kernel builds with -mgeneral-regs-only: no vector registers
        vector = [n for n, insns in hooks.items()
                  if any(re.search(r"%[xyz]mm", i) for _, i, _ in insns)]
        self.assertEqual(framed, [])
        self.assertEqual(guarded, [])
        self.assertEqual(vector, [])

    def test_module(self):
        kos = {"!RT": os.path.join(ROOT, "build/kmod-amd64/kmod/kcovbench.ko"),
               "RT": os.path.join(ROOT, "build/kmod-rt-amd64/kmod/kcovbench.ko")}
        have = {k: v for k, v in kos.items() if os.path.exists(v)}
        if not have:
            self.skipTest("no module built here (ninja kmod)")
        for flavour, ko in have.items():
            with self.subTest(flavour):
                self.assertShape(disasm(ko), "gs", rt=flavour == "RT")

    def test_planted_percpu_load_fails_everywhere(self):
        """One extra %fs load at the top of each hook, one hook at a time."""
        funcs = shape.functions(self.user)
        names = [n for n in funcs if shape.HOOK.match("0 <%s>:" % n).group(3) not in CONTROLS]
        self.assertGreater(len(names), 300)
        lines = self.user.splitlines()
        for name in names:
            head = next(i for i, l in enumerate(lines) if l.endswith("<%s>:" % name))
            end = next((i for i in range(head + 1, len(lines)) if not lines[i].strip()),
                       len(lines))
            planted = [lines[head], lines[head + 1], lines[head + 1].split(":")[0] +
                       ":\tmov    %fs:0x0,%rax"] + lines[head + 2:end]
            # the copy keeps its address: the planted load sits on every path
            problems, _ = shape.check("\n".join(planted), "fs", *self.decl,
                                      skip_pairs=CONTROLS)
            self.assertTrue(any(p.startswith(name + ":") for p in problems), name)

    def test_undeclared_variant_fails(self):
        fes, claims, pairs = self.decl
        fes = dict(fes, newfe=None)
        problems, _ = shape.check(self.user, "fs", fes, claims, pairs)
        self.assertTrue(any("fe_newfe.c declares no FE_SHAPE" in p for p in problems))


# kcov_move_area() with and without v6.18's smp_wmb() (c2fe368b6eb2)
MOVE_C = r"""
#include "variants/variant.h"
#include "variants/claims.h"
kcb_noinline void move618(struct kcb_dev *kd, const uint64_t *src, int cmp)
{
	if (cmp)
		claim_plain_count_first_copy(kcb_sink_of(kd), kd, src, KCB_STRIDE_CMP);
	else
		claim_plain_count_first_copy(kcb_sink_of(kd), kd, src, KCB_STRIDE_PC);
}
kcb_noinline void move_pre618(struct kcb_dev *kd, const uint64_t *src, int cmp)
{
	if (cmp)
		claim_plain_count_first_copy_pre618(kcb_sink_of(kd), kd, src, KCB_STRIDE_CMP);
	else
		claim_plain_count_first_copy_pre618(kcb_sink_of(kd), kd, src, KCB_STRIDE_PC);
}
"""
# x86 fences and locked instructions: what a store barrier could cost
FENCE = re.compile(r"^(mfence|sfence|lfence|lock\b|xchg\s+\S+,\s*\S*\()")


def hot_cflags():
    """scripts/configure's HOT_CFLAGS: how the hooks are compiled."""
    text = open(os.path.join(ROOT, "scripts/configure")).read()
    m = re.search(r'^HOT_CFLAGS = ((?:"[^"]*"\s*\\?\s*)+)', text, re.M)
    return " ".join(re.findall(r'"([^"]*)"', m.group(1))).split()


def fences(insns, locks=True):
    """The fences among insns; with locks, the locked ones too (a built
    move takes the owner's spinlock, whose xchg is not the barrier's)."""
    return [i for _, i, _ in insns if FENCE.match(i) and
            (locks or i.split()[0].endswith("fence"))]


class MoveAreaBarrier(unittest.TestCase):
    """Issue 25, part 3: since v6.18 kcov_move_area() has an smp_wmb()
    between the copy and the count (claim_plain_count_first_copy); on
    x86 it is a compiler barrier and costs no instruction.  The two forms
    compile to the same instructions, no fence among them, and every
    built move of the Linux claim (userland, module) has no fence."""

    def test_same_instructions_as_pre618(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            src, obj = os.path.join(d, "m.c"), os.path.join(d, "m.o")
            with open(src, "w") as f:
                f.write(MOVE_C)
            subprocess.run(["gcc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-I", ROOT,
                            *hot_cflags(), "-c", src, "-o", obj], check=True)
            funcs = shape.functions(disasm(obj), shape.ANY)
        body = {n: [re.sub(r"\b[0-9a-f]+ <move\w*(\+0x[0-9a-f]+)?>", "<here>", i)
                    for _, i, _ in funcs[n]] for n in ("move618", "move_pre618")}
        self.assertTrue(body["move618"])
        self.assertEqual(body["move618"], body["move_pre618"])
        self.assertEqual(fences(funcs["move618"]), [])

    def test_built_moves_have_no_fence(self):
        move = re.compile(r"^[0-9a-f]+ <(kcb_\w+?__plain_count_first__move)>:$")
        texts = {"userland": userland()}
        ko = os.path.join(ROOT, "build/kmod-amd64/kmod/kcovbench.ko")
        if os.path.exists(ko):
            texts["module"] = disasm(ko)
        for where, text in texts.items():
            funcs = shape.functions(text, move)
            self.assertTrue(funcs, where)
            for name, insns in funcs.items():
                self.assertEqual(fences(insns, locks=False), [], "%s: %s" % (where, name))


MERGE_C = r"""
#include "hotpath/kcb.h"
void *cur2(void) { void *a = kcb_current(); barrier(); void *b = kcb_current(); return (char *)a + (long)b; }
unsigned pc2(void) { unsigned a = kcb_preempt_count(); barrier(); unsigned b = kcb_preempt_count(); return a + b; }
unsigned pc1(void) { unsigned a = kcb_preempt_count(); unsigned b = kcb_preempt_count(); return a + b; }
void *cpu2(void) { void *a = kcb_curcpu(); void *b = kcb_curcpu(); return (char *)a + (long)b; }
"""


class MergeRules(unittest.TestCase):
    """The userland per-CPU reads merge as the x86 kernel's do: current
    (this_cpu_read_stable) across barrier(); preempt_count (raw_cpu_read,
    an "m" operand) until a barrier(); curcpu() (volatile) never."""

    def test_merge_rules(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            src, obj = os.path.join(d, "m.c"), os.path.join(d, "m.o")
            with open(src, "w") as f:
                f.write(MERGE_C)
            subprocess.run(["gcc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-I", ROOT, "-c",
                            src, "-o", obj], check=True)
            text = disasm(obj)
        loads = {}
        for name in ("cur2", "pc2", "pc1", "cpu2"):
            body = text.split("<%s>:" % name, 1)[1].split("\n\n", 1)[0]
            loads[name] = body.count("%fs:")
        self.assertEqual(loads, {"cur2": 1, "pc2": 2, "pc1": 1, "cpu2": 2})


if __name__ == "__main__":
    run(__name__)
