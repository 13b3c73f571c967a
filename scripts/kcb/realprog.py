"""kcovbench realprog: each configuration's slowdown on a real program that
no one here wrote, SQLite's speedtest1 from Debian's sqlite3 source package.
Fetch: `apt-get source sqlite3` with a private apt configuration in
.cache/apt whose deb-src entries are derived from this machine's own apt
sources (the system's configuration is not touched).  Amalgamation:
configure and `make sqlite3.c` (tclsh, from Debian's tcl).  Builds:
sqlite3.c and speedtest1.c compiled with and without
-fsanitize-coverage=trace-pc,trace-cmp; each configuration's hooks are a
copy of build/plain/variants_fe_<fe>.o with objcopy --redefine-sym
kcb_<fe>__<pair>__<hook>=__sanitizer_cov_<hook>, linked with
bench/instrument_rt.c (uninstrumented), which makes main() a traced kcb
task, with a per-task buffer and with a shared one; plus an empty-hooks
build and an uninstrumented one.  Checks: every build prints the same
tests, every instrumented build records the same number of PCs, and no
periodic drain finds a buffer full.  Timing: hyperfine over all builds,
whole process, in rounds; JSON and Markdown exports, a slowdown table, the
commands and the machine key in results/sqlite/.  Every step but timing is
skipped when its output is up to date (all under .cache/).
"""
import datetime
import glob
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys

from . import binary, results
from . import stats as kstats
from .common import ROOT, Failure, UsageError, atomic_write, first_line

NAME = "realprog"
HELP = "slowdown of each configuration on SQLite's speedtest1 (Debian source)"

CACHE = os.path.join(ROOT, ".cache")
APT = os.path.join(CACHE, "apt")
WORK = os.path.join(CACHE, "realprog")
SRC = os.path.join(WORK, "src")
AMAL = os.path.join(WORK, "amal")
OBJ = os.path.join(WORK, "obj")
BIN = os.path.join(WORK, "bin")
OUT = os.path.join(ROOT, "results", "sqlite")
PLAIN = os.path.join(ROOT, "build", "plain")

HOOKS = ("trace_pc", "trace_cmp1", "trace_cmp2", "trace_cmp4", "trace_cmp8",
         "trace_const_cmp1", "trace_const_cmp2", "trace_const_cmp4", "trace_const_cmp8",
         "trace_switch")
COV = "-fsanitize-coverage=trace-pc,trace-cmp"
SQLITE_CFLAGS = ["-O2", "-g0"]
RT_CFLAGS = ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-Werror", "-D_GNU_SOURCE", "-DKCB_INSTRUMENT_RT"]
LIBS = ["-lurcu-memb", "-pthread", "-lm"]
# speedtest1 --size: the instrumented builds run 0.5-1.5 s each on the
# 2-core VM this was tuned on (the uninstrumented one ~0.05 s).
DEFAULT_SIZE = 3
DEFAULT_RUNS = 5
DEFAULT_ROUNDS = 3


def say(msg):
    print("realprog: " + msg, file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, quiet=True):
    """Run cmd; Failure with its tail if it fails."""
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                       stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None)
    if r.returncode:
        tail = (r.stdout or "")[-2000:] if quiet else ""
        raise Failure("%s exited %d\n%s" % (" ".join(shlex.quote(c) for c in cmd),
                                          r.returncode, tail))
    return r.stdout or ""


def newer(out, *ins):
    """True if out is missing or older than any of ins."""
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(i) > t for i in ins)


# ---------------------------------------------------------------- fetch

def _apt_paths():
    """This machine's sources.list and sources.list.d, from apt-config."""
    out = subprocess.run(["apt-config", "shell", "SL", "Dir::Etc::sourcelist/f",
                          "SP", "Dir::Etc::sourceparts/d"],
                         capture_output=True, text=True).stdout
    vals = dict(re.findall(r"^(SL|SP)='([^']*)'", out, re.M))
    return vals.get("SL", "/etc/apt/sources.list"), vals.get("SP", "/etc/apt/sources.list.d/")


def src_from_list(text):
    """deb-src twins of the enabled `deb` lines of a one-line-style list."""
    return ["deb-src" + m.group(1) for m in re.finditer(r"^\s*deb(\s.*)$", text, re.M)]


