"""kcovbench realprog: each configuration's slowdown on real programs that
no one here wrote, built from Debian source by the recipes in realprog/
(the format: realprog/README.md).

For each program: fetch (`apt-get source`, with a private apt
configuration in .cache/apt whose deb-src entries are derived from this
machine's own apt sources; the system's configuration is not touched),
set up (the recipe's Setup, once), build (its Build in a fresh copy of the
tree, once per instrumentation set: none, trace-pc, trace-pc,trace-cmp),
link per set: the empty hooks (the calls alone), each front end with no
claim (build/feonly/: the lookup alone), and each configuration's hooks
(build/plain/variants_fe_<fe>.o, renamed to __sanitizer_cov_* by
objcopy), with bench/instrument_rt.c as the runtime.  Check: every build
prints what the uninstrumented one prints, every full build of a set
drains the same number of PCs (the drain is exact: instrument_rt.c), the
front-end-only builds none.  Count: callgrind's instructions per hook.
Time: hyperfine over all builds in interleaved rounds, pinned.  Results:
results/realprog/<program>/ (README.md with the tables, summary.json,
key.txt, hyperfine's JSON, build-commands.sh) and results/realprog/README.md,
the index.  Every step but timing is skipped when its output is up to date.
"""
import concurrent.futures
import datetime
import functools
import glob
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

from . import binary, recipe, realprog_report as report
from . import machine
from .common import ROOT, Failure, Staging, UsageError, atomic_write, first_line

NAME = "realprog"
HELP = "slowdown of each configuration on real programs (Debian source, realprog/*.recipe)"

CACHE = os.path.join(ROOT, ".cache")
APT = os.path.join(CACHE, "apt")
WORK = os.path.join(CACHE, "realprog")
OUT = os.path.join(ROOT, "results", "realprog")
PLAIN = os.path.join(ROOT, "build", "plain")
FEONLY = os.path.join(ROOT, "build", "feonly")

HOOKS = ("trace_pc", "trace_cmp1", "trace_cmp2", "trace_cmp4", "trace_cmp8",
         "trace_const_cmp1", "trace_const_cmp2", "trace_const_cmp4", "trace_const_cmp8",
         "trace_switch")
OPT = "-O2 -g0"
# The instrumentation sets: (id, flags, what the tables call it).
SETS = (("pc", "-fsanitize-coverage=trace-pc", "trace-pc"),
        ("cmp", "-fsanitize-coverage=trace-pc,trace-cmp", "trace-pc,trace-cmp"))
RT_CFLAGS = ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-Werror", "-D_GNU_SOURCE", "-DKCB_INSTRUMENT_RT"]
LIBS = ["-lurcu-memb", "-pthread", "-lm"]
# callgrind counts the builds of this set (the other's hooks are a subset)
CG_SET = "cmp"
DEFAULT_RUNS = 2
DEFAULT_ROUNDS = 5


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


def newer(out, *ins):
    """True if out is missing or older than any of ins."""
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(i) > t for i in ins)


