"""Paths, errors and atomic file output shared by every subcommand."""
import contextlib
import errno
import fcntl
import os
import re
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


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass            # another user's: alive
    return True


# ".NAME.tmp-PID-random": a staging directory and the driver that owns it
STAGING_RE = re.compile(r"^\.(.+)\.tmp-(\d+)-[^.]*$")


def remove_stale_staging(parent):
    """Remove the staging directories in parent whose driver is gone (a
    SIGKILLed driver runs no clean-up), and the empty directory each had
    reserved for its results.  Said on stderr."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        m = STAGING_RE.match(name)
        if not m or _pid_alive(int(m.group(2))):
            continue
        shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(parent, m.group(1)))      # only if still empty
        warn("removed %s, left by a driver that died (pid %s)"
             % (os.path.join(parent, name), m.group(2)))


def is_results_set(d):
    """A directory run, report or kmod wrote (realprog's and the results/
    index hold key.txt alone)."""
    return any(os.path.exists(os.path.join(d, f)) for f in ("raw.json", "table.txt"))


def check_results_parent(parent):
    """UsageError for a place no results set belongs: inside another set
    (it would nest in it), or inside this repository but outside results/
    (the next build would count the tree as changed, "-dirty", and git
    would list the set as untracked)."""
    real = os.path.realpath(parent)
    d = real
    while True:
        if is_results_set(d):
            raise UsageError("%s is inside the results set %s; choose another --out"
                             % (parent, d))
        up = os.path.dirname(d)
        if up == d:
            break
        d = up
    root = os.path.realpath(ROOT)
    inside = lambda top: real == top or real.startswith(top + os.sep)
    if inside(root) and not inside(os.path.join(root, "results")):
        raise UsageError("%s is inside the repository but outside results/: the next "
                         "build would be -dirty; use results/ or a directory outside "
                         "the repository" % parent)


class Staging:
    """A results directory that appears whole or not at all: files go into a
    hidden temporary directory beside the target, renamed into place by
    commit(); leaving the with-block any other way removes it.  The target
    is reserved at once (an empty directory, made by mkdir, which fails if
    it exists): a second run of the same name is refused before it runs,
    not at the end.  replace=True instead replaces an existing target at
    commit() (realprog's results/realprog/<program>)."""

    def __init__(self, final, replace=False):
        self.final, self.replace, self.reserved = final, replace, False
        parent = os.path.dirname(os.path.abspath(final))
        check_results_parent(parent)     # before writable_dir() creates it
        writable_dir(parent)
        remove_stale_staging(parent)
        base = os.path.basename(os.path.abspath(final))
        if not replace:
            self._reserve()
        try:
            self.path = tempfile.mkdtemp(prefix=".%s.tmp-%d-" % (base, os.getpid()),
                                         dir=parent)
        except OSError as e:
            self._unreserve()
            raise UsageError("cannot create a staging directory for %s: %s"
                             % (final, e.strerror or e))
        os.chmod(self.path, 0o755)

    def _reserve(self):
        try:
            os.mkdir(self.final)
        except FileExistsError:
            raise UsageError("%s already exists; choose another --name" % self.final)
        except OSError as e:
            raise UsageError("cannot create %s: %s" % (self.final, e.strerror or e))
        self.reserved = True

    def _unreserve(self):
        if self.reserved:
            with contextlib.suppress(OSError):
                os.rmdir(self.final)
            self.reserved = False

    def __enter__(self):
        return self

    def commit(self):
        # rename() of a directory replaces only an empty one: our
        # reservation, so two runs racing for one name cannot mix their files
        old = None
        try:
            if self.replace and os.path.isdir(self.final):
                old = tempfile.mkdtemp(prefix=".%s.old-%d-" % (
                    os.path.basename(self.final), os.getpid()),
                    dir=os.path.dirname(os.path.abspath(self.final)))
                os.rename(self.final, os.path.join(old, "set"))
            os.rename(self.path, self.final)
        except OSError as e:
            if old and not os.path.exists(self.final):
                os.rename(os.path.join(old, "set"), self.final)
            raise UsageError("cannot create %s: %s" % (self.final, e.strerror))
        finally:
            if old:
                shutil.rmtree(old, ignore_errors=True)
        self.path, self.reserved = None, False

    def __exit__(self, *exc):
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)
        self._unreserve()


LOCK_PATHS = ("/run/lock/kcovbench.lock", "/tmp/kcovbench.lock")


def _open_lock():
    """The machine-wide lock file: KCOVBENCH_LOCK (tests), else the first
    of LOCK_PATHS this user can open."""
    paths = [os.environ["KCOVBENCH_LOCK"]] if os.environ.get("KCOVBENCH_LOCK") else LOCK_PATHS
    for path in paths:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o666), path
        except OSError as e:
            last = "%s: %s" % (path, e.strerror)
    raise UsageError("cannot open a lock file (%s)" % last)


@contextlib.contextmanager
def measure_lock(wait=False, what="kcovbench"):
    """One measurement at a time on this machine: two runs at once measure
    each other.  Held while the with-block runs (the kernel drops it when
    the process dies, however it dies); another holder means UsageError,
    or with wait a message and a wait."""
    fd, path = _open_lock()
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UsageError("cannot lock %s: %s" % (path, e.strerror))
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            if not wait:
                raise UsageError("another kcovbench (pid %s) is measuring on this machine "
                                 "(lock %s): two at once measure each other; --wait "
                                 "waits for it" % (holder, path))
            print("%s: waiting for kcovbench pid %s to finish measuring (lock %s)"
                  % (what, holder, path), file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"%d\n" % os.getpid(), 0)
        yield path
    finally:
        os.close(fd)


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


class Lazy:
    """A tuple, set or dict computed on first use (registry.py's lists: importing a
    module that names one must not run the binary).  Supports
    what callers do with the lists it replaces: in, iteration, len, [],
    .get, .items, ==, and + with a tuple or list (itself lazy)."""

    def __init__(self, fn):
        self._fn = fn

    def _v(self):
        return self._fn()

    def __iter__(self):
        return iter(self._v())

    def __len__(self):
        return len(self._v())

    def __contains__(self, x):
        return x in self._v()

    def __getitem__(self, i):
        return self._v()[i]

    def __eq__(self, other):
        return self._v() == (other._v() if isinstance(other, Lazy) else other)

    __hash__ = None

    def __add__(self, other):
        return Lazy(lambda: tuple(self) + tuple(other))

    def __radd__(self, other):
        return Lazy(lambda: tuple(other) + tuple(self))

    def get(self, k, default=None):
        return self._v().get(k, default)

    def items(self):
        return self._v().items()

    def keys(self):
        return self._v().keys()

    def __repr__(self):
        return "Lazy(%r)" % (self._v(),)