def src_from_deb822(text):
    """deb-src twins of the enabled stanzas of a deb822 .sources file that
    have `deb` among their Types: every other field (URIs, Suites,
    Components, Signed-By, ...) copied as it is, comments dropped."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [l for l in block.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        kv = {}
        for l in lines:
            if ":" in l and not l[0].isspace():
                k, v = l.split(":", 1)
                kv[k.strip().lower()] = v.strip()
        if "deb" not in kv.get("types", "").split() or kv.get("enabled", "yes").lower() == "no":
            continue
        out.append("\n".join("Types: deb-src" if l.lower().startswith("types:") else l
                             for l in lines))
    return out


def deb_src_entries():
    """(one-line text, deb822 text) derived from this machine's apt sources."""
    sl, sp = _apt_paths()
    one, stanzas = [], []
    for path in [sl] + sorted(glob.glob(os.path.join(sp, "*.list"))):
        try:
            one += src_from_list(open(path).read())
        except OSError:
            pass
    for path in sorted(glob.glob(os.path.join(sp, "*.sources"))):
        try:
            stanzas += src_from_deb822(open(path).read())
        except OSError:
            pass
    return "\n".join(one) + ("\n" if one else ""), "\n\n".join(stanzas) + ("\n" if stanzas else "")


def apt_opts():
    opts = ["-o", "Dir::Etc::sourcelist=" + os.path.join(APT, "sources.list"),
            "-o", "Dir::Etc::sourceparts=" + os.path.join(APT, "sources.list.d"),
            "-o", "Dir::State::Lists=" + os.path.join(APT, "lists"),
            "-o", "Dir::Cache=" + os.path.join(APT, "cache")]
    if os.geteuid() == 0:       # our own dirs: no need for the _apt sandbox user
        opts += ["-o", "APT::Sandbox::User=root"]
    return opts


def source_dir():
    found = sorted(glob.glob(os.path.join(SRC, "sqlite3-*", "test", "speedtest1.c")))
    return os.path.dirname(os.path.dirname(found[-1])) if found else None


def fetch():
    if source_dir():
        return source_dir()
    for tool in ("apt-get", "dpkg-source"):
        if not shutil.which(tool):
            raise Failure("need %s (Debian's apt and dpkg-dev; scripts/setup installs them)" % tool)
    one, deb822 = deb_src_entries()
    if not one.strip() and not deb822.strip():
        raise Failure("no deb entries in this machine's apt sources to derive deb-src from")
    for d in ("sources.list.d", "lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(APT, d), exist_ok=True)
    atomic_write(os.path.join(APT, "sources.list"), one)
    atomic_write(os.path.join(APT, "sources.list.d", "realprog-src.sources"), deb822)
    say("apt-get update (private lists in .cache/apt) and apt-get source sqlite3")
    run(["apt-get", "-q"] + apt_opts() + ["update"])
    os.makedirs(SRC, exist_ok=True)
    run(["apt-get", "-q"] + apt_opts() + ["source", "sqlite3"], cwd=SRC)
    d = source_dir()
    if not d:
        raise Failure("apt-get source sqlite3 gave no test/speedtest1.c under %s" % SRC)
    return d


def need_tclsh():
    if shutil.which("tclsh"):
        return
    if os.geteuid() != 0:
        raise Failure("making sqlite3.c needs tclsh: apt-get install tcl")
    say("installing tcl (tclsh makes the amalgamation)")
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "tcl"],
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def amalgamation(src):
    out = os.path.join(AMAL, "sqlite3.c")
    if os.path.exists(out) and os.path.exists(os.path.join(AMAL, "sqlite3.h")):
        return AMAL
    need_tclsh()
    shutil.rmtree(AMAL, ignore_errors=True)
    os.makedirs(AMAL)
    say("making the amalgamation sqlite3.c (configure; make sqlite3.c)")
    run([os.path.join(src, "configure"), "--disable-tcl"], cwd=AMAL)
    run(["make", "-j%d" % (os.cpu_count() or 1), "sqlite3.c"], cwd=AMAL)
    return AMAL


# ---------------------------------------------------------------- build