def digest(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


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


# ---------------------------------------------------------------- source

def _apt_ready():
    if os.path.exists(os.path.join(APT, "lists", ".updated")):
        return
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
    say("apt-get update (private lists in .cache/apt)")
    run(["apt-get", "-q"] + apt_opts() + ["update"])
    atomic_write(os.path.join(APT, "lists", ".updated"), "")


def get_source(name, pkg, dest):
    """apt-get source pkg into dest: the newest version, or, where that one's
    files cannot be fetched (a security pool that lists more than it
    serves), the newest that can; the key names the version fetched."""
    say("%s: apt-get source %s" % (name, pkg))
    try:
        run(["apt-get", "-q"] + apt_opts() + ["source", pkg], cwd=dest)
        return
    except Failure as e:
        first = e
    vers = re.findall(r"^Version: (\S+)", run(["apt-cache"] + apt_opts() + ["showsrc", pkg]), re.M)
    vers = sorted(set(vers), key=functools.cmp_to_key(
        lambda a, b: -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode
        == 0 else 1), reverse=True)
    for v in vers[1:]:
        say("%s: the newest %s cannot be fetched; trying %s=%s" % (name, pkg, pkg, v))
        try:
            run(["apt-get", "-q"] + apt_opts() + ["source", "%s=%s" % (pkg, v)], cwd=dest)
            return
        except Failure:
            continue
    raise first


def _find_tree(rc, src):
    found = sorted(glob.glob(os.path.join(src, "*", rc.tree)))
    return found[-1][:-len(rc.tree)].rstrip("/") if found else None


def fetch(rc):
    """The unpacked, set-up source tree of rc; RUN_DIR holds its inputs."""
    base = os.path.join(WORK, rc.name)
    src, run_dir = os.path.join(base, "src"), os.path.join(base, "run")
    stamp = os.path.join(base, "setup.stamp")
    want = digest(rc.source, rc.tree, rc.setup)
    tree = _find_tree(rc, src)
    if tree and os.path.exists(stamp) and open(stamp).read() == want:
        return tree, run_dir
    missing = [p for p in rc.needs if "ok installed" not in (first_line(
        ["dpkg-query", "-W", "-f=${Status}", p]) or "")]
    if missing:
        raise Failure("%s needs %s: scripts/setup installs them" % (rc.name, " ".join(missing)))
    dsc = sorted(glob.glob(os.path.join(src, "%s_*.dsc" % rc.source)))
    if tree:            # set up before with another Setup: unpack afresh
        shutil.rmtree(tree)
    if dsc:
        say("%s: unpacking %s" % (rc.name, os.path.basename(dsc[-1])))
        run(["dpkg-source", "-x", os.path.basename(dsc[-1])], cwd=src)
    else:
        _apt_ready()
        os.makedirs(src, exist_ok=True)
        get_source(rc.name, rc.source, src)
    tree = _find_tree(rc, src)
    if not tree:
        raise Failure("%s: apt-get source %s gave no tree with %s" % (rc.name, rc.source, rc.tree))
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    if rc.setup:
        say("%s: Setup (in %s)" % (rc.name, os.path.relpath(tree, ROOT)))
        run(["sh", "-ec", rc.setup], cwd=tree, env=dict(os.environ, RUN_DIR=run_dir, CC="gcc",
                                                      JOBS=str(os.cpu_count() or 1)))
    atomic_write(stamp, want)
    return tree, run_dir


# ---------------------------------------------------------------- build

def configs(macro=None):
    """[(name, fe, pair)] from variants/configs.h: every X() line, or only
    those of one list (KCB_CONFIGS: upstream; KCB_PROPOSED_CONFIGS)."""
    text = open(os.path.join(ROOT, "variants", "configs.h")).read()
    if macro:
        text = text.split("#define %s(X)" % macro, 1)[1].split("\n\n", 1)[0]
    return re.findall(r'X\("([^"]+)",\s*(\w+),\s*(\w+)\)', text)


# With --cpu, the checks and callgrind run there too, one at a time, so
# that two programs can be measured at once, one per CPU.
PIN = []

# Every build command, run or up to date, for build-commands.sh.
BUILD_CMDS = []


def step(out, cmd, inputs):
    """Run cmd (which writes out + ".tmp") if out is older than inputs."""
    BUILD_CMDS.append(" ".join(shlex.quote(c.replace(ROOT + os.sep, ""))
                               for c in cmd).replace(".tmp", ""))
    if newer(out, *inputs):
        # two programs measured at once (--cpu) share the hooks and runtime
        tmp = "%s.tmp.%d" % (out, os.getpid())
        run([c.replace(out + ".tmp", tmp) for c in cmd])
        os.replace(tmp, out)
    return out


def compile_set(rc, tree, sid, flags):
    """The recipe's objects for one instrumentation set (sid "plain" or a
    SETS id), built in a fresh copy of the set-up tree."""
    d = os.path.join(WORK, rc.name, "build-" + sid)
    stamp = d + ".stamp"
    cflags = (OPT + " " + flags).strip()
    want = digest(open(os.path.join(WORK, rc.name, "setup.stamp")).read(), rc.build,
                  " ".join(rc.objects), cflags)
    BUILD_CMDS.append("# %s, %s: in a copy of the set-up tree, CC=gcc CFLAGS=%s\n%s"
                      % (rc.name, sid, shlex.quote(cflags), rc.build))
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        say("%s: building the %s set (CFLAGS=%s)" % (rc.name, sid, cflags))
        shutil.rmtree(d, ignore_errors=True)
        run(["cp", "-a", tree, d])
        run(["sh", "-ec", rc.build], cwd=d, env=dict(os.environ, CC="gcc", CFLAGS=cflags,
                                                   JOBS=str(os.cpu_count() or 1)))
        atomic_write(stamp, want)
    objs = []
    for pat in rc.objects:
        got = sorted(glob.glob(os.path.join(d, pat)))
        if not got:
            raise Failure("%s: Objects: %s matches nothing after Build (%s set)"
                          % (rc.name, pat, sid))
        objs += got
    return objs


def runtime():
    """bench/instrument_rt.c compiled per-task and empty, and kcb."""
    d = os.path.join(WORK, "rt")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(ROOT, "bench", "instrument_rt.c")
    heads = glob.glob(os.path.join(ROOT, "hotpath", "*.h")) + \
        glob.glob(os.path.join(ROOT, "variants", "*.h"))
    rt = {}
    for k, defs in (("pertask", ["-DKCB_RT_SHARED=0"]), ("empty", ["-DKCB_RT_EMPTY=1"])):
        out = os.path.join(d, "instrument_rt_%s.o" % k)
        rt[k] = step(out, ["gcc"] + RT_CFLAGS + defs + ["-c", src, "-o", out + ".tmp"],
                     [src, __file__] + heads)
    kcb = [os.path.join(PLAIN, "hotpath_kcb_user.o"), os.path.join(PLAIN, "hotpath_kcb_common.o")]
    # the proposals' mechanisms (guard bitmap, hash table, chunk) live
    # beside their variants now: every variants/*.c but the front ends,
    # the remote designs and the registries, as scripts/configure's CORE
    kcb += [os.path.join(PLAIN, "variants_%s.o" % os.path.basename(c)[:-2])
            for c in sorted(glob.glob(os.path.join(ROOT, "variants", "*.c")))
            if not os.path.basename(c).startswith(("fe_", "remote_", "registry", "lookups"))]
    return rt, kcb


def hooks(fe, pair, fe_only):
    """One configuration's hooks (or its front end's, with no claim) as the
    compiler names them, their code in a section of its own (the drain
    must see when it interrupts a hook: instrument_rt.c)."""
    src = os.path.join(FEONLY if fe_only else PLAIN, "variants_fe_%s.o" % fe)
    pair = "fe_only" if fe_only else pair
    d = os.path.join(WORK, "hooks")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "%s__%s.o" % (fe, pair))
    syms = []
    for h in HOOKS:
        syms += ["--redefine-sym", "kcb_%s__%s__%s=__sanitizer_cov_%s" % (fe, pair, h, h)]
    syms += ["--redefine-sym", "kcb_%s__%s__combo=kcb_rt_combo" % (fe, pair)]
    syms += ["--rename-section", ".text=kcb_hooks_text"]
    return step(out, ["objcopy"] + syms + [src, out + ".tmp"], [src, __file__])


