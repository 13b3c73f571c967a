"""The gate's counts: the counter backends (perf, callgrind), runs of
`kcovbench ops` under them, and the key that says what the counts depend
on (backend, tool, compiler, CPU, op count)."""
import concurrent.futures
import os
import platform
import queue
import re
import shutil
import subprocess
import tempfile

from . import machine
from .common import ROOT, UsageError, first_line


# 64 batches of 1024: per-op counts resolve 1/65536 of an instruction, and
# one callgrind run takes ~0.4 s, most of it valgrind's start-up.
DEFAULT_OPS = 65536
BATCH = 1024
EVENTS = ("instructions", "branches", "cycles")
BACKEND_EVENTS = {"callgrind": ("instructions", "branches"),
                  "perf": ("instructions", "branches", "cycles")}
DEFAULT_RUNS = {"callgrind": 2, "perf": 5}


# callgrind: collect inside the loops and the shared mode's move.  A second
# pattern starting with the same literal prefix as the first does not match
# in valgrind 3.19, so each starts differently.  The real kernel objects'
# loops (kobj/glue.c, renamed by scripts/kobj-bundle) are
# kobj_<id>_kobj_loop_{pc,cmp,switch}: the hooks they call count, as the
# replicas' do.
CALLGRIND_TOGGLES = ("kcb_*__loop_*", "*__move", "*_empty_loop_pc", "*_empty_loop_switch",
                     "*_kobj_loop_*")


class MeasureError(Exception):
    """The measurement failed: exit 4."""