def configs(macro=None):
    """[(name, fe, pair)] from variants/configs.h: every X() line, or only
    those of one list (KCB_CONFIGS: upstream; KCB_PROPOSED_CONFIGS)."""
    text = open(os.path.join(ROOT, "variants", "configs.h")).read()
    if macro:
        text = text.split("#define %s(X)" % macro, 1)[1].split("\n\n", 1)[0]
    return re.findall(r'X\("([^"]+)",\s*(\w+),\s*(\w+)\)', text)


# Every build command, run or up to date, for results/sqlite/build-commands.sh.
BUILD_CMDS = []


def step(out, cmd, inputs):
    """Run cmd (which writes out + ".tmp") if out is older than inputs."""
    BUILD_CMDS.append(" ".join(shlex.quote(c.replace(ROOT + os.sep, ""))
                               for c in cmd).replace(".tmp", ""))
    if newer(out, *inputs):
        run(cmd)
        os.replace(out + ".tmp", out)
    return out


def cc(out, src, flags, inputs=()):
    return step(out, ["gcc"] + flags + ["-c", src, "-o", out + ".tmp"], (src,) + tuple(inputs))


def build(src, which):
    """{name: executable}; name is "uninstrumented", "empty-hooks",
    "<config>" (per-task buffer) or "<config>/shared"."""
    os.makedirs(OBJ, exist_ok=True)
    os.makedirs(BIN, exist_ok=True)
    inc = ["-I" + AMAL]
    sq, st = os.path.join(AMAL, "sqlite3.c"), os.path.join(src, "test", "speedtest1.c")
    objs = {}
    for kind, extra in (("plain", []), ("cov", [COV])):
        say("compiling sqlite3.c and speedtest1.c (%s)" % ("instrumented" if extra else "uninstrumented"))
        objs[kind] = [cc(os.path.join(OBJ, "speedtest1_%s.o" % kind), st, SQLITE_CFLAGS + extra + inc),
                      cc(os.path.join(OBJ, "sqlite3_%s.o" % kind), sq, SQLITE_CFLAGS + extra + inc)]
    exe = binary.ensure_built()     # build/plain/*.o, the hooks as benchmarked
    rt_src = os.path.join(ROOT, "bench", "instrument_rt.c")
    heads = glob.glob(os.path.join(ROOT, "hotpath", "*.h")) + \
        glob.glob(os.path.join(ROOT, "variants", "*.h"))
    rt = {k: cc(os.path.join(OBJ, "instrument_rt_%s.o" % k), rt_src, RT_CFLAGS + d,
                heads + [__file__])
          for k, d in (("pertask", ["-DKCB_RT_SHARED=0"]), ("shared", ["-DKCB_RT_SHARED=1"]),
                       ("empty", ["-DKCB_RT_EMPTY=1"]))}
    kcb = [os.path.join(PLAIN, "hotpath_kcb_user.o"), os.path.join(PLAIN, "hotpath_kcb_common.o")]

    def link(name, ins, libs):
        out = os.path.join(BIN, name.replace("/", "@"))
        return step(out, ["gcc", "-o", out + ".tmp"] + ins + libs, [exe] + ins)

    bins = {"uninstrumented": link("uninstrumented", objs["plain"], ["-pthread", "-lm"]),
            "empty-hooks": link("empty-hooks", objs["cov"] + [rt["empty"]], ["-pthread", "-lm"])}
    for name, fe, pair in which:
        fe_obj = os.path.join(PLAIN, "variants_fe_%s.o" % fe)
        hooks = os.path.join(OBJ, "hooks_%s__%s.o" % (fe, pair))
        syms = []
        for h in HOOKS:
            syms += ["--redefine-sym", "kcb_%s__%s__%s=__sanitizer_cov_%s" % (fe, pair, h, h)]
        syms += ["--redefine-sym", "kcb_%s__%s__combo=kcb_rt_combo" % (fe, pair)]
        # the drain must see when it interrupts a hook (instrument_rt.c)
        syms += ["--rename-section", ".text=kcb_hooks_text"]
        step(hooks, ["objcopy"] + syms + [fe_obj, hooks + ".tmp"], [fe_obj, __file__])
        # kcb_user.o before the runtime: its constructor must run first
        for mode in ("pertask", "shared"):
            label = name if mode == "pertask" else name + "/shared"
            bins[label] = link(label, objs["cov"] + kcb + [hooks, rt[mode]], LIBS)
    return bins


