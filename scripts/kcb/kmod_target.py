"""Where `kcovbench kmod run`'s specs run: in a qemu guest
(scripts/qemu-kmod-run) or in the running kernel (build, insmod, each spec
through debugfs, rmmod), each returning the results, failures and the
kernel's log; and the userland benchmark with the same settings, for the
side-by-side table."""
import json
import os
import platform
import re
import shlex
import subprocess
import sys

from . import binary
from .common import ROOT, Failure, UsageError, warn


DEBUGFS = "/sys/kernel/debug"


def guest_cpus(placement, smp):
    """The pin order of --placement in a guest of smp CPUs: spread, or a
    list of distinct CPUs below smp (checked here: the module would refuse
    it only after the boot)."""
    if not placement.startswith("list:"):
        return list(range(smp))
    cpus = [int(c) for c in placement[5:].split(",")]
    for c in cpus:
        if c >= smp:
            raise UsageError("placement %s: CPU %d is not in a guest of --smp %d"
                             % (placement, c, smp))
        if cpus.count(c) > 1:
            raise UsageError("placement %s: CPU %d appears twice" % (placement, c))
    return cpus


def parse_console(text):
    """From a guest's serial log (scripts/qemu-kmod-run): the results JSON
    of each spec by its 1-based number, failures by number, and dmesg."""
    docs, failed = {}, {}
    for n, body in re.findall(r"^kcb-json-begin (\d+)\n(.*?)^kcb-json-end \1$", text, re.M | re.S):
        try:
            docs[int(n)] = json.loads(body)
        except ValueError as e:
            failed[int(n)] = "results do not parse: %s" % e
    for n, why in re.findall(r"^kcb-run-failed (\d+): (.*)$", text, re.M):
        failed[int(n)] = why
    m = re.search(r"^kcb-dmesg-begin\n(.*?)^kcb-dmesg-end$", text, re.M | re.S)
    return docs, failed, m.group(1) if m else ""


def run_qemu(flav, smp, specs, tmp):
    """Run the specs in a guest; (docs, failed, dmesg, target, command)."""
    path = os.path.join(tmp, "specs.txt")
    log = os.path.join(tmp, "console.log")
    with open(path, "w") as f:
        f.write("".join(s + "\n" for s in specs))
    cmd = [os.path.join(ROOT, "scripts", "qemu-kmod-run"), flav, path, log]
    env = dict(os.environ, QEMU_SMP=str(smp))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    if out.returncode != 0:
        raise Failure("scripts/qemu-kmod-run %s failed (exit %d)" % (flav, out.returncode))
    about = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
    with open(log, errors="replace") as f:
        docs, failed, dmesg = parse_console(f.read())
    accel = about.get("accel", "?")
    target = "Linux %s (Debian) in qemu-system-x86_64 accel=%s -smp %s -m 1G" % (
        about.get("kernel", "?"), accel, smp)
    if accel != "kvm":
        target += ": TCG emulation, kernel timings NOT representative"
    return docs, failed, dmesg, target, "QEMU_SMP=%d scripts/qemu-kmod-run %s specs.txt LOG" % (smp, flav)


def _dmesg():
    """The kernel's log, lines.  Failure when it cannot be read: an empty
    log would pass the Oops check."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True)
    except OSError as e:
        raise Failure("cannot run dmesg (%s): the kernel's log cannot be checked "
                      "for warnings" % e.strerror)
    if out.returncode != 0:
        raise Failure("dmesg failed (exit %d: %s): the kernel's log cannot be checked "
                      "for warnings" % (out.returncode, out.stderr.strip()))
    return out.stdout.splitlines()


def _rmmod(first_error):
    """Unload the module.  A failure is reported; it is raised unless an
    earlier error is on its way out (that one is the one to see)."""
    rc = subprocess.run(["rmmod", "kcovbench"]).returncode
    if rc == 0:
        return
    why = "rmmod kcovbench failed (exit %d): the module is still loaded" % rc
    if first_error:
        warn(why)
    else:
        raise Failure(why)


def _write_specs(ctl, specs):
    """Each spec to the module's run file, its results read back: (docs,
    failed), by the spec's 1-based number."""
    docs, failed = {}, {}
    for n, spec in enumerate(specs, 1):
        print("kcovbench kmod: %s" % spec, file=sys.stderr)
        try:
            with open(os.path.join(ctl, "run"), "w") as f:
                f.write(spec)
            with open(os.path.join(ctl, "results")) as f:
                docs[n] = json.load(f)
        except (OSError, ValueError) as e:
            failed[n] = str(e)
    return docs, failed


