"""What the qemu scripts that publish a results set share
(scripts/qemu-kmod-remote, scripts/qemu-kmod-remote-request): the
benchmarks a guest printed, the key line, the TCG warning, and writing the
set."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap

from . import machine

BLOCK = re.compile(r"^kcb-json-begin (\S+)\n(.*?)^kcb-json-end \1$", re.M | re.S)


def guest_benchmarks(log):
    """Every run's repetitions in a guest's serial log (qemu-lib.sh's
    kcb-json-begin/end blocks), in order."""
    text = open(log, errors="replace").read()
    out = []
    for _, body in BLOCK.findall(text):
        out += json.loads(body)["benchmarks"]
    return out


def key(commit, rels, accel, spec):
    """The key line: commit, host, guests (rels: "amd64=REL rt-amd64=REL"),
    qemu and its accelerator, and the spec the guests ran."""
    qv = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                        text=True).stdout.splitlines()[0]
    return ("commit %s; host %s, %d CPUs; guests %s under %s, %s, 2 vCPUs; %s"
            % (commit, machine.cpuinfo_model() or "", os.cpu_count(), rels, qv, accel, spec))


def releases(rels):
    """"amd64=REL rt-amd64=REL" -> {flavour: release}."""
    return dict(x.split("=") for x in rels.split())


def tcg_warning(what, hardware):
    """The opening paragraph every such README has (wrapped): what ran,
    and where the hardware numbers are."""
    return textwrap.wrap(
        "**TCG, not representative.** Every number here is %s run by the module "
        "in Debian's kernels under qemu's TCG (no KVM on this machine): emulated "
        "instructions, and an emulated lock is far dearer than a real one. It "
        "shows that each design runs in both kernels and how the designs order "
        "there; hardware numbers are %s." % (what, hardware), 74,
        break_on_hyphens=False)


def publish(out, files):
    """Write the set: files ({name: text}) in a new directory beside out,
    which then replaces out whole (a reader sees the old set or the new
    one, never a mix)."""
    out = os.path.abspath(out)
    parent, base = os.path.dirname(out), os.path.basename(out)
    os.makedirs(parent, exist_ok=True)
    new = tempfile.mkdtemp(prefix=".%s.new-" % base, dir=parent)
    old = None
    try:
        os.chmod(new, 0o755)
        for name, text in files.items():
            with open(os.path.join(new, name), "w") as f:
                f.write(text)
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix=".%s.old-" % base, dir=parent)
            os.rename(out, os.path.join(old, "set"))
        os.rename(new, out)
        new = None
    finally:
        if new:
            shutil.rmtree(new, ignore_errors=True)
            if old and not os.path.exists(out):
                os.rename(os.path.join(old, "set"), out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