# ---------------------------------------------------------------- check

STATS = re.compile(r"instrument_rt: \S+ (per-task|shared \(moved\)|shared \(attached\)) "
                   r"buffer, \w+ mode: (\d+) drains, (\d+) in a hook, (\d+) records drained, largest fill "
                   r"(\d+) of (\d+), (\d+) drains found it full, (\d+) records lost in moves")


# The exact-count run: one drain, at exit, into a buffer that holds it all.
COUNT_SIZE = 1
COUNT_ENV = {"KCB_RT_PERIOD_US": str(3600 * 10 ** 6), "KCB_RT_WORDS": str(1 << 25)}


def _run_once(name, exe, size, env):
    r = subprocess.run([exe, "--size", str(size), "--memdb"], capture_output=True, text=True,
                       env=dict(os.environ, KCB_RT_STATS="1", **env))
    if r.returncode:
        raise Failure("%s exited %d: %s" % (name, r.returncode, r.stderr[-1000:]))
    # speedtest1 prints one line per test with its time: compare names only
    tests = [re.sub(r"\s+[\d.]+s$", "", l) for l in r.stdout.splitlines() if l.strip()]
    m = STATS.search(r.stderr)
    if name in ("uninstrumented", "empty-hooks"):
        return tests, None
    if not m:
        raise Failure("%s: no instrument_rt statistics line: %s" % (name, r.stderr[-500:]))
    drains, inhook, records, mx, cap, full, lost = (int(x) for x in m.groups()[1:])
    if full or lost:
        raise Failure("%s: %d drains found the buffer full, %d records lost (%s)"
                      % (name, full, lost, " ".join("%s=%s" % kv for kv in env.items())))
    return tests, {"buffer": m.group(1), "drains": drains, "in_hook": inhook,
                   "records": records, "max_fill": mx, "capacity": cap}


def check(bins, size):
    """Each build runs twice.  At --size COUNT_SIZE with no drain but the
    one at exit: the exact record count, which every instrumented build
    must share, and speedtest1's list of tests, which every build must
    print as the uninstrumented one does.  At the timing size with the
    timing's drains: no drain may find the buffer full; the largest fill,
    the drains that interrupted a hook and the records drained are kept
    (more than were recorded where a reset was lost).
    Returns ({name: stats of the timing-size run}, exact records)."""
    said, ref, counts = {}, None, {}
    for name, exe in bins.items():
        tests, exact = _run_once(name, exe, COUNT_SIZE, COUNT_ENV)
        if ref is None:
            ref = tests
        elif tests != ref:
            raise Failure("%s: speedtest1 output differs from the uninstrumented build" % name)
        if exact is None:
            continue
        if exact["drains"]:
            raise Failure("%s: drained during the exact-count run" % name)
        counts.setdefault(exact["records"], []).append(name)
        _, said[name] = _run_once(name, exe, size, {})
    if len(counts) != 1:
        raise Failure("builds recorded different numbers of PCs at --size %d: %s"
                      % (COUNT_SIZE, counts))
    return said, list(counts)[0]


# ---------------------------------------------------------------- machine key

def _dpkg(pkg):
    return first_line(["dpkg-query", "-W", "-f=${Version}", pkg]) or "?"


