"""The benchmark binary run under a progress line: its console output
into console.txt, one line of progress on stderr, ^C passed on."""
import shlex
import signal
import subprocess
import sys
import threading
import time

from .common import Failure, UsageError


def count_benchmarks(exe, bench_args):
    """How many benchmarks the run has: the binary lists them for the same
    arguments (names, as its console lines start)."""
    try:
        out = subprocess.run([exe, "bench"] + bench_args + ["--benchmark_list_tests=true"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    return set(out.stdout.split()) if out.returncode == 0 else set()


class Progress:
    """The binary's console output into console.txt, and one progress line
    on stderr: rewritten in place on a terminal, a line every few seconds
    otherwise.  --verbose shows the console output instead.  Lines of our
    own ("kcovbench: ...") are always shown."""
    TICK_TTY, TICK_LOG = 0.5, 5.0

    def __init__(self, console, names, reps, expected_s, verbose):
        self.console, self.names, self.reps = console, names, reps
        self.expected, self.verbose = expected_s, verbose
        self.tty = sys.stderr.isatty()
        self.done = 0           # repetitions reported
        self.t0 = time.monotonic()
        self.shown = False

    def feed(self, stream):
        """Reader thread: every line into console.txt, counted."""
        with open(self.console, "w") as f:
            for line in stream:
                f.write(line)
                f.flush()
                words = line.split(None, 1)
                if words and words[0] in self.names:
                    self.done += 1
                if self.verbose:
                    sys.stderr.write(line)
                elif line.startswith("kcovbench"):
                    self.clear()
                    sys.stderr.write(line)

    def line(self):
        n = len(self.names)
        return ("kcovbench run: benchmark %d of %d, %.0f s elapsed, ~%.0f s expected"
                % (min(self.done // max(self.reps, 1), n), n,
                   time.monotonic() - self.t0, self.expected))

    def tick(self):
        if self.verbose or not self.names:
            return
        if self.tty:
            sys.stderr.write("\r\033[K" + self.line())
            sys.stderr.flush()
            self.shown = True
        else:
            print(self.line(), file=sys.stderr)

    def clear(self):
        if self.shown:
            sys.stderr.write("\r\033[K")
            self.shown = False

    def tail(self, lines=30):
        """The end of console.txt: what a failed binary said."""
        try:
            with open(self.console) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def _stop(proc):
    """^C reaches the binary too when typed at a terminal; stop it
    ourselves in case the signal was meant for us alone."""
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run_binary(cmd, progress):
    """Run the benchmarks, their console output through progress (stdout
    is for the table)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    reader = threading.Thread(target=progress.feed, args=(proc.stdout,), daemon=True)
    reader.start()
    tick = progress.TICK_TTY if progress.tty else progress.TICK_LOG
    try:
        while True:
            try:
                rc = proc.wait(timeout=tick)
                break
            except subprocess.TimeoutExpired:
                progress.tick()
    except KeyboardInterrupt:
        progress.clear()
        _stop(proc)
        raise
    reader.join(timeout=10)
    progress.clear()
    if rc in (-signal.SIGINT, -signal.SIGTERM):
        raise KeyboardInterrupt
    if rc != 0 and not progress.verbose:
        sys.stderr.write(progress.tail())
    if rc == 2:
        raise UsageError("the binary rejected its arguments (see above)")
    if rc != 0:
        raise Failure("%s exited %d" % (shlex.join(cmd), rc))
