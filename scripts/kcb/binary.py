"""The C binary: building it, and the names it accepts."""
import os
import re
import subprocess
import sys

from .common import ROOT, Failure, Lazy, UsageError

# KCOVBENCH_BIN runs another binary and skips the build (a build from
# another tree, or a stand-in while bench/ is being written).
OVERRIDE = os.environ.get("KCOVBENCH_BIN")
BIN = OVERRIDE or os.path.join(ROOT, "build", "plain", "kcovbench")
TARGET = "build/plain/kcovbench"
IRQS = ("0", "1")


def _registry():
    from . import registry      # it runs this module's binary
    return registry


def driver_modes(workload=False):
    """The modes a --modes option offers: the binary's (bench/modes.h), the
    workload only with workload=True (the module's runs have it, `run` and
    `ab` not), "switch" after the switch modes for all of them."""
    reg = _registry()
    out = []
    for m in reg.mode_names(workload=workload):
        out.append(m)
        if m == reg.switch_modes()[-1]:
            out.append("switch")
    return tuple(out)


def _lazy(fn):
    return Lazy(fn)


# The benchmark modes, read from the binary when first used (registry.py).
SWITCH_MODES = _lazy(lambda: tuple(_registry().switch_modes()))
# the unique modes' (front ends with trace_pc_guard, or Jiao's hash table;
# others skip them)
GUARD_MODES = _lazy(lambda: tuple(_registry().unique_modes()))
MODES = _lazy(driver_modes)
# Modes of bench/remote_bench.c, for `run` only (ab pairs hook configurations):
# remote-request is every remote design's section at 1, 16 and 256 records.
REMOTE_MODES = ("remote-request",)
RUN_MODES = _lazy(lambda: tuple(driver_modes()) + REMOTE_MODES)


def expand_modes(modes):
    """"switch" stands for every switch mode, as the binary reads it."""
    out = []
    for m in modes:
        out += list(SWITCH_MODES) if m == "switch" else [m]
    return out


def _check_override():
    """A KCOVBENCH_BIN that names no program is bad input, found before
    anything runs (it surfaced as a traceback from the first call)."""
    if not (os.path.isfile(OVERRIDE) and os.access(OVERRIDE, os.X_OK)):
        raise UsageError("KCOVBENCH_BIN=%s: not an executable file" % OVERRIDE)


def _run(args):
    """The binary's output (text); one that cannot start is named."""
    try:
        return subprocess.run([BIN] + args, capture_output=True, text=True)
    except OSError as e:
        if OVERRIDE:
            raise UsageError("KCOVBENCH_BIN=%s: %s" % (OVERRIDE, e.strerror))
        raise Failure("cannot run %s: %s" % (BIN, e.strerror))


def ensure_built():
    """Run ninja for the binary only (a no-op when it is up to date).  Its
    output goes to stderr: stdout is kept for results."""
    if OVERRIDE:
        _check_override()
        return BIN
    try:
        out = subprocess.run(["ninja", TARGET], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise Failure("cannot run ninja (%s); scripts/setup installs it" % e.strerror)
    # the commit stamp (VERSION) runs on every build: not news
    news = [l for l in out.stdout.splitlines()
            if "no work to do" not in l and not l.endswith(" VERSION")]
    if out.returncode != 0 or news:
        sys.stderr.write(out.stdout)
    if out.returncode != 0:
        raise Failure("build failed: ninja %s exited %d" % (TARGET, out.returncode))
    return BIN


def names():
    """(configs, front ends, pairs): their names, from the registry."""
    reg = _registry()
    return (reg.config_names() + [k["name"] for k in reg.kernels()],
            [f["name"] for f in reg.frontends()],
            [p["name"] for p in reg.pairs()])


def check_configs(wanted):
    """UsageError naming every config the binary would not know."""
    if wanted == ["all"]:
        return
    configs, fes, pairs = names()
    known = set(configs) | {"empty"} | {f + "/" + p for f in fes for p in pairs}
    bad = [c for c in wanted if c not in known]
    if bad:
        raise UsageError("unknown config %s; known: %s, empty, all, or "
                         "<front end>/<pair> with front end in {%s} and pair in {%s}"
                         % (", ".join(bad), " ".join(configs), ",".join(fes), ",".join(pairs))
                         # issue 24: kernel-* exist once built
                         + ("; kernel-NAME configurations are built by `./kcovbench kernel add "
                            "NAME --source deb:6.1|deb:6.12|DIR` (scripts/setup adds kernel-6.1 "
                            "and kernel-6.12)" if any(c.startswith("kernel-") for c in bad) else ""))


CLASSES = ("smt", "core", "llc", "node", "spread")


def placement_type(text):
    """argparse type for --placement: a class name or list:0,4,8."""
    import argparse
    if text in CLASSES or re.fullmatch(r"list:\d+(,\d+)*", text):
        return text
    raise argparse.ArgumentTypeError(
        "placement %r: use one of %s or list:0,4,8" % (text, ", ".join(CLASSES)))


def placement_cpus(placement):
    """The pin order of a placement class on this machine, from the binary
    (bench/topology.c is the one implementation); UsageError, exit 2, when
    the machine cannot form it."""
    out = _run(["topology", "--placement=" + placement])
    if out.returncode == 2:
        raise UsageError(out.stderr.strip().replace("kcovbench: ", "", 1))
    if out.returncode != 0:
        raise Failure("%s topology failed: %s" % (BIN, out.stderr.strip()))
    return [int(c) for c in out.stdout.strip().split(",")]
