"""realprog's sources: `apt-get source` with a private apt configuration
in .cache/apt whose deb-src entries are derived from this machine's own apt
sources (the system's configuration is not touched), unpacked and set up
once by the recipe's Setup."""
import functools
import glob
import os
import re
import shutil
import subprocess

from . import realprog_work as work
from .common import ROOT, Failure, atomic_write, first_line
from .realprog_work import CACHE, digest, run, say


APT = os.path.join(CACHE, "apt")


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
    base = os.path.join(work.WORK, rc.name)
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