def build(rc, tree, which):
    """{build name: executable}: "uninstrumented"; per set S, "S/empty",
    "S/fe-only/<fe>" and "S/<config>"."""
    exe = binary.ensure_built()     # build/plain/*.o, the hooks as benchmarked
    run(["ninja", "-C", ROOT, "feonly"])
    rt, kcb = runtime()
    bindir = os.path.join(WORK, rc.name, "bin")
    os.makedirs(bindir, exist_ok=True)

    def link(name, ins):
        out = os.path.join(bindir, name.replace("/", "@"))
        return step(out, ["gcc", "-o", out + ".tmp"] + ins + rc.libs + LIBS, [exe] + ins)

    bins = {"uninstrumented": link("uninstrumented", compile_set(rc, tree, "plain", ""))}
    for sid, flags, _ in SETS:
        objs = compile_set(rc, tree, sid, flags)
        bins[sid + "/empty"] = link(sid + "/empty", objs + [rt["empty"]])
        for fe in sorted({fe for _, fe, _ in which}):
            bins["%s/fe-only/%s" % (sid, fe)] = link(
                "%s/fe-only/%s" % (sid, fe), objs + kcb + [hooks(fe, None, True), rt["pertask"]])
        # kcb_user.o before the runtime: its constructor must run first
        for name, fe, pair in which:
            bins["%s/%s" % (sid, name)] = link("%s/%s" % (sid, name),
                                               objs + kcb + [hooks(fe, pair, False), rt["pertask"]])
    return bins


