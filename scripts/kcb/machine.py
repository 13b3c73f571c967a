"""The one reader of machine facts (CPU model, cores, virtualisation,
compiler, package versions, the git revision) and the key line: what a
number depends on besides the code under test (will-it-scale/0-day style),
so two results can be told comparable.  Shell scripts that cannot import
Python keep one reader each (scripts/build-version, gate-runs,
broken-control-runs, qemu-kmod-remote, qemu-kmod-preempt and
device-sweep's on-device sweep.sh)."""
import os
import platform
import re
import subprocess

from .common import ROOT, first_line, read_file, tree_dirty


def lscpu():
    """lscpu's fields, {} without lscpu."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             env=dict(os.environ, LC_ALL="C")).stdout
    except OSError:
        return {}
    return dict((k.strip(), v.strip()) for k, v in
                (l.split(":", 1) for l in out.splitlines() if ":" in l))


def cpuinfo_model():
    """/proc/cpuinfo's first "model name", None where it has none (arm64)
    or cannot be read."""
    m = re.search(r"^model name\s*:\s*(.*)$", read_file("/proc/cpuinfo") or "", re.M)
    return m.group(1).strip() if m else None


def cpu_model(ls):
    """The key's CPU: lscpu's Model name, else /proc/cpuinfo's, else the
    architecture."""
    if "Model name" in ls:
        return ls["Model name"]
    return cpuinfo_model() or platform.machine()


def cores(ls):
    """Physical cores (cores per socket x sockets) from lscpu's fields,
    None where it does not say."""
    c = ls.get("Core(s) per socket"), ls.get("Socket(s)")
    return int(c[0]) * int(c[1]) if all(x and x.isdigit() for x in c) else None


def _smt(lscpu):
    """Hardware threads per core, from lscpu or the sysfs sibling list."""
    if "Thread(s) per core" in lscpu:
        return lscpu["Thread(s) per core"]
    sib = read_file("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list")
    if not sib:
        return "unknown"
    n = 0
    for part in sib.split(","):          # "0,64" or "0-1"
        a, _, b = part.partition("-")
        n += int(b) - int(a) + 1 if b else 1
    return str(n)


def detected_virt():
    """[hypervisor, container] as systemd-detect-virt names them, those it
    finds."""
    found = [first_line(["systemd-detect-virt", "--vm"]),
             first_line(["systemd-detect-virt", "--container"])]
    return [f for f in found if f and f != "none"]


def virt():
    """Hypervisor and container, as far as they show from inside."""
    found = detected_virt()
    if not found:
        hv = read_file("/sys/hypervisor/type")
        if hv:
            found.append(hv)
        elif re.search(r"^flags\s*:.*\bhypervisor\b", read_file("/proc/cpuinfo") or "", re.M):
            found.append("hypervisor")
    return "+".join(found) or "none"


def compiler():
    """gcc --version's first line, None without gcc."""
    return first_line(["gcc", "--version"])


def package_version(pkg):
    """The installed Debian package's version, None if not installed."""
    return first_line(["dpkg-query", "-W", "-f=${Version}", pkg])


def git_head(length=None):
    """This tree's commit, abbreviated (to length digits if given); None
    without git."""
    short = "--short" if length is None else "--short=%d" % length
    return first_line(["git", "-C", ROOT, "rev-parse", short, "HEAD"])


def tree_git(*pathspec):
    """This tree's commit, "-dirty" if tracked files differ from it
    (pathspec narrows that); "unknown" without git."""
    head = git_head()
    if not head:
        return "unknown"
    return head + ("-dirty" if tree_dirty(*pathspec) else "")


def hw_counters(said):
    """"yes", or "no: <why>" however the binary words its reason."""
    if not said:
        return "unknown"
    return said if said.split(":")[0].strip() in ("yes", "no") else "no: " + said


def key(context):
    """[(field, value)] for this machine and build; hw counters come from
    the binary's JSON context, which alone knows if perf_event_open works."""
    ls = lscpu()
    ncores = cores(ls)
    return [
        ("cpu", cpu_model(ls)),
        ("cpus", str(len(os.sched_getaffinity(0)))),
        ("cores", str(ncores if ncores is not None else os.cpu_count())),
        ("smt", _smt(ls)),
        ("governor", read_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
         or "unreadable"),
        ("kernel", platform.release()),
        ("virt", virt()),
        ("compiler", compiler() or "unknown"),
        ("libbenchmark", package_version("libbenchmark-dev")
         or context.get("kcb_libbenchmark", "unknown")),
        # the binary's own commit when it says so (KCOVBENCH_BIN may be an
        # older build than this tree), else this tree's
        ("git", context.get("kcb_git") or tree_git()),
        ("hwcounters", hw_counters(context.get("kcb_hwcounters"))),
        # how the hooks were compiled (scripts/configure's HOT_CFLAGS)
        ("flags", context.get("kcb_hot_cflags", "unknown")),
        # not the machine but its state: a busy machine explains noise
        ("load", "%.2f" % context["load_avg"][0] if context.get("load_avg") else "unknown"),
    ]


def key_line(fields):
    return "; ".join("%s=%s" % kv for kv in fields)


def built_git():
    """The commit stamp of the last build here (scripts/build-version)."""
    text = read_file(os.path.join(ROOT, "build", "gen", "kcb_version.h")) or ""
    commit = re.search(r'KCB_GIT "([^"]*)"', text)
    dirty = re.search(r"KCB_GIT_DIRTY (\d)", text)
    if not commit or not dirty:
        return "unknown"
    return commit.group(1) + ("-dirty" if dirty.group(1) != "0" else "")


def publishable(out, git, allow_dirty):
    """UsageError when a build no commit can rebuild would publish into the
    repository's results/: a dirty or unknown stamp.  Elsewhere anything
    goes; --allow-dirty lets it through and the key line says so."""
    from .common import UsageError
    results_dir = os.path.realpath(os.path.join(ROOT, "results"))
    target = os.path.realpath(out)
    if allow_dirty or not (target + os.sep).startswith(results_dir + os.sep):
        return
    if git == "unknown" or git.endswith("-dirty"):
        raise UsageError(
            "the binary is built from %s: results/ takes numbers only from a clean, "
            "committed tree (commit, rebuild, rerun; or --allow-dirty, which the key "
            "line then shows)" % git)
