"""The key line: what a number depends on besides the code under test
(will-it-scale/0-day style), so two results can be told comparable."""
import os
import platform
import re
import subprocess

from .common import ROOT, first_line, read_file, tree_dirty


def _lscpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             env=dict(os.environ, LC_ALL="C")).stdout
    except OSError:
        return {}
    return dict((k.strip(), v.strip()) for k, v in
                (l.split(":", 1) for l in out.splitlines() if ":" in l))


def _cpu_model(lscpu):
    if "Model name" in lscpu:
        return lscpu["Model name"]
    m = re.search(r"^model name\s*:\s*(.*)$", read_file("/proc/cpuinfo") or "", re.M)
    return m.group(1) if m else platform.machine()


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


def virt():
    """Hypervisor and container, as far as they show from inside."""
    found = [first_line(["systemd-detect-virt", "--vm"]),
             first_line(["systemd-detect-virt", "--container"])]
    found = [f for f in found if f and f != "none"]
    if not found:
        hv = read_file("/sys/hypervisor/type")
        if hv:
            found.append(hv)
        elif re.search(r"^flags\s*:.*\bhypervisor\b", read_file("/proc/cpuinfo") or "", re.M):
            found.append("hypervisor")
    return "+".join(found) or "none"


def _git():
    head = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if not head:
        return "unknown"
    return head + ("-dirty" if tree_dirty() else "")


def _hw(said):
    """"yes", or "no: <why>" however the binary words its reason."""
    if not said:
        return "unknown"
    return said if said.split(":")[0].strip() in ("yes", "no") else "no: " + said


def key(context):
    """[(field, value)] for this machine and build; hw counters come from
    the binary's JSON context, which alone knows if perf_event_open works."""
    ls = _lscpu()
    cores = ls.get("Core(s) per socket"), ls.get("Socket(s)")
    ncores = str(int(cores[0]) * int(cores[1])) if all(c and c.isdigit() for c in cores) \
        else str(os.cpu_count())
    return [
        ("cpu", _cpu_model(ls)),
        ("cpus", str(len(os.sched_getaffinity(0)))),
        ("cores", ncores),
        ("smt", _smt(ls)),
        ("governor", read_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
         or "unreadable"),
        ("kernel", platform.release()),
        ("virt", virt()),
        ("compiler", first_line(["gcc", "--version"]) or "unknown"),
        ("libbenchmark", first_line(["dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev"])
         or context.get("kcb_libbenchmark", "unknown")),
        # the binary's own commit when it says so (KCOVBENCH_BIN may be an
        # older build than this tree), else this tree's
        ("git", context.get("kcb_git") or _git()),
        ("hwcounters", _hw(context.get("kcb_hwcounters"))),
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
