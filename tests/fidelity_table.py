#!/usr/bin/env python3
"""tests/fidelity_table.py KCOV_O KCOVBENCH_KO SOURCE COMPILER [OUTDIR]

The real kernel/kcov.o's hooks beside the `linux` replica's module hooks
(kcb_lnx__plain_count_first__*), per hook: on the traced path (the most
any path from entry to exit takes, tests/shape.py) instructions, %gs
loads, locked RMWs, conditional branches, calls and indirect calls; for
trace_switch the same per case.  Writes OUTDIR (results/fidelity)/table.md
and key.txt atomically; exit 1 if a hook is missing on either side or
differs in anything but its instruction count.  Run by
scripts/fidelity-kcov, which builds kcov.o."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shape  # noqa: E402

ROOT = shape.ROOT
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from kcb import machine, registry  # noqa: E402
from kcb.common import atomic_write  # noqa: E402

HOOKS = registry.Lazy(registry.hooks)
REAL = re.compile(r"^[0-9a-f]+ <(__sanitizer_cov_\w+)>:$")
REPLICA = re.compile(r"^[0-9a-f]+ <(kcb_lnx__plain_count_first__trace_\w+)>:$")
COLS = ("insns", "percpu", "lock", "branches", "calls", "indirect")


def extra(ins):
    op = ins.split()[0] if ins.split() else ""
    return {"insns": 1, "branches": int(op.startswith("j") and op != "jmp")}


def measure(path, pattern, prefix):
    """{hook: shape}, callees in the same object included (shape.shapes)."""
    text = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", path], check=True,
                          capture_output=True, text=True).stdout
    got, _ = shape.shapes(text, "gs", pattern, extra)
    return {h: got[prefix + h] for h in HOOKS if prefix + h in got}


def verdict(r, p):
    """"same", "same shape, +N insns" (every count but instructions
    equal, on the path and per case), or what differs."""
    if not r or not p:
        return "missing"
    parts = [x for x in ("path", "case") if r[x] or p[x]]
    other = [k for x in parts for k in COLS if k != "insns" and (r[x] or {}).get(k) != (p[x] or {}).get(k)]
    if other:
        return "differs: " + ", ".join(sorted(set(other)))
    d = ["%s %+d" % (x, p[x]["insns"] - r[x]["insns"]) for x in parts
         if p[x]["insns"] != r[x]["insns"]]
    return "same shape" + (", insns " + ", ".join(d) if d else "")


def fmt(m):
    return " / ".join(str(m[k]) for k in COLS) if m else "-"


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.split("\n\n")[0])
    kcov_o, ko, source, compiler = sys.argv[1:5]
    real = measure(kcov_o, REAL, "__sanitizer_cov_")
    rep = measure(ko, REPLICA, "kcb_lnx__plain_count_first__")
    missing = [h for h in HOOKS if h not in real or h not in rep]
    rows = []
    for h in HOOKS:
        r, p = real.get(h), rep.get(h)
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            h, fmt(r and r["path"]), fmt(p and p["path"]),
            fmt(r and r["case"]) if h == "trace_switch" else "",
            fmt(p and p["case"]) if h == "trace_switch" else "", verdict(r, p)))
    text = "\n".join([
        "# The real kernel/kcov.o beside the `linux` replica", "",
        "Made by `scripts/fidelity-kcov` (source: %s, compiled with %s, Debian's amd64"
        " .config plus CONFIG_KCOV=y, CONFIG_KCOV_ENABLE_COMPARISONS=y; replica:"
        " `linux` = `linux` front end + `plain-count-first` in build/kmod-amd64's"
        " kcovbench.ko).  Each cell: %s on the traced path (the most any path from"
        " entry to exit takes: tests/shape.py), per %%gs load, locked RMW,"
        " conditional branch, call and indirect call; for trace_switch also per"
        " case of its loop." % (source, compiler, " / ".join(COLS)), "",
        "| hook | kcov.o path | replica path | kcov.o per case | replica per case | |",
        "|---|---|---|---|---|---|"] + rows + ["",
        "\"same shape\" means every count but instructions is equal.  The"
        " instruction differences are not attributed one by one here; the"
        " replica reaches its task through kcb's own per-CPU record"
        " (kcb_pcpu.curtask) and subtracts the module's base for the PC, where"
        " kcov.c reads pcpu_hot.current_task and subtracts kaslr_offset()."]) + "\n"
    out = sys.argv[5] if len(sys.argv) > 5 else os.path.join(ROOT, "results", "fidelity")
    os.makedirs(out, exist_ok=True)
    atomic_write(os.path.join(out, "table.md"), text)
    git = machine.git_head(12) or ""
    atomic_write(os.path.join(out, "key.txt"),
                 "source=%s; compiler=%s; git=%s\ncommand: scripts/fidelity-kcov\n"
                 % (source, compiler, git))
    sys.stdout.write(text)
    if missing:
        sys.exit("fidelity_table: hooks missing on one side: %s" % ", ".join(missing))
    bad = [h for h in HOOKS if not verdict(real[h], rep[h]).startswith("same")]
    if bad:
        sys.exit("fidelity_table: the replica's shape differs from kcov.o's: %s" % ", ".join(bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
