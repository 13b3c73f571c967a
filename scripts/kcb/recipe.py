"""The program recipes of `kcovbench realprog` (realprog/*.recipe; the
format is realprog/README.md's): parse, check, list."""
import glob
import hashlib
import os
import re
import shlex

from .common import ROOT, UsageError

DIR = os.path.join(ROOT, "realprog")
REQUIRED = ("Program", "Description", "Source", "Tree", "Build", "Objects", "Run", "Run-Small")
OPTIONAL = ("Needs", "Setup", "Libs", "Output-Filter")


class Recipe:
    def __init__(self, path, fields):
        self.path = path
        self.fields = fields
        self.name = fields["Program"]
        self.description = fields["Description"]
        self.source = fields["Source"]
        self.tree = fields["Tree"]
        self.needs = fields.get("Needs", "").split()
        self.setup = fields.get("Setup", "")
        self.build = fields["Build"]
        self.objects = fields["Objects"].split()
        self.libs = fields.get("Libs", "").split()
        self.run = fields["Run"]
        self.run_small = fields["Run-Small"]
        self.filter = re.compile(fields["Output-Filter"], re.M) if "Output-Filter" in fields \
            else None

    def command(self, exe, small=False):
        return (self.run_small if small else self.run).replace("{exe}", exe)

    def output(self, raw):
        """What of a build's standard output (bytes) must match the
        uninstrumented build's: its SHA-256, after Output-Filter."""
        if self.filter:
            raw = self.filter.sub("", raw.decode(errors="replace")).encode()
        return hashlib.sha256(raw).hexdigest() if raw.strip() else ""


def _check_words(command, where):
    """The command splits into words as the runs will split it (shlex): an
    unbalanced quote is refused here, not after the fetch and build."""
    try:
        shlex.split(command)
    except ValueError as e:
        raise UsageError("%s: %s in %r" % (where, e, command))


def parse(text, where):
    """{field: value} of one recipe; UsageError naming file:line on bad input."""
    fields, last, line_of = {}, None, {}
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        if line[:1] in (" ", "\t"):
            if last is None:
                raise UsageError("%s:%d: a continuation line before any field" % (where, i))
            fields[last] += ("\n" if fields[last] else "") + line[1:]
            continue
        if not line.strip():
            last = None
            continue
        m = re.match(r"([A-Za-z][A-Za-z-]*):(.*)$", line)
        if not m:
            raise UsageError("%s:%d: want 'Field: value', got %r" % (where, i, line))
        k = m.group(1)
        if k not in REQUIRED + OPTIONAL:
            raise UsageError("%s:%d: unknown field %s (fields: %s)"
                             % (where, i, k, " ".join(REQUIRED + OPTIONAL)))
        if k in fields:
            raise UsageError("%s:%d: %s given twice" % (where, i, k))
        fields[k], last, line_of[k] = m.group(2).strip(), k, i
    missing = [k for k in REQUIRED if not fields.get(k, "").strip()]
    if missing:
        raise UsageError("%s: missing %s" % (where, ", ".join(missing)))
    if "Output-Filter" in fields:
        try:
            re.compile(fields["Output-Filter"])
        except re.error as e:
            raise UsageError("%s: Output-Filter: %s" % (where, e))
    for k in ("Run", "Run-Small"):
        if "{exe}" not in fields[k]:
            raise UsageError("%s: %s has no {exe}" % (where, k))
        # run as hyperfine -N runs it: words, no shell
        if re.search(r"[|;&<>`$]", fields[k]):
            raise UsageError("%s: %s is run without a shell: no | ; & < > ` $ (the output "
                             "compared is the program's own standard output)" % (where, k))
        _check_words(fields[k], "%s:%d: %s" % (where, line_of[k], k))
    return fields


def load(path):
    name = os.path.basename(path)[:-len(".recipe")]
    r = Recipe(path, parse(open(path).read(), os.path.relpath(path, ROOT)))
    if r.name != name:
        raise UsageError("%s: Program is %s, the file must be %s.recipe"
                         % (os.path.relpath(path, ROOT), r.name, r.name))
    return r


def all_recipes(where=DIR):
    found = [load(p) for p in sorted(glob.glob(os.path.join(where, "*.recipe")))]
    if not found:
        raise UsageError("no recipes in %s" % os.path.relpath(where, ROOT))
    return found


def find(name, where=DIR):
    for r in all_recipes(where):
        if r.name == name:
            return r
    raise UsageError("no program %s (kcovbench realprog --list: %s)"
                     % (name, " ".join(r.name for r in all_recipes(where))))