def _run(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        return subprocess.CompletedProcess(cmd, 127, "", str(e))
    except subprocess.TimeoutExpired:
        raise MeasureError("%s: timed out" % " ".join(cmd))


def perf_works():
    """None if perf stat counts instructions, cycles and branches in user
    space here; otherwise why not."""
    if not shutil.which("perf"):
        return "no perf"
    with tempfile.TemporaryDirectory(prefix="kcb-gate-") as d:
        out = os.path.join(d, "stat.csv")
        r = _run(["perf", "stat", "-x,", "-o", out, "-e",
                  ",".join(e + ":u" for e in BACKEND_EVENTS["perf"]), "true"])
        if r.returncode != 0:
            return "perf stat failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        try:
            counts = parse_perf(open(out).read())
        except MeasureError as e:
            return str(e)
    if any(counts.get(e, 0) <= 0 for e in BACKEND_EVENTS["perf"]):
        return "perf counted nothing"
    return None


def callgrind_works():
    if not shutil.which("valgrind"):
        return "no valgrind"
    return None if _run(["valgrind", "--version"]).returncode == 0 else "valgrind fails"


def tool_version(backend):
    if backend == "perf":
        return first_line(["perf", "--version"]) or "perf ?"
    return first_line(["valgrind", "--version"]) or "valgrind ?"


def choose_backend(wanted, baseline):
    """(backend, notes): the backend to use and why."""
    why = {"perf": perf_works, "callgrind": callgrind_works}
    if wanted != "auto":
        w = why[wanted]()
        if w:
            raise MeasureError("backend %s does not work here: %s" % (wanted, w))
        return wanted, "as asked"
    notes = []
    order = ["perf", "callgrind"]
    if baseline and baseline.get("backend") in order:
        order.remove(baseline["backend"])
        order.insert(0, baseline["backend"])
    for b in order:
        w = why[b]()
        if w is None:
            reason = "the baseline's" if baseline and b == baseline.get("backend") else "first that works"
            return b, "; ".join(notes + [reason])
        notes.append("%s: %s" % (b, w))
    raise MeasureError("no counter backend works here (%s)" % "; ".join(notes))


def parse_perf(text):
    """perf stat -x, output: {event: count}; MeasureError on <not ...>."""
    counts = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split(",")
        if len(f) < 3:
            continue
        ev = f[2].split(":")[0].strip()
        if ev not in EVENTS:
            continue
        if not re.match(r"^\d+(\.\d+)?$", f[0]):
            raise MeasureError("%s: %s" % (ev, f[0] or "no value"))
        counts[ev] = int(float(f[0]))
    return counts


def parse_callgrind(path):
    events, totals = None, None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:") or (totals is None and line.startswith("summary:")):
                totals = [int(x) for x in line.split()[1:]]
    if not events or totals is None:
        raise MeasureError("%s: no events/totals lines" % path)
    v = dict(zip(events, totals + [0] * (len(events) - len(totals))))
    return {"instructions": v.get("Ir", 0), "branches": v.get("Bc", 0) + v.get("Bi", 0)}


def _ops_cmd(exe, config, mode, ops):
    return [exe, "ops", "--config=" + config, "--mode=" + mode, "--ops=%d" % ops]


def _check_ops(r, config, mode):
    if r.returncode == 2:
        raise UsageError("kcovbench ops --config=%s --mode=%s: %s"
                         % (config, mode, r.stderr.strip()))
    if r.returncode != 0 or " ops" not in r.stdout:
        raise MeasureError("kcovbench ops --config=%s --mode=%s exited %d: %s"
                           % (config, mode, r.returncode, (r.stderr.strip() or r.stdout.strip())[-500:]))


# A real kernel object's returns as the baseline counted them: `ret` (what a
# kernel without return thunks runs), whatever the caller's environment says.
OPS_ENV = {"KCB_KERNEL_RETURN": "ret"}


def measure_one(backend, exe, config, mode, ops, tmpdir, cpu):
    """One run: {event: total count over ops hook calls}."""
    env = dict(os.environ, **OPS_ENV)
    pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
    tag = "%s.%s.%d" % (config.replace("/", "_"), mode, os.getpid())
    if backend == "callgrind":
        fd, out = tempfile.mkstemp(prefix=tag, suffix=".cg", dir=tmpdir)
        os.close(fd)
        cmd = pin + ["valgrind", "-q", "--tool=callgrind", "--branch-sim=yes",
                     "--read-inline-info=no", "--callgrind-out-file=" + out] + \
            ["--toggle-collect=" + t for t in CALLGRIND_TOGGLES] + \
            ["--"] + _ops_cmd(exe, config, mode, ops)
        r = _run(cmd, env=env)
        _check_ops(r, config, mode)
        counts = parse_callgrind(out)
        os.unlink(out)
    else:
        d = tempfile.mkdtemp(prefix=tag, dir=tmpdir)
        ctl, ack, out = (os.path.join(d, n) for n in ("ctl", "ack", "stat.csv"))
        os.mkfifo(ctl)
        os.mkfifo(ack)
        cmd = pin + ["perf", "stat", "-x,", "-o", out, "-e",
                     ",".join(e + ":u" for e in BACKEND_EVENTS["perf"]),
                     "--control", "fifo:%s,%s" % (ctl, ack), "-D", "-1", "--"] + \
            _ops_cmd(exe, config, mode, ops) + ["--perf-ctl=%s,%s" % (ctl, ack)]
        r = _run(cmd, timeout=120, env=env)
        _check_ops(r, config, mode)
        with open(out) as f:
            counts = parse_perf(f.read())
        shutil.rmtree(d, ignore_errors=True)
    if counts.get("instructions", 0) <= 0:
        raise MeasureError("%s %s: no instructions counted (is %s built with its "
                           "hook symbols?)" % (config, mode, exe))
    return counts


def measure(backend, exe, configs, modes, ops, runs, jobs, skip=()):
    """{(config, mode): {"counts": {event: int}, "runs": [...]}}.  callgrind's
    runs must agree exactly; perf's minimum is kept.  skip: (config, mode)
    pairs not measured (a kernel object's modes that are not hooks)."""
    cpus = sorted(os.sched_getaffinity(0))
    jobs = max(1, min(jobs, len(cpus)))
    free = queue.Queue()
    for c in cpus[:jobs]:
        free.put(c)
    tasks = [(c, m, i) for i in range(runs) for c in configs for m in modes
             if (c, m) not in skip]
    got = {}
    with tempfile.TemporaryDirectory(prefix="kcb-gate-") as tmp:
        def work(t):
            cpu = free.get()
            try:
                return t, measure_one(backend, exe, t[0], t[1], ops, tmp, cpu)
            finally:
                free.put(cpu)
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            for (c, m, i), counts in ex.map(work, tasks):
                got.setdefault((c, m), []).append(counts)
    result = {}
    for key, rs in got.items():
        evs = BACKEND_EVENTS[backend]
        if backend == "callgrind":
            if any(r != rs[0] for r in rs):
                raise MeasureError("%s %s: callgrind counts differ between runs: %s"
                                   % (key[0], key[1], rs))
            counts = dict(rs[0])
        else:
            counts = {e: min(r[e] for r in rs) for e in evs}
        result[key] = {"counts": counts, "runs": rs}
    return result


def compiler_of(exe):
    """The compilers that built exe, from its .comment section."""
    r = _run(["readelf", "-p", ".comment", exe])
    found = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*\[\s*[0-9a-f]+\]\s+(.*\S)", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return "; ".join(sorted(found)) or "unknown"


def make_key(backend, exe, ops):
    # cpu: /proc/cpuinfo's name first (not lscpu's, as the key line has
    # it), the name the committed baselines hold
    return {"backend": backend, "tool": tool_version(backend), "compiler": compiler_of(exe),
            "arch": platform.machine(), "ops": ops,
            "cpu": machine.cpuinfo_model() or platform.processor() or platform.machine()}


def make_info(exe):
    git = machine.git_head() or "unknown"
    return {"kernel": platform.release(), "libc": " ".join(platform.libc_ver()),
            "cpus": len(os.sched_getaffinity(0)), "git": git,
            "binary": os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe}
