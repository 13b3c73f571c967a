"""kcovbench kernel add NAME --source deb:MAJOR|DIR [--patch FILE]: a real
kernel/kcov.o as the configuration kernel-NAME (issue 24).  The work is
scripts/kernel-obj's (build the object and its facts, cached under
.cache/kernel-obj); the next build links it (scripts/kobj-bundle)."""
import os
import subprocess

from . import binary
from .common import Failure, UsageError

NAME = "kernel"
HELP = "add a real kernel/kcov.o (a kernel tree, optionally patched) as kernel-NAME"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def add_arguments(p):
    p.add_argument("action", choices=["add"])
    p.add_argument("name", help="the configuration is kernel-NAME")
    p.add_argument("--source", required=True, metavar="deb:MAJOR|DIR",
                   help="Debian's linux-source-MAJOR (deb:6.1, deb:6.12) or a configured "
                        "kernel tree with CONFIG_KCOV=y")
    p.add_argument("--patch", metavar="FILE",
                   help="a patch to kernel/kcov.c, applied to a copy and compiled with "
                        "kbuild's saved command line")


def main(args):
    cmd = [os.path.join(ROOT, "scripts", "kernel-obj"), args.name, "--source", args.source]
    if args.patch:
        cmd += ["--patch", os.path.abspath(args.patch)]
    r = subprocess.run(cmd)
    if r.returncode == 2:
        raise UsageError("kernel-obj refused the arguments (see above)")
    if r.returncode:
        raise Failure("kernel-obj failed (see above)")
    binary.ensure_built()
    print("kernel-%s: built and linked; `./kcovbench list` shows it" % args.name)
    return 0
