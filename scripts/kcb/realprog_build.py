"""realprog's builds: the recipe's objects per instrumentation set, each
in a fresh copy of the set-up tree, linked with the empty hooks, each front
end with no claim (build/feonly/) and each configuration's hooks
(build/plain/variants_fe_<fe>.o, renamed to __sanitizer_cov_* by objcopy),
with bench/instrument_rt.c as the runtime; a real kernel object
(kernel-*, named in --configs) as linked into the benchmark (build/kobj/kobj.o,
its hooks renamed to __sanitizer_cov_*, -no-pie) with no front-end-only
build (its front end has no claim to take away).  A step runs only when its
output is older than its inputs; every command is kept for
build-commands.sh."""
import glob
import os
import re
import shlex
import shutil

from . import binary, registry
from . import realprog_work as work
from .common import ROOT, Failure, Lazy, atomic_write
from .realprog_work import digest, run, say


PLAIN = os.path.join(ROOT, "build", "plain")
FEONLY = os.path.join(ROOT, "build", "feonly")
HOOKS = Lazy(registry.hooks)      # the ten __sanitizer_cov_* hooks
OPT = "-O2 -g0"


# The instrumentation sets: (id, flags, what the tables call it).
SETS = (("pc", "-fsanitize-coverage=trace-pc", "trace-pc"),
        ("cmp", "-fsanitize-coverage=trace-pc,trace-cmp", "trace-pc,trace-cmp"))
RT_CFLAGS = ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-Werror", "-D_GNU_SOURCE", "-DKCB_INSTRUMENT_RT"]
LIBS = ["-lurcu-memb", "-pthread", "-lm"]


def newer(out, *ins):
    """True if out is missing or older than any of ins."""
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(i) > t for i in ins)


KOBJ = os.path.join(ROOT, "build", "kobj")
KOBJ_FE = "kobj"        # the front-end id of a real kernel object's entry


def configs(upstream_only=False):
    """[(name, front end id, pair id)] of the registry's configurations,
    the proposals' too unless upstream_only."""
    return [(c["name"], c["frontend_id"], c["pair_id"])
            for c in registry.configs(proposals=not upstream_only)]


def kernel_configs():
    """[(name, "kobj", bundle id)] of the real kernel objects linked in
    (kernel-6.1: id 6_1, kobj-bundle's kobj_6_1_ prefix)."""
    return [(k["name"], KOBJ_FE, re.sub(r"\W", "_", k["name"][len("kernel-"):]))
            for k in registry.kernels()]


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
    d = os.path.join(work.WORK, rc.name, "build-" + sid)
    stamp = d + ".stamp"
    cflags = (OPT + " " + flags).strip()
    want = digest(open(os.path.join(work.WORK, rc.name, "setup.stamp")).read(), rc.build,
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
    d = os.path.join(work.WORK, "rt")
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
    d = os.path.join(work.WORK, "hooks")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "%s__%s.o" % (fe, pair))
    syms = []
    for h in HOOKS:
        syms += ["--redefine-sym", "kcb_%s__%s__%s=__sanitizer_cov_%s" % (fe, pair, h, h)]
    syms += ["--redefine-sym", "kcb_%s__%s__combo=kcb_rt_combo" % (fe, pair)]
    syms += ["--rename-section", ".text=kcb_hooks_text"]
    return step(out, ["objcopy"] + syms + [src, out + ".tmp"], [src, __file__])


def kobj_runtime(kid, name):
    """instrument_rt.c for a real kernel object's hooks (KCB_RT_KOBJ)."""
    d = os.path.join(work.WORK, "rt")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(ROOT, "bench", "instrument_rt.c")
    heads = glob.glob(os.path.join(ROOT, "hotpath", "*.h")) + \
        glob.glob(os.path.join(ROOT, "variants", "*.h")) + [os.path.join(ROOT, "kobj", "kobj.h")]
    out = os.path.join(d, "instrument_rt_kobj_%s.o" % kid)
    return step(out, ["gcc"] + RT_CFLAGS + ["-DKCB_RT_SHARED=0", '-DKCB_RT_KOBJ="%s"' % name,
                                            "-DKCB_RT_HOOKS_TEXT=kobj_text_%s" % kid,
                                            "-c", src, "-o", out + ".tmp"],
                [src, __file__] + heads)


def kobj_hooks(kid):
    """kobj-bundle's kobj.o (every linked kernel object and the kobj/
    runtime) with kernel kid's hooks renamed to the compiler's names: the
    object itself unmodified, its code in its own section (kobj_text_<kid>,
    the drain's bounds)."""
    src = os.path.join(KOBJ, "kobj.o")
    d = os.path.join(work.WORK, "hooks")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "kobj_%s.o" % kid)
    syms = []
    for h in HOOKS:
        syms += ["--redefine-sym", "kobj_%s___sanitizer_cov_%s=__sanitizer_cov_%s" % (kid, h, h)]
    return step(out, ["objcopy"] + syms + [src, out + ".tmp"], [src, __file__])


def kobj_link_flags():
    """-no-pie (kcov.o's R_X86_64_32S) and the per-CPU symbols' script."""
    return ["-no-pie", os.path.join(KOBJ, "kobj.ld")]


def build(rc, tree, which):
    """{build name: executable}: "uninstrumented"; per set S, "S/empty",
    "S/fe-only/<fe>" and "S/<config>"."""
    exe = binary.ensure_built()     # build/plain/*.o, the hooks as benchmarked
    run(["ninja", "-C", ROOT, "feonly"])
    rt, kcb = runtime()
    bindir = os.path.join(work.WORK, rc.name, "bin")
    os.makedirs(bindir, exist_ok=True)

    def link(name, ins):
        out = os.path.join(bindir, name.replace("/", "@"))
        return step(out, ["gcc", "-o", out + ".tmp"] + ins + rc.libs + LIBS,
                    [exe] + [i for i in ins if not i.startswith("-")])

    bins = {"uninstrumented": link("uninstrumented", compile_set(rc, tree, "plain", ""))}
    for sid, flags, _ in SETS:
        objs = compile_set(rc, tree, sid, flags)
        bins[sid + "/empty"] = link(sid + "/empty", objs + [rt["empty"]])
        for fe in sorted({fe for _, fe, _ in which if fe != KOBJ_FE}):
            bins["%s/fe-only/%s" % (sid, fe)] = link(
                "%s/fe-only/%s" % (sid, fe), objs + kcb + [hooks(fe, None, True), rt["pertask"]])
        # kcb_user.o before the runtime: its constructor must run first
        for name, fe, pair in which:
            if fe == KOBJ_FE:
                # a real kernel object: the bundle before the runtime, so
                # that kobj/'s constructor (the context hook) runs first
                bins["%s/%s" % (sid, name)] = link("%s/%s" % (sid, name), objs + kcb + [
                    kobj_hooks(pair), kobj_runtime(pair, name)] + kobj_link_flags())
                continue
            bins["%s/%s" % (sid, name)] = link("%s/%s" % (sid, name),
                                               objs + kcb + [hooks(fe, pair, False), rt["pertask"]])
    return bins