def machine_key(src):
    cpu = "?"
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(), re.M)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    dsc = sorted(glob.glob(os.path.join(SRC, "sqlite3_*.dsc")))
    deb = os.path.basename(dsc[-1])[len("sqlite3_"):-len(".dsc")] if dsc else "?"
    ver = open(os.path.join(src, "VERSION")).read().strip()
    ls = subprocess.run(["lscpu"], capture_output=True, text=True,
                        env=dict(os.environ, LC_ALL="C")).stdout
    kv = dict((k.strip(), v.strip()) for k, v in
              (l.split(":", 1) for l in ls.splitlines() if ":" in l))
    try:
        cores = str(int(kv["Core(s) per socket"]) * int(kv["Socket(s)"]))
    except (KeyError, ValueError):
        cores = "?"
    git = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "?"
    # results/ does not make a build dirty (scripts/build-version's rule):
    # this run's own output is written there before the key is taken
    if subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                       "--", ".", ":!results"],
                      capture_output=True, text=True).stdout.strip():
        git += "-dirty"
    return [("cpu", cpu), ("cores", cores), ("cpus", str(len(os.sched_getaffinity(0)))),
            ("kernel", platform.release()),
            ("compiler", first_line(["gcc", "--version"]) or "?"),
            ("glibc", platform.libc_ver()[1] or "?"),
            ("liburcu", _dpkg("liburcu-dev")),
            ("sqlite", "%s (Debian source %s)" % (ver, deb)),
            ("hyperfine", first_line(["hyperfine", "--version"]) or "?"),
            ("virt", "+".join(v for v in (first_line(["systemd-detect-virt", "--vm"]),
                                          first_line(["systemd-detect-virt", "--container"]))
                              if v and v != "none") or "none"),
            ("git", git)]


# ---------------------------------------------------------------- time

def _rel(p):
    return os.path.relpath(p, ROOT)


def _took(sec):
    return "%.1f s" % sec + (" (outputs up to date were kept)" if sec < 5 else "")


def hyperfine(bins, size, runs, warmup, rounds, out):
    """rounds hyperfine invocations over all builds, each with runs timed
    runs per build, the order rotated between rounds (a shared machine's
    load drifts: no build should always come first or last).  Returns the
    commands and {name: [seconds]} over all rounds."""
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]
    names = list(bins)
    cmds, times, cpu_t = [], {n: [] for n in names}, {}
    for r in range(rounds):
        k = (r * len(names)) // rounds
        order = names[k:] + names[:k]
        j, md = (os.path.join(out, "hyperfine-round%d.%s" % (r + 1, x)) for x in ("json", "md"))
        cmd = ["taskset", "-c", str(cpu), "hyperfine", "-N", "--style", "basic",
               "--warmup", str(warmup), "--runs", str(runs),
               "--export-json", _rel(j), "--export-markdown", _rel(md)]
        for name in order:
            cmd += ["-n", name, "%s --size %d --memdb" % (_rel(bins[name]), size)]
        say("round %d/%d: timing %d builds, %d runs each (hyperfine, pinned to CPU %d)"
            % (r + 1, rounds, len(bins), runs, cpu))
        res = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        sys.stderr.write(res.stdout)
        if res.returncode:
            raise Failure("hyperfine exited %d" % res.returncode)
        with open(j) as f:
            for x in json.load(f)["results"]:
                times[x["command"]] += x["times"]
                # hyperfine keeps only the mean CPU time of a round
                cpu_t.setdefault(x["command"], []).append(
                    (x["user"] + x["system"], len(x["times"])))
        cmds.append(cmd)
    return cmds, times, cpu_t


def summary(times, cpu):
    """Wall-time statistics over all runs, and the mean CPU time (user +
    system), weighted by each round's runs."""
    return {n: {"runs": len(t), "median": statistics.median(t), "mean": statistics.mean(t),
                "stddev": statistics.stdev(t) if len(t) > 1 else 0.0, "min": min(t),
                "cpu_mean": sum(c * k for c, k in cpu[n]) / sum(k for _, k in cpu[n])}
            for n, t in times.items()}


def slowdown(times, name):
    """Wall-time slowdown against the uninstrumented build: the Hodges-
    Lehmann estimate of the ratio with its 95% interval (as `compare`), or
    "no measurable difference" when the interval holds 1."""
    est, low, high = kstats.hodges_lehmann(times["uninstrumented"], times[name])
    if low is None:
        return "%.2f (n too small)" % (1 + est)
    if low <= 0 <= high:
        return "no measurable difference"
    return "%.2f [%.2f-%.2f]" % (1 + est, 1 + low, 1 + high)


