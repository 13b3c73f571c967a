"""The machine-state contract: what the machine was doing while it measured
(pyperf-system-tune and lockhammer style).  Fields go into the key line;
problems become a warning in the table title, or with --strict a refusal.
Everything is read from /proc and /sys; what cannot be read says so."""
import os
import time

from .common import read_file

LOAD_PER_CPU = 0.25     # --strict: more load than this per chosen CPU refuses
BUSY_SIBLING = 0.10     # --strict: a sibling busier than this spoils a core run


def _first(*paths):
    for p in paths:
        v = read_file(p)
        if v is not None:
            return v.strip()
    return None


def _boost():
    """"on"/"off" or "unreadable": cpufreq boost (AMD, acpi-cpufreq) or
    intel_pstate's no_turbo (inverted)."""
    v = read_file("/sys/devices/system/cpu/cpufreq/boost")
    if v is not None:
        return "on" if v.strip() == "1" else "off"
    v = read_file("/sys/devices/system/cpu/intel_pstate/no_turbo")
    if v is not None:
        return "off" if v.strip() == "1" else "on"
    return "unreadable"


def _cpulist(text):
    out = set()
    for part in filter(None, (text or "").strip().split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b) + 1) if b else [int(a)])
    return out


def _irqs_on(cpus):
    """How many device IRQs may land on the chosen CPUs, of how many."""
    n = hit = 0
    try:
        irqs = [d for d in os.listdir("/proc/irq") if d.isdigit()]
    except OSError:
        return "unreadable"
    for irq in irqs:
        aff = read_file("/proc/irq/%s/effective_affinity_list" % irq) or \
            read_file("/proc/irq/%s/smp_affinity_list" % irq)
        if aff is None:
            continue
        n += 1
        hit += bool(_cpulist(aff) & set(cpus))
    return "%d/%d" % (hit, n)


def _cpu_times():
    """{cpu: (busy, total)} jiffies from /proc/stat."""
    out = {}
    for line in (read_file("/proc/stat") or "").splitlines():
        f = line.split()
        if f and f[0].startswith("cpu") and f[0] != "cpu":
            vals = [int(x) for x in f[1:]]
            idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
            out[int(f[0][3:])] = (sum(vals) - idle, sum(vals))
    return out


def busy_share(cpus, seconds=0.2):
    """{cpu: share of time busy over a short sample}."""
    a = _cpu_times()
    time.sleep(seconds)
    b = _cpu_times()
    out = {}
    for c in cpus:
        if c in a and c in b and b[c][1] > a[c][1]:
            out[c] = (b[c][0] - a[c][0]) / (b[c][1] - a[c][1])
    return out


def siblings(cpu):
    return _cpulist(read_file(
        "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list" % cpu)) - {cpu}


def snapshot(cpus):
    """[(field, value)] before a run, for the chosen CPUs."""
    return [
        ("boost", _boost()),
        ("smt_control", _first("/sys/devices/system/cpu/smt/control") or "unreadable"),
        ("isolcpus", _first("/sys/devices/system/cpu/isolated") or "none"),
        ("nohz_full", _first("/sys/devices/system/cpu/nohz_full") or "none"),
        ("irqs_on_cpus", _irqs_on(cpus)),
        ("load_start", "%.2f" % os.getloadavg()[0]),
    ]


def problems(fields, cpus, placement, virt):
    """Why these numbers may be unreliable: [str]."""
    f = dict(fields)
    out = []
    load = float(f.get("load_start", "0"))
    if load > LOAD_PER_CPU * len(cpus):
        out.append("load %.2f at start on %d CPUs" % (load, len(cpus)))
    gov = f.get("governor", "unreadable")
    if virt == "none" and gov not in ("performance", "unreadable"):
        out.append("frequency-scaling governor %r on bare metal" % gov)
    if placement == "core":
        sib = sorted(set().union(*(siblings(c) for c in cpus)) - set(cpus)) if cpus else []
        busy = {c: s for c, s in busy_share(sib).items() if s > BUSY_SIBLING}
        if busy:
            out.append("SMT siblings busy in a core run: %s" % ", ".join(
                "cpu%d %.0f%%" % (c, 100 * s) for c, s in sorted(busy.items())))
    return out