# ---------------------------------------------------------------- check

STATS = re.compile(r"instrument_rt: \S+ per-task buffer, pc mode: (\d+) drains, (\d+) in a hook, "
                   r"(\d+) records drained, largest fill (\d+) of (\d+), "
                   r"(\d+) drains found it full, (\d+) records lost in moves")


def run_build(rc, name, exe, run_dir, small):
    """Run one build once: (its compared output, its drain statistics or
    None for the builds without kcb)."""
    cmd = rc.command(os.path.relpath(exe, run_dir), small)
    r = subprocess.run(PIN + shlex.split(cmd), cwd=run_dir, capture_output=True,
                       env=dict(os.environ, KCB_RT_STATS="1"))
    if r.returncode:
        raise Failure("%s %s: `%s` exited %d: %s" % (rc.name, name, cmd, r.returncode,
                                                    r.stderr[-1000:].decode(errors="replace")))
    out = rc.output(r.stdout)
    err = r.stderr.decode(errors="replace")
    if name == "uninstrumented" or name.endswith("/empty"):
        return out, None
    m = STATS.search(err)
    if not m:
        raise Failure("%s %s: no instrument_rt statistics line: %s" % (rc.name, name, err[-500:]))
    v = [int(x) for x in m.groups()]
    st = dict(zip(("drains", "in_hook", "records", "max_fill", "capacity", "full", "lost"), v))
    if st["full"] or st["lost"]:
        raise Failure("%s %s: %d drains found the buffer full, %d records lost"
                      % (rc.name, name, st["full"], st["lost"]))
    return out, st


def check(rc, bins, run_dir, jobs):
    """Every build at Run-Small, and every full build at Run too (what the
    timing runs do, with its drains): each prints the uninstrumented
    build's output; in each set the full builds drain one number of
    records and the front-end-only builds none.  Returns {size: {build:
    drain statistics}}."""
    said = {}
    for small in (True, False):
        names = [n for n in bins if small or n == "uninstrumented" or
                 not (n.endswith("/empty") or "/fe-only/" in n)]
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            got = dict(zip(names, ex.map(lambda n: run_build(rc, n, bins[n], run_dir, small),
                                         names)))
        ref = got["uninstrumented"][0]
        if not ref:
            raise Failure("%s: the uninstrumented build prints nothing to compare" % rc.name)
        for n, (out, _) in got.items():
            if out != ref:
                raise Failure("%s %s: output differs from the uninstrumented build's (%s)"
                              % (rc.name, n, "Run-Small" if small else "Run"))
        size = "Run-Small" if small else "Run"
        said[size] = {n: st for n, (_, st) in got.items() if st}
        for sid, _, _ in SETS:
            full = {n: st["records"] for n, st in said[size].items()
                    if n.startswith(sid + "/") and "/fe-only/" not in n}
            if len(set(full.values())) != 1:
                raise Failure("%s (%s, %s): the full builds drained different numbers of "
                              "records: %s" % (rc.name, sid, size, full))
            if not list(full.values())[0]:
                raise Failure("%s (%s, %s): no records" % (rc.name, sid, size))
            bad = {n: st["records"] for n, st in said[size].items()
                   if n.startswith(sid + "/fe-only/") and st["records"]}
            if bad:
                raise Failure("%s (%s): front-end-only builds recorded: %s" % (rc.name, sid, bad))
    return said


