"""kcovbench list: the variants the binary carries."""
import os

from . import binary

NAME = "list"
HELP = "list front ends, claim pairs and configurations"


def add_arguments(p):
    pass


def main(args):
    exe = binary.ensure_built()
    os.execv(exe, [exe, "list"])