def table(summ, names, stats, times):
    base = summ["uninstrumented"]

    def cell(name):
        r = summ[name]
        return ("%.0f ms (%.0f ± %.0f)" % (r["median"] * 1e3, r["mean"] * 1e3, r["stddev"] * 1e3),
                slowdown(times, name), r["cpu_mean"] / base["cpu_mean"])

    lines = ["| configuration | per-task buffer: wall median (mean ± sd) | slowdown, wall [95%] "
             "| slowdown, CPU | shared buffer: wall median (mean ± sd) | slowdown, wall [95%] "
             "| slowdown, CPU | shared / per-task, wall | shared buffer set-up |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    c, _, _ = cell("uninstrumented")
    lines.append("| uninstrumented | %s | 1.00 | 1.00 | | | | | |" % c)
    c, x, y = cell("empty-hooks")
    lines.append("| empty hooks (the calls alone) | %s | %s | %.2f | | | | | |" % (c, x, y))
    # upstream rows first, then the proposals, marked
    for n in sorted(names, key=results.is_proposal):
        pc, px, py = cell(n)
        sc, sx, sy = cell(n + "/shared")
        how = "attached (shareable claim)" if "attached" in stats[n + "/shared"]["buffer"] \
            else "private area moved in"
        ratio = summ[n + "/shared"]["median"] / summ[n]["median"]
        lines.append("| %s%s | %s | %s | %.2f | %s | %s | %.2f | %.2f | %s |"
                     % (n, " [PROPOSAL]" if results.is_proposal(n) else "", pc, px, py,
                        sc, sx, sy, ratio, how))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command

def add_arguments(p):
    p.add_argument("--size", type=int, default=DEFAULT_SIZE,
                   help="speedtest1 --size (default %d)" % DEFAULT_SIZE)
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                   help="hyperfine runs per build and round (default %d)" % DEFAULT_RUNS)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help="hyperfine invocations, the build order rotated (default %d)"
                   % DEFAULT_ROUNDS)
    p.add_argument("--warmup", type=int, default=1, help="hyperfine warm-up runs (default 1)")
    p.add_argument("--configs", default="upstream",
                   help="comma-separated configurations, upstream (default: the 6 "
                        "upstream ones) or proposals (those and every proposal's, marked)")
    p.add_argument("--out", default=OUT, help="results directory (default results/sqlite)")
    p.add_argument("--build-only", action="store_true",
                   help="fetch, build and check; do not time")


