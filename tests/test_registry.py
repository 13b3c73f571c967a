#!/usr/bin/env python3
"""`kcovbench list --json` (bench/list_json.c) against `list`'s text and
itself, and scripts/kcb/registry.py, its one reader: valid JSON, every name
of the text there with the same marks, flags that agree with each other,
and a load that fails on an empty registry.
Run: python3 tests/test_registry.py"""
import json
import os
import re
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from kcb import binary, registry, results  # noqa: E402
from kcb.common import Failure  # noqa: E402

BIN = os.path.join(ROOT, "build", "plain", "kcovbench")


def run(*args):
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, check=True)
    return r.stdout


def text_sections():
    """`list`'s text: section -> [(name, rest of its lines)]."""
    sections, cur = {}, None
    for line in run("list").splitlines():
        if not line.startswith(" "):
            cur = sections.setdefault(line.split(" ")[0], [])
        elif re.match(r"  \S", line):
            name, _, rest = line.strip().partition(" ")
            cur.append([name, rest.strip()])
        else:
            cur[-1][1] += "\n" + line.strip()
    return sections


class ListJson(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run(["ninja", "build/plain/kcovbench"], cwd=ROOT, check=True,
                       capture_output=True)
        cls.doc = json.loads(run("list", "--json"))
        cls.text = text_sections()

    def names(self, key, **only):
        return [x["name"] for x in self.doc[key]
                if all(x[k] == v for k, v in only.items())]

    def test_not_empty(self):
        for key in registry.REQUIRED:
            self.assertTrue(self.doc[key], key)

    def test_every_name_of_the_text(self):
        for sec, key, only in (("front", "frontends", {"broken": False}),
                               ("claim", "pairs", {}),
                               ("configurations", "configs", {}),
                               ("remote-section", "remotes", {}),
                               ("handle", "lookups", {})):
            want = self.names(key, **only)
            if key == "configs":    # then the real kernel objects, when linked
                want += self.names("kernels")
            self.assertEqual([n for n, _ in self.text[sec]], want, sec)

    def test_strings_survive(self):
        """Origins as the text prints them: the escaping lost nothing."""
        for (name, rest), fe in zip(self.text["front"], self.doc["frontends"]):
            self.assertTrue(rest.endswith(fe["origin"]), name)
        for (name, rest), rem in zip(self.text["remote-section"], self.doc["remotes"]):
            self.assertIn(rem["origin"], rest)
            self.assertIn("config %s, lookup %s" % (rem["config"], rem["lookup"]), rest)

    def test_marks_agree_with_the_text(self):
        marked = {n for sec in self.text.values() for n, rest in sec
                  if "[PROPOSAL]" in rest.split("\n")[0]}
        self.assertEqual(marked, registry.proposals() - registry.unmerged())
        unmerged = {n for sec in self.text.values() for n, rest in sec
                    if "[UNMERGED UPSTREAM]" in rest.split("\n")[0]}
        self.assertEqual(unmerged, registry.unmerged())
        kernels = {n for n, rest in self.text["configurations"] if "[REAL KERNEL]" in rest}
        self.assertEqual(kernels, set(self.names("kernels")))
        controls = {n: re.search(r"\[(\w+ CONTROL)\]", rest).group(1)
                    for n, rest in self.text["claim"] if "CONTROL]" in rest}
        self.assertTrue(controls)
        self.assertEqual(controls, registry.controls())

    def test_flags_agree(self):
        fes = {f["name"]: f for f in self.doc["frontends"]}
        pairs = {p["name"]: p for p in self.doc["pairs"]}
        modes = {m["name"]: m for m in self.doc["modes"]}
        for f in fes.values():
            self.assertEqual(f["upstream"], not f["proposal"] and not f["broken"], f["name"])
            self.assertIsNotNone(f["FE_IRQ_POLICY"], f["name"])
            self.assertIsNotNone(f["FE_SWITCH_LAYOUT"], f["name"])
        self.assertTrue([f for f in fes.values() if f["broken"]])
        for p in pairs.values():
            self.assertEqual(p["upstream"], not p["proposal"] and not p["control"], p["name"])
            self.assertFalse(p["proposal"] and p["control"], p["name"])
        for c in self.doc["configs"]:
            fe, pair = fes[c["frontend"]], pairs[c["pair"]]
            self.assertFalse(fe["broken"])
            self.assertEqual(c["upstream"], not c["proposal"])
            if fe["proposal"] or pair["proposal"]:
                self.assertTrue(c["proposal"], c["name"])
            self.assertTrue(set(c["modes"]) <= set(modes), c["name"])
            for m in c["modes"]:
                need = modes[m]["needs"]
                if need in ("FE_GUARD", "FE_UNIQ_HASH"):
                    self.assertEqual(fe[need], 1, (c["name"], m))
            for m in modes.values():
                if m["needs"] in ("FE_GUARD", "FE_UNIQ_HASH") and fe[m["needs"]]:
                    self.assertIn(m["name"], c["modes"])
            self.assertEqual("workload" in c["modes"], c["workload"], c["name"])
        for r in self.doc["remotes"]:
            self.assertIn(r["config"], self.names("configs"))
            self.assertIn(r["lookup"], self.names("lookups"))
        for m in modes.values():
            self.assertNotEqual(m["pc"], m["cmp"], m["name"])
            self.assertEqual(m["switch_cases"] > 0, m["name"].startswith("switch"), m["name"])
        self.assertEqual(len(modes), len(self.doc["modes"]))     # no name twice
        self.assertEqual(self.doc["combos"], len(self.names("frontends", broken=False)) *
                         len(pairs))

    def test_registry_reads_it(self):
        self.assertEqual(registry.doc(), self.doc)
        self.assertEqual(binary.names()[0], self.names("configs") + self.names("kernels"))
        self.assertEqual(list(binary.SWITCH_MODES),
                         [m["name"] for m in self.doc["modes"] if m["switch_cases"]])
        self.assertIn("switch", binary.MODES)
        self.assertEqual(registry.upstream_configs(), self.names("configs", proposal=False))

    def test_empty_registry_fails(self):
        for text in ("", "[]", "{}", json.dumps(dict(self.doc, configs=[])),
                     json.dumps(dict(self.doc, modes=[]))):
            with self.assertRaises(Failure):
                registry._parse(text)

    def test_results_keep_their_own_flags(self):
        """A results file that stores its flags is read with them."""
        flags = results.flags_of({"kcb_controls": "x-pair:BROKEN CONTROL",
                                  "kcb_proposals": "mine,ours,theirs",
                                  "kcb_unmerged": "theirs"})
        self.assertEqual(flags[0], {"x-pair": "BROKEN CONTROL"})
        b = results.Bench("linux/x-pair/pertask/irq:0", 1, flags)
        self.assertEqual(b.control, "BROKEN CONTROL")
        b = results.Bench("mine/pertask/irq:0", 1, flags)
        self.assertTrue(b.proposal)
        self.assertTrue(b.row.endswith("[PROPOSAL]"))
        b = results.Bench("theirs/pertask/irq:0", 1, flags)
        self.assertTrue(b.row.endswith("[UNMERGED UPSTREAM]"))
        # none stored: the registry's
        self.assertEqual(dict(results.flags_of({})[0].items()), registry.controls())


if __name__ == "__main__":
    import unit_main
    unit_main.run(__name__)
