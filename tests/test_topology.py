#!/usr/bin/env python3
"""Placement classes on machines this one is not: the binary's topology
code reads fake sysfs trees (a 16-CPU two-socket SMT machine numbered the
AMD way, siblings 8 apart; and this VM's shape) and must give the pin
orders and refusals the classes promise.  Ends with "N passed, N failed"."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KCOVBENCH_BIN", os.path.join(ROOT, "build", "plain", "kcovbench"))
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    print("%s %s%s" % ("ok" if ok else "FAIL", what, "" if ok else ": " + detail))
    passed += ok
    failed += not ok


def fake_tree(root, cpus):
    """cpus: {cpu: (core key, llc, node, package, siblings list text)}."""
    for cpu, (core, llc, node, pkg, sib) in cpus.items():
        d = os.path.join(root, "devices/system/cpu/cpu%d" % cpu)
        os.makedirs(os.path.join(d, "topology"))
        os.makedirs(os.path.join(d, "cache/index3"))
        os.makedirs(os.path.join(d, "node%d" % node))
        for name, val in (("topology/core_id", core), ("topology/physical_package_id", pkg),
                          ("topology/thread_siblings_list", sib),
                          ("cache/index3/shared_cpu_list", llc)):
            with open(os.path.join(d, name), "w") as f:
                f.write("%s\n" % val)


def topology(root, placement=None):
    cmd = [BIN, "topology", "--root=" + root] + (["--placement=" + placement] if placement else [])
    return subprocess.run(cmd, capture_output=True, text=True)


def two_socket(root):
    # 2 packages x 2 LLCs x 2 cores x 2 threads; CPU c and c + 8 are siblings.
    cpus = {}
    for c in range(8):
        pkg, llc = c // 4, c // 2
        llc_list = "%d-%d,%d-%d" % (2 * llc, 2 * llc + 1, 2 * llc + 8, 2 * llc + 9)
        for cpu in (c, c + 8):
            cpus[cpu] = (c, llc_list, pkg, pkg, "%d,%d" % (c, c + 8))
    fake_tree(root, cpus)


def main():
    if not os.path.exists(BIN):
        print("FAIL: %s is not built" % BIN)
        return 1
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        two_socket(big)
        out = topology(big)
        check("topology of the fake 16-CPU machine is JSON", out.returncode == 0, out.stderr)
        t = json.loads(out.stdout) if out.returncode == 0 else {"classes": {}}
        check("16 CPUs, 8 cores, 4 LLCs, 2 nodes, SMT 2",
              (len(t.get("cpus", [])), t.get("cores"), t.get("llcs"), t.get("nodes"),
               t.get("smt")) == (16, 8, 4, 2, 2), str(t)[:300])
        cls = t["classes"]
        want = {
            "smt": "0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15",   # siblings together
            "core": "0,1",                                  # one per core, one LLC
            "llc": "0,2,4,6,1,3,5,7",                       # one core of each LLC in turn
            "node": "0,4,1,5,2,6,3,7",                      # one core of each node in turn
            "spread": ",".join(map(str, range(16))),        # the OS's order
        }
        for name, order in want.items():
            got = cls.get(name, {}).get("cpus")
            check("%s order" % name, got == order, "got %r want %r" % (got, order))
        check("spread points 1,2,4,8 cores then 16 CPUs",
              cls.get("spread", {}).get("points") == "1,2,4,8,16", str(cls.get("spread")))
        lst = topology(big, "list:3,11")
        check("list:3,11 is taken as given", lst.stdout.strip() == "3,11", lst.stderr)
        # 2^32 would wrap to CPU 0 in an int: refused, alone or beside 0
        for bad in ("list:3,3", "list:99", "list:x", "bogus", "list:4294967296",
                    "list:0,4294967296", "list:99999999999999999999", "list:-1", "list:+1"):
            r = topology(big, bad)
            check("%s refused with exit 2 and a reason" % bad,
                  r.returncode == 2 and "placement" in r.stderr, "rc %d %s" % (r.returncode, r.stderr))

        # This VM's shape: 2 cores, one LLC, one node, no SMT.
        fake_tree(small, {0: (0, "0-1", 0, 0, "0"), 1: (1, "0-1", 0, 0, "1")})
        for name in ("smt", "llc", "node"):
            r = topology(small, name)
            check("%s refused on a 2-core, 1-LLC, no-SMT machine" % name,
                  r.returncode == 2 and name in r.stderr, "rc %d %s" % (r.returncode, r.stderr))
        r = topology(small, "core")
        check("core forms 0,1 there", r.returncode == 0 and r.stdout.strip() == "0,1", r.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
