"""The dispatcher: a subcommand is a module with NAME, HELP,
add_arguments(parser) and main(args) -> exit code; adding one is one
entry in COMMANDS."""
import argparse
import os
import signal
import sys

from . import (cmd_ab, cmd_compare, cmd_gate, cmd_kernel, cmd_kmod, cmd_list, cmd_plot,
               cmd_realprog, cmd_report, cmd_run)
from .common import Failure, UsageError

COMMANDS = [cmd_list, cmd_run, cmd_ab, cmd_compare, cmd_plot, cmd_report, cmd_gate, cmd_kmod,
            cmd_realprog, cmd_kernel]


class Terminated(KeyboardInterrupt):
    """SIGTERM and SIGHUP (a closed terminal or ssh session) take ^C's
    clean-up path: a killed run leaves no partial dir."""

    def __init__(self, signum):
        super().__init__(signum)
        self.code = 128 + signum


def _terminate(signum, frame):
    raise Terminated(signum)


def _children_die_with_us():
    """The benchmark binary reads this and asks the kernel to SIGKILL it
    when we die (bench/kcovbench.c): a SIGKILLed driver runs no clean-up,
    and an orphan would disturb the next run."""
    os.environ["KCOVBENCH_PDEATHSIG"] = str(os.getpid())


def _parse(argv):
    """The arguments.  Some help texts list the binary's modes: building
    the parser may run it (registry.py), and fail as a command does."""
    p = argparse.ArgumentParser(prog="kcovbench", description=
                                "Benchmark kcov hook variants: build, run, compare, plot.",
                                epilog="The C binary build/plain/kcovbench has verbs of its "
                                "own that this wrapper does not take: topology, ops, "
                                "unique-shrink (run it with no arguments for its usage).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMANDS:
        sp = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(sp)
        sp.set_defaults(func=mod.main)
    return p.parse_args(argv)       # bad usage: argparse exits 2


def main(argv):
    try:
        args = _parse(argv)
    except UsageError as e:         # the registry's binary is not a program
        print("kcovbench: error: %s" % e, file=sys.stderr)
        return 2
    except Failure as e:            # ... or would not build, or run
        print("kcovbench: %s" % e, file=sys.stderr)
        return 1
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    _children_die_with_us()
    try:
        return args.func(args) or 0
    except UsageError as e:
        print("kcovbench %s: error: %s" % (args.command, e), file=sys.stderr)
        return 2
    except Failure as e:
        print("kcovbench %s: %s" % (args.command, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print("kcovbench %s: interrupted; nothing written" % args.command, file=sys.stderr)
        return getattr(e, "code", 128 + signal.SIGINT)
    except BrokenPipeError:         # e.g. `./kcovbench compare A B | head`
        sys.stderr.close()
        return 1