# ---------------------------------------------------------------- callgrind

def _callgrind_one(rc, name, exe, run_dir, tmp):
    out = os.path.join(tmp, name.replace("/", "@") + ".cg")
    cmd = rc.command(os.path.relpath(exe, run_dir), small=True)
    r = subprocess.run(PIN + ["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file=" + out] +
                       shlex.split(cmd), cwd=run_dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        raise Failure("%s %s under callgrind exited %d: %s"
                      % (rc.name, name, r.returncode, r.stderr[-500:].decode(errors="replace")))
    ann = run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out])
    total = int(re.search(r"^\s*([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann, re.M)
                .group(1).replace(",", ""))
    parts = {k: 0 for k in report.CG_PARTS}
    for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*:(__sanitizer_cov_\w+|kcb_\w+)", ann, re.M):
        n, v = m.group(2).replace("__sanitizer_cov_", ""), int(m.group(1).replace(",", ""))
        key = n if n in ("trace_pc", "trace_switch") else \
            "impl" if n.endswith(("__impl_pc", "__impl_cmp")) else \
            "cmp" if n.startswith("trace_") and "cmp" in n else "other"
        parts[key] += v
    return name, {"total": total, "parts": parts}


def callgrind(rc, bins, run_dir, jobs):
    """Instructions of the uninstrumented build and the empty-hook and full
    builds of CG_SET (syzkaller's set-up) at Run-Small, in all and in each kind of hook (self cost), from
    callgrind: exact counts, whatever the machine's load."""
    import tempfile
    names = [n for n in bins if n == "uninstrumented" or
             (n.startswith(CG_SET + "/") and "/fe-only/" not in n)]
    say("%s: callgrind over %d builds at Run-Small (%d at a time)" % (rc.name, len(names), jobs))
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        return dict(ex.map(lambda n: _callgrind_one(rc, n, bins[n], run_dir, tmp), names))


# ---------------------------------------------------------------- time

def _rel(p):
    return os.path.relpath(p, ROOT)


def hyperfine(rc, bins, run_dir, runs, rounds, cpu, out, shown_out):
    """rounds hyperfine invocations over all builds, runs timed runs per
    build in each, the order rotated between rounds (a shared machine's
    load drifts: no build should always come first or last).  Returns the
    commands (from the repository root, the rounds' files named in
    shown_out, where they will be published) and {name: {"wall": [s],
    "cpu": [(mean user+system of a round, its runs)]}}."""
    names = list(bins)
    cmds, times = [], {n: {"wall": [], "cpu": []} for n in names}
    for r in range(rounds):
        k = (r * len(names)) // rounds
        order = names[k:] + names[:k]
        j = os.path.abspath(os.path.join(out, "hyperfine-round%d.json" % (r + 1)))
        cmd = ["taskset", "-c", str(cpu), "hyperfine", "-N", "--style", "basic",
               "--warmup", "0", "--runs", str(runs), "--export-json", j]
        for name in order:
            cmd += ["-n", name, rc.command(os.path.relpath(bins[name], run_dir))]
        say("%s round %d/%d: timing %d builds, %d runs each (hyperfine, pinned to CPU %d)"
            % (rc.name, r + 1, rounds, len(bins), runs, cpu))
        res = subprocess.run(cmd, cwd=run_dir, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        if res.returncode:
            raise Failure("hyperfine exited %d: %s" % (res.returncode, res.stdout[-2000:]))
        with open(j) as f:
            for x in json.load(f)["results"]:
                times[x["command"]]["wall"] += x["times"]
                # hyperfine keeps only the mean CPU time of a round
                times[x["command"]]["cpu"].append((x["user"] + x["system"], len(x["times"])))
        shown = os.path.abspath(os.path.join(shown_out, os.path.basename(j)))
        cmds.append([shown if c == j else c for c in cmd])
    return cmds, times


# ---------------------------------------------------------------- machine key

def tree_git():
    """This tree's commit, "-dirty" if it has changes; "unknown" without git.
    results/ does not make a build dirty (scripts/build-version's rule):
    this run's own output lands there."""
    return machine.tree_git(".", ":!results")


def machine_key(rc):
    dsc = sorted(glob.glob(os.path.join(WORK, rc.name, "src", "%s_*.dsc" % rc.source)))
    deb = os.path.basename(dsc[-1])[len(rc.source) + 1:-len(".dsc")] if dsc else "?"
    cores = machine.cores(machine.lscpu())
    git = tree_git()
    return [("cpu", machine.cpuinfo_model() or "?"),
            ("cores", "?" if cores is None else str(cores)),
            ("cpus", str(len(os.sched_getaffinity(0)))),
            ("kernel", platform.release()),
            ("compiler", machine.compiler() or "?"),
            ("flags", OPT + " (program), hooks as build/plain"),
            ("glibc", platform.libc_ver()[1] or "?"),
            ("liburcu", machine.package_version("liburcu-dev") or "?"),
            ("program", "%s (Debian source %s %s)" % (rc.name, rc.source, deb)),
            ("hyperfine", first_line(["hyperfine", "--version"]) or "?"),
            ("valgrind", first_line(["valgrind", "--version"]) or "?"),
            ("virt", "+".join(machine.detected_virt()) or "none"),
            ("git", git)]


# ---------------------------------------------------------------- command

def add_arguments(p):
    p.add_argument("--list", action="store_true", help="list the programs (realprog/*.recipe)")
    p.add_argument("--program", action="append", default=[],
                   help="a program to run (repeatable; default: every one)")
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                   help="hyperfine runs per build and round (default %d)" % DEFAULT_RUNS)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help="hyperfine invocations, the build order rotated (default %d)"
                   % DEFAULT_ROUNDS)
    p.add_argument("--configs", default="proposals",
                   help="comma-separated configurations, upstream (the 6 upstream ones) "
                        "or proposals (those and every proposal's, marked; the default)")
    p.add_argument("--cpu", type=int, help="the CPU to pin the timing to (default: the last "
                   "allowed one); given, the checks and callgrind run there too, one at a time")
    p.add_argument("--out", default=OUT, help="results directory (default results/realprog)")
    p.add_argument("--build-only", action="store_true",
                   help="fetch, build and check; do not count or time")
    p.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    p.add_argument("--allow-dirty", action="store_true",
                   help="publish into results/ from a tree with changes (the key says "
                        "git=...-dirty); refused otherwise, as run refuses it")