def main(args):
    import time
    t0 = time.monotonic()
    allc = configs()
    if args.configs == "upstream":
        which = configs("KCB_CONFIGS")
    elif args.configs == "proposals":   # each beside the upstream ones, marked
        which = allc
    else:
        want = [c for c in args.configs.split(",") if c]
        bad = [c for c in want if c not in {n for n, _, _ in allc}]
        if bad:
            raise UsageError("unknown configuration %s (upstream ones: %s)"
                             % (", ".join(bad), " ".join(n for n, _, _ in allc)))
        which = [c for c in allc if c[0] in want]
    if args.size < 1 or args.runs < 2 or args.warmup < 0 or args.rounds < 1:
        raise UsageError("want --size >= 1, --runs >= 2, --rounds >= 1, --warmup >= 0")
    for tool in ("gcc", "objcopy", "make", "hyperfine", "taskset"):
        if not shutil.which(tool):
            raise Failure("need %s (scripts/setup installs it)" % tool)
    src = fetch()
    amalgamation(src)
    t_fetch = time.monotonic()
    bins = build(src, which)
    t_build = time.monotonic()
    stats, counts = check(bins, args.size)
    least = min(st["records"] for st in stats.values())
    for st in stats.values():
        st["recounted_pct"] = round((st["records"] - least) / least * 100, 2)
    say("check: all %d builds print the same tests; every instrumented build records %d "
        "PCs at --size %d; at --size %d no drain found a buffer full (largest fill %d of %d); "
        "records drained: %s" % (len(bins), counts, COUNT_SIZE, args.size,
                                 max(st["max_fill"] for st in stats.values()),
                                 max(st["capacity"] for st in stats.values()),
                                 ", ".join("%s %d" % (n, st["records"]) for n, st in stats.items())))
    if args.build_only:
        return 0
    os.makedirs(args.out, exist_ok=True)
    for old in glob.glob(os.path.join(args.out, "hyperfine*")):
        os.unlink(old)
    load0 = os.getloadavg()
    cmds, times, cpu = hyperfine(bins, args.size, args.runs, args.warmup, args.rounds, args.out)
    load1 = os.getloadavg()
    t_time = time.monotonic()
    summ = summary(times, cpu)
    key = machine_key(src)
    names = [n for n, _, _ in which]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fills = [(s["max_fill"], n) for n, s in stats.items()]
    text = README_HEAD.format(when=when)
    text += "\n" + table(summ, names, stats, times) + "\n"
    text += README_NOTES.format(
        size=args.size, runs=args.runs, warmup=args.warmup, rounds=args.rounds,
        total=args.runs * args.rounds, count_size=COUNT_SIZE,
        records=counts,
        fill="%d (%s)" % max(fills), cap=max(s["capacity"] for s in stats.values()),
        inhook="%d%%-%d%%" % (min(100 * s["in_hook"] // max(1, s["drains"]) for s in stats.values()),
                              max(100 * s["in_hook"] // max(1, s["drains"]) for s in stats.values())),
        recount=", ".join("%s %+.1f%%" % (n, s["recounted_pct"]) for n, s in stats.items()),
        moved=", ".join(n for n in names if "moved" in stats[n + "/shared"]["buffer"]) or "none",
        attached=", ".join(n for n in names if "attached" in stats[n + "/shared"]["buffer"])
        or "none")
    opts = "" if (args.size, args.runs, args.rounds, args.warmup, args.configs) == \
        (DEFAULT_SIZE, DEFAULT_RUNS, DEFAULT_ROUNDS, 1, "upstream") else \
        " --size %d --runs %d --rounds %d --warmup %d --configs %s" % (
            args.size, args.runs, args.rounds, args.warmup, args.configs)
    text += "\n## Command\n\n```sh\n./kcovbench realprog%s\n```\n\nwhich, after fetching and " \
        "building, ran these (from the repository root; `.cache/realprog/bin/` holds the builds):" \
        "\n\n```sh\n%s\n```\n" % (opts, "\n".join(" ".join(shlex.quote(c) for c in cmd)
                                                 for cmd in cmds))
    text += "\nThe build commands (compile, objcopy, link) are in `build-commands.sh`.\n"
    text += "\n## Machine\n\n```\n%s\n```\n\nLoad average (1 min) %.2f before timing, %.2f " \
        "after (other jobs share this VM). Steps of this run: fetch and amalgamation %s, " \
        "builds %s, checks and timing %.0f s.\n" % (
            "; ".join("%s=%s" % kv for kv in key), load0[0], load1[0],
            _took(t_fetch - t0), _took(t_build - t_fetch), t_time - t_build)
    atomic_write(os.path.join(args.out, "build-commands.sh"),
                 "#!/bin/sh\n# The build commands of `kcovbench realprog` (from the repository "
                 "root, after its fetch and amalgamation steps)\nset -e\ncd \"$(dirname "
                 "\"$0\")/../..\"\nmkdir -p .cache/realprog/obj .cache/realprog/bin\n"
                 + "\n".join(BUILD_CMDS) + "\n")
    atomic_write(os.path.join(args.out, "README.md"), text)
    # as every results set: the key line, the command, the binary's commit
    atomic_write(os.path.join(args.out, "key.txt"), "%s\ncommand: ./kcovbench realprog%s%s\n"
                 "runs: %d timed runs per build (%d rounds x %d), speedtest1 --size %d\n" % (
                     "; ".join("%s=%s" % kv for kv in key), opts,
                     "" if args.out == OUT else " --out " + os.path.relpath(args.out, ROOT),
                     args.runs * args.rounds, args.rounds, args.runs, args.size))
    atomic_write(os.path.join(args.out, "summary.json"), json.dumps(
        {"size": args.size, "machine": dict(key), "timing_seconds": summ,
         "exact_records_per_run_at_size_%d" % COUNT_SIZE: counts,
         "check_run_at_timing_size": stats}, indent=1) + "\n")
    print(text)
    return 0


README_HEAD = """# SQLite speedtest1 under each kcov hook configuration

Timing from this project's **2-core VM** (a KVM guest shared with other
jobs), {when}: whole-process wall time of `speedtest1 --memdb` (SQLite's
own benchmark, from Debian's sqlite3 source package) built with
`-fsanitize-coverage=trace-pc,trace-cmp` and linked with each
configuration's hooks, against the same program built without
instrumentation.  Slowdown = median time / the uninstrumented build's
median time (and, beside it, the same ratio of CPU time).  Produced by
`./kcovbench realprog`; hyperfine's JSON and
Markdown exports are `hyperfine-round*.json` and `hyperfine-round*.md`;
`summary.json` has the statistics over all rounds and the check runs;
`instructions.md` (from `scripts/realprog-callgrind`) where the
instructions go, hook by hook.
"""

README_NOTES = """
How it was built and run:

- speedtest1 `--size {size} --memdb`; hyperfine `-N`, {rounds} rounds (the
  build order rotated between rounds), each with {warmup} warm-up and
  {runs} timed runs per build: {total} timed runs per build in all, pinned
  to one CPU (the traced thread is pinned there by
  `kcb_thread_attach(0, true)` too).
- sqlite3.c (the amalgamation made from the Debian source) and
  speedtest1.c are compiled once with `-O2 -fsanitize-coverage=trace-pc,trace-cmp`
  and once with `-O2` alone, and linked per configuration: the
  instrumented code is identical in every build, only the hooks differ.
  The hooks are the configuration's functions in
  `build/plain/variants_fe_<fe>.o` (the object the benchmarks and the gate
  measure), renamed to `__sanitizer_cov_*` by `objcopy --redefine-sym`.
  The runtime (`bench/instrument_rt.c`), kcb and the hooks are not
  instrumented.  Float and double comparisons
  (`__sanitizer_cov_trace_cmpf/cmpd`, with no kernel counterpart) call an
  empty function in every build.
- The traced task records PCs (trace-pc mode); the trace-cmp hooks run
  their front end's lookup and return, as in a kernel tracing PCs.
- Per-task buffer: `kcb_task_enable()` on the task's own buffer.  Shared
  buffer: an owner's buffer; where the pc claim is shareable the task is
  attached to it directly (`kcb_task_attach`: {attached}); otherwise it
  records into a private area that each drain moves into the owner with
  the combo's `move`, as Linux moves a remote area ({moved}).
- Drain: a 1 ms CLOCK_MONOTONIC timer signals the task; the handler takes
  the record count and resets it (after the move).  A signal can land
  inside a hook, where a non-atomic claim may undo the reset (it stores the
  count it loaded plus one); a drain that interrupted a hook (the PC is
  inside the hooks' code, which is linked as a section of its own) arms one
  retry 20 µs later, so an undone reset costs 20 µs of buffer, not a
  period, unless the retry's reset is undone too.
  The buffer holds {cap} records.  A check run of every build at the
  timing size, before timing, saw a largest fill at a drain of {fill} and
  no drain that found a buffer full: the hooks took their recording path,
  not the buffer-full path.  In that run {inhook} of the drains
  interrupted a hook; the records drained exceed the records written by
  what undone resets counted twice (relative to the fewest drained, the
  cas builds', whose resets a hook cannot undo): {recount}.
- A second check run of every build at `--size {count_size}`, with no drain
  but one at exit, counted the records exactly: every instrumented build
  recorded {records} PCs, and every build printed the uninstrumented
  build's list of tests.
- Slowdown, wall: the Hodges-Lehmann estimate of wall time / the
  uninstrumented build's over all timed runs, with its distribution-free
  95% interval (the method of `kcovbench compare`); "no measurable
  difference" when the interval holds 1.  Rows marked [PROPOSAL] are
  proposals (`--configs proposals`), after the upstream rows.
  Slowdown, CPU: mean user + system time / the uninstrumented build's
  (hyperfine's per-round means, weighted by runs): less sensitive to other
  jobs taking the CPU on this shared VM, not to their use of the caches.
"""


if __name__ == "__main__":
    import argparse
    sys.dont_write_bytecode = True
    ap = argparse.ArgumentParser(prog="kcovbench realprog", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    try:
        sys.exit(main(ap.parse_args()))
    except UsageError as e:
        print("kcovbench realprog: error: %s" % e, file=sys.stderr)
        sys.exit(2)
    except Failure as e:
        print("kcovbench realprog: %s" % e, file=sys.stderr)
        sys.exit(1)