def run_here(specs):
    """Run the specs in the running kernel (root); as run_qemu."""
    if os.geteuid() != 0:
        raise UsageError("loading a module needs root (or use --qemu FLAVOUR)")
    rel = platform.release()
    flav = "rt-amd64" if rel.endswith("-rt-amd64") else "amd64"
    kdir = "/lib/modules/%s/build" % rel
    if not os.path.exists(os.path.join(kdir, "Makefile")):
        raise Failure("no headers for the running kernel in %s (install linux-headers-%s)"
                      % (kdir, rel))
    if os.path.exists("/sys/module/kcovbench"):
        raise Failure("kcovbench is already loaded: rmmod it first")
    mk = subprocess.run(["make", "-C", os.path.join(ROOT, "kmod"), flav, "KDIR=" + kdir],
                        stdout=sys.stderr.fileno())
    if mk.returncode != 0:
        raise Failure("module build failed")
    if not os.path.ismount(DEBUGFS) and \
            subprocess.run(["mount", "-t", "debugfs", "debugfs", DEBUGFS]).returncode:
        warn("could not mount debugfs on %s" % DEBUGFS)
    ko = os.path.join(ROOT, "build", "kmod-" + flav, "kmod", "kcovbench.ko")
    # The kernel's log from here on: what the runs printed, warnings included.
    before = len(_dmesg())
    if subprocess.run(["insmod", ko, "selftest=0"]).returncode != 0:
        raise Failure("insmod %s failed" % ko)
    ctl = os.path.join(DEBUGFS, "kcovbench")
    try:
        docs, failed = _write_specs(ctl, specs)
    except BaseException:
        _rmmod(first_error=True)
        raise
    _rmmod(first_error=False)
    dmesg = "".join(l + "\n" for l in _dmesg()[before:])
    return docs, failed, dmesg, "Linux %s on this machine" % rel, \
        "insmod %s selftest=0; echo SPEC > %s/run; cat %s/results; rmmod" % (
            os.path.relpath(ko, ROOT), ctl, ctl)


def _ere(text):
    """text as a POSIX extended regex matching itself (Google Benchmark's
    filter); names hold letters, digits and . - + / only."""
    return re.sub(r"([.+])", r"[\1]", text)


def run_userland(configs, modes, threads, a, tmp):
    """The userland benchmark with the same settings: (doc, command).  The
    filter keeps to the specs' config/mode rows, irq:0 as in the module."""
    exe = binary.ensure_built()
    only = "^(%s)/(%s)/irq:0/" % ("|".join(map(_ere, configs)), "|".join(modes))
    args = ["bench", "--configs=" + ",".join(configs), "--modes=" + ",".join(modes),
            "--threads=" + ",".join(map(str, threads)), "--window=%g" % a.duration,
            "--warmup=%g" % a.warmup, "--benchmark_repetitions=%d" % a.repetitions,
            "--benchmark_filter=" + only]
    if a.buffer_words is not None:
        args.append("--buffer-words=%s" % a.buffer_words)
    part = os.path.join(tmp, "user.json")
    rc = subprocess.run([exe] + args + ["--benchmark_out=" + part, "--benchmark_out_format=json",
                                        "--benchmark_format=console"],
                        stdout=sys.stderr.fileno()).returncode
    if rc != 0:
        raise Failure("the userland benchmark exited %d" % rc)
    with open(part) as f:
        doc = json.load(f)
    keep = re.compile(only)
    doc["benchmarks"] = [r for r in doc["benchmarks"] if keep.match(r.get("run_name", ""))]
    shown = os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe
    return doc, shlex.join([shown] + args + ["--benchmark_out=raw.json"])
