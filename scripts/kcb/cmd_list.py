"""kcovbench list: the variants the binary carries."""
import os

from . import binary

NAME = "list"
HELP = "list front ends, claim pairs and configurations"


def add_arguments(p):
    p.add_argument("--json", action="store_true",
                   help="everything, modes included, as one JSON object (what "
                        "scripts/kcb/registry.py reads)")


def main(args):
    exe = binary.ensure_built()
    os.execv(exe, [exe, "list"] + (["--json"] if args.json else []))