def which_configs(arg):
    allc = configs()
    if arg == "upstream":
        return configs("KCB_CONFIGS")
    if arg == "proposals":   # each beside the upstream ones, marked
        return allc
    want = [c for c in arg.split(",") if c]
    bad = [c for c in want if c not in {n for n, _, _ in allc}]
    if bad or not want:
        raise UsageError("unknown configuration %s (configurations: %s)"
                         % (", ".join(bad) or "(none)", " ".join(n for n, _, _ in allc)))
    return [c for c in allc if c[0] in want]


def main(args):
    recipes = recipe.all_recipes()
    if args.list:
        for rc in recipes:
            print("%-8s %s  [Debian source %s; realprog/%s.recipe]"
                  % (rc.name, rc.description, rc.source, rc.name))
        return 0
    chosen = [recipe.find(n) for n in args.program] if args.program else recipes
    which = which_configs(args.configs)
    if args.runs < 1 or args.rounds < 1 or args.runs * args.rounds < 10:
        raise UsageError("want --runs >= 1, --rounds >= 1 and at least 10 runs per build "
                         "(--runs x --rounds)")
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1] if args.cpu is None else args.cpu
    if cpu not in cpus:
        raise UsageError("--cpu %d is not one this process may use (%s)" % (cpu, cpus))
    for tool in ("gcc", "objcopy", "make", "hyperfine", "taskset", "valgrind", "ninja"):
        if not shutil.which(tool):
            raise Failure("need %s (scripts/setup installs it)" % tool)
    if not args.build_only:
        # run's rule, checked before the fetch and build of many minutes
        machine.publishable(args.out, tree_git(), args.allow_dirty)
    jobs = len(cpus)
    if args.cpu is not None:
        PIN[:] = ["taskset", "-c", str(cpu)]
        jobs = 1
    for rc in chosen:
        t0 = time.monotonic()
        BUILD_CMDS.clear()
        tree, run_dir = fetch(rc)
        t1 = time.monotonic()
        bins = build(rc, tree, which)
        t2 = time.monotonic()
        checked = check(rc, bins, run_dir, jobs)
        say("%s: check: all %d builds print the uninstrumented build's output; full builds "
            "drain %s records (Run-Small) and %s (Run), front-end-only builds none"
            % (rc.name, len(bins), ", ".join("%s %d" % (sid, next(
                st["records"] for n, st in checked["Run-Small"].items()
                if n.startswith(sid + "/") and "/fe-only/" not in n)) for sid, _, _ in SETS),
               ", ".join("%s %d" % (sid, next(
                   st["records"] for n, st in checked["Run"].items()
                   if n.startswith(sid + "/"))) for sid, _, _ in SETS)))
        if args.build_only:
            continue
        cg = {} if args.no_callgrind else callgrind(rc, bins, run_dir, jobs)
        t3 = time.monotonic()
        out = os.path.join(args.out, rc.name)
        # the old set stays whole until the new one replaces it at commit()
        with Staging(out, replace=True) as stage:
            publish(rc, args, stage, out, bins, run_dir, cpu, which, checked, cg,
                    (t0, t1, t2, t3))
        report.write_index(args.out)
    return 0


