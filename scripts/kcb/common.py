"""Paths, errors and atomic file output shared by every subcommand."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(Exception):
    """Bad input from the user: message on stderr, exit 2."""


class Failure(Exception):
    """Something else went wrong (build, benchmark crash): exit 1."""


def warn(msg):
    print("kcovbench: warning: " + msg, file=sys.stderr)


def atomic_write(path, data):
    """Write path via a temporary file in the same directory, so a reader
    (or a crash) sees the old file or the whole new one, never a part."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)    # mkstemp makes 0600; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def writable_dir(path):
    """Create path if needed; UsageError if it cannot hold our files."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        raise UsageError("cannot write to %s: %s" % (path, e.strerror or e))


class Staging:
    """A results directory that appears whole or not at all: files go into a
    hidden temporary directory beside the target, renamed into place by
    commit(); leaving the with-block any other way removes it."""

    def __init__(self, final):
        self.final = final
        parent = os.path.dirname(os.path.abspath(final))
        writable_dir(parent)
        if os.path.exists(final):
            raise UsageError("%s already exists; choose another --name" % final)
        self.path = tempfile.mkdtemp(prefix="." + os.path.basename(final) + ".tmp-", dir=parent)
        os.chmod(self.path, 0o755)

    def __enter__(self):
        return self

    def commit(self):
        # rename() of a directory refuses a non-empty target, so two runs
        # racing for one name cannot mix their files.
        try:
            os.rename(self.path, self.final)
        except OSError as e:
            raise UsageError("cannot create %s: %s" % (self.final, e.strerror))
        self.path = None

    def __exit__(self, *exc):
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)


def first_line(cmd):
    """First line of a command's output, or None if it cannot run."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def tree_dirty(*pathspec):
    """Whether tracked files differ from HEAD (pathspec narrows it).  A git
    status that fails counts as dirty, said on stderr: a tree that could
    not be checked is not a clean one."""
    cmd = ["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]
    try:
        out = subprocess.run(cmd + ["--"] + list(pathspec), capture_output=True, text=True)
    except OSError as e:
        warn("cannot run git status (%s): the tree counts as dirty" % e.strerror)
        return True
    if out.returncode != 0:
        warn("git status failed (exit %d: %s): the tree counts as dirty"
             % (out.returncode, out.stderr.strip()))
        return True
    return bool(out.stdout.strip())


def read_file(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None
