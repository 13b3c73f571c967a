"""Where `kcovbench realprog` works (.cache/realprog, one directory per
program) and how it runs a step: its messages, a command whose failure
shows its output's tail, the digests that tell a step up to date.
WORK is read at each use (work.WORK), so that a test may move it."""
import hashlib
import os
import shlex
import subprocess
import sys

from .common import ROOT, Failure


CACHE = os.path.join(ROOT, ".cache")
WORK = os.path.join(CACHE, "realprog")


def say(msg):
    print("realprog: " + msg, file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, quiet=True):
    """Run cmd; Failure with its tail if it fails."""
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                       stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None)
    if r.returncode:
        tail = (r.stdout or "")[-3000:] if quiet else ""
        raise Failure("%s exited %d (in %s)\n%s" % (" ".join(shlex.quote(c) for c in cmd)[:300],
                                                   r.returncode, cwd or ".", tail))
    return r.stdout or ""


def digest(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