def publish(rc, args, stage, out, bins, run_dir, cpu, which, checked, cg, times0):
    """Time the builds into the staging directory, write the report there
    and commit it as out."""
    t0, t1, t2, t3 = times0
    load0 = os.getloadavg()
    cmds, times = hyperfine(rc, bins, run_dir, args.runs, args.rounds, cpu, stage.path,
                            out)
    load1 = os.getloadavg()
    t4 = time.monotonic()
    opts = " --program %s" % rc.name
    if args.configs != "proposals":
        opts += " --configs " + args.configs
    if (args.runs, args.rounds) != (DEFAULT_RUNS, DEFAULT_ROUNDS):
        opts += " --runs %d --rounds %d" % (args.runs, args.rounds)
    if args.cpu is not None:
        opts += " --cpu %d" % args.cpu
    if args.out != OUT:
        opts += " --out " + os.path.relpath(args.out, ROOT)
    key = machine_key(rc)
    machine.publishable(args.out, dict(key)["git"], args.allow_dirty)
    ctx = {"recipe": rc, "which": which, "times": times, "checked": checked, "cg": cg,
           "key": key, "opts": opts, "cmds": cmds, "runs": args.runs, "rounds": args.rounds,
           "cpu": cpu, "load": (load0[0], load1[0]),
           "steps": (t1 - t0, t2 - t1, t3 - t2, t4 - t3), "sets": SETS, "cg_set": CG_SET,
           "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "run_dir": _rel(run_dir)}
    report.write(stage.path, ctx, BUILD_CMDS)
    stage.commit()


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
