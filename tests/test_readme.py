#!/usr/bin/env python3
"""The README's commands work as shown.  Every command in a ```sh block,
and every command-like inline `span` of its prose, must match one RULE
below, or the test fails (a new README command cannot slip in unchecked;
no commands found is a failure too).  A rule runs the command as shown,
runs it with a stated cheap substitution, or, for the long ones, checks
that it parses.  ```text blocks must be copied from the results file the
paragraph before them names; blocks of any other kind are refused.
Run: python3 tests/test_readme.py (about a minute; scripts/test runs it
as the `readme` suite)."""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import unit_main  # noqa: E402

README = os.path.join(ROOT, "README.md")
TIMEOUT = 300
# inline spans that start like this are commands (or, alone, names of files)
COMMANDISH = re.compile(r"^(\./kcovbench|scripts/|build/|ninja\b|\.ci/)")


def blocks(text):
    """[(language, [lines], prose before it)] of the fenced blocks."""
    out, prose, lang, body = [], [], None, None
    for line in text.splitlines():
        m = re.match(r"^```(\S*)\s*$", line)
        if m and body is None:
            lang, body = m.group(1), []
        elif m:
            out.append((lang, body, "\n".join(prose)))
            prose, body = [], None
        elif body is not None:
            body.append(line)
        else:
            prose.append(line)
    assert body is None, "README.md: a code block is not closed"
    return out


def prose(text):
    """The README without its fenced blocks."""
    return re.sub(r"(?ms)^```.*?^```\s*$", "", text)


def strip_comment(line):
    """A shell line without its trailing # comment (none of the README's
    commands quotes a #)."""
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def block_commands(lines):
    """Each sh block's commands, continuation lines joined, split at &&."""
    cmds, cur = [], ""
    for line in lines:
        line = strip_comment(line)
        if line.endswith("\\"):
            cur += line[:-1].strip() + " "
            continue
        cur += line
        if cur.strip():
            cmds += [c.strip() for c in cur.split("&&")]
        cur = ""
    return cmds


def inline_commands(text):
    """Command-like inline spans of the prose: (commands, names of files)."""
    cmds, names = [], []
    for span in re.findall(r"`([^`]+)`", prose(text)):
        span = " ".join(span.split())         # a span may wrap across lines
        if not COMMANDISH.match(span):
            continue
        # a lone token with a / names a file; `ninja` alone is a command
        (names if len(span.split()) == 1 and "/" in span else cmds).append(span)
    return cmds, names


class Env:
    """Scratch places every command gets: results and the measuring lock
    (so a run here neither publishes into results/ nor waits for, or
    blocks, another kcovbench on this machine)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.env = dict(os.environ, KCOVBENCH_LOCK=os.path.join(tmp, "lock"))
        self.n = 0

    def out(self):
        self.n += 1
        d = os.path.join(self.tmp, "out%d" % self.n)
        os.makedirs(d)
        return d

    def sh(self, argv, want=0):
        r = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True,
                           text=True, timeout=TIMEOUT)
        if want is not None and r.returncode != want:
            raise AssertionError("%s: exit %d, want %d\n%s%s" % (
                " ".join(argv), r.returncode, want, r.stdout[-3000:], r.stderr[-3000:]))
        return r


def before_dashdash(argv, extra):
    """argv with extra inserted before a `--` (the binary's flags stay last)."""
    i = argv.index("--") if "--" in argv else len(argv)
    return argv[:i] + extra + argv[i:]


# --- the rules: (pattern over the whole command, what to do, why) ---------

def as_shown(e, argv):
    e.sh(argv)


def run_short_default(e, argv):
    # the default set (every configuration and mode, 9 repetitions) takes
    # minutes; test_cli.py runs the defaults' pieces.  One row, 2 repetitions.
    e.sh(argv + ["--configs", "linux", "--modes", "pertask", "--threads", "1",
                 "--repetitions", "2", "--out", e.out()])


def run_out(e, argv):
    r = e.sh(before_dashdash(argv, ["--out", e.out()]))
    if "--remote=none" in argv and "--lookups=none" in argv:
        assert not re.search(r"^(remote|lookup)/", r.stdout, re.M), r.stdout


def ab_short(e, argv):
    # ab's default budget is 10 s per row and layout
    r = e.sh(argv + ["--time", "0.05", "--no-save"])
    assert "verdict" in r.stdout, r.stdout


def help_text(e, argv):
    r = e.sh(argv)
    if argv[1] == "run":
        # a one-configuration run must be able to drop the 25 other rows
        for flag in ("--remote=none", "--lookups=none"):
            assert flag in r.stdout, "run --help does not mention " + flag


def setup(e, argv):
    # installs only what is missing (needs root then): here a no-op once
    # set up, and scripts/test has run it before this suite
    e.sh(argv)


def test_usage(e, argv):
    # the whole suite (29 minutes with the boots) or the quick one (a
    # minute, a full build first): check it parses, and that CI runs the
    # README's command
    e.sh(["sh", "-n", "scripts/test"])
    r = e.sh(["scripts/test", "--no-such-suite"], want=2)
    assert "usage: scripts/test [quick]" in r.stderr, r.stderr
    if argv == ["scripts/test"]:
        with open(os.path.join(ROOT, ".ci", "run")) as f:
            assert re.search(r"^exec scripts/test$", f.read(), re.M), \
                ".ci/run must run the README's test command"


def configure(e, argv):
    # regenerates build.ninja: it must be the committed one (commit it
    # with a new variant)
    e.sh(argv)
    r = e.sh(["git", "status", "--porcelain", "--", "build.ninja"])
    assert r.stdout == "", "scripts/configure changed build.ninja: commit it\n" + r.stdout


def ninja_dry(e, argv):
    # a full build takes minutes on 2 cores (scripts/test builds first);
    # -n checks that build.ninja parses and knows the targets
    e.sh(["ninja", "-n"] + argv[1:])


def twins_of(e, argv):
    # NAME is the reader's variant; netbsd's combinations stand in
    e.sh(["ninja", "build/plain/test_twins"])
    r = e.sh([a if a != "NAME" else "netbsd" for a in argv])
    assert re.search(r"^\d+ passed, 0 failed$", r.stdout, re.M), r.stdout


def kernel_add(e, argv):
    # builds kcov.o from the reader's tree: tests/test_kernel_add.py runs
    # exactly this on a linux-source-6.12 copy with a patch (about 50 s,
    # the `kernel-add` suite); here the verb parses and that test is there
    e.sh(["./kcovbench", "kernel", "add", "--help"])
    with open(os.path.join(ROOT, "tests", "test_kernel_add.py")) as f:
        src = f.read()
    assert re.search(r'"kernel", "add", self.NAME, "--source", tree,\s*"--patch"', src), \
        "tests/test_kernel_add.py no longer runs the README's kernel add"


def ab_kernel_mine(e, argv):
    # kernel-mine is the reader's; the other Debian kernel stands in
    ab_short(e, [a if a != "kernel-mine" else "kernel-6.1" for a in argv])


RULES = [
    (r"\./kcovbench kernel add mine --source ~/linux --patch my-kcov\.patch", kernel_add),
    (r"\./kcovbench ab kernel-6\.12 kernel-mine .*", ab_kernel_mine),
    (r"scripts/setup", setup),
    (r"scripts/test( quick)?", test_usage),
    (r"scripts/configure", configure),
    (r"ninja( [\w/.-]+)*", ninja_dry),
    (r"build/plain/test_twins NAME", twins_of),
    (r"\./kcovbench run", run_short_default),
    (r"\./kcovbench run (?!.*--out\b).*", run_out),
    (r"\./kcovbench ab (?!.*--(time|base|from)\b).*", ab_short),
    (r"\./kcovbench (list|compare results/[\w.-]+ results/[\w.-]+)", as_shown),
    (r"\./kcovbench( \w+)? --help", help_text),
]


def rule_for(cmd):
    for pat, act in RULES:
        if re.fullmatch(pat, cmd):
            return act
    return None


class Readme(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(README) as f:
            cls.text = f.read()
        cls.blocks = blocks(cls.text)
        cls.cmds = [c for lang, body, _ in cls.blocks if lang == "sh"
                    for c in block_commands(body)]
        cls.inline, cls.names = inline_commands(cls.text)

    def test_commands_found(self):
        self.assertGreater(len(self.cmds), 0, "no commands in README.md's sh blocks")

    def test_every_command_has_a_rule(self):
        missing = [c for c in self.cmds + self.inline if rule_for(c) is None]
        self.assertEqual(missing, [], "README commands no rule of tests/test_readme.py "
                         "covers: add one (run it, a cheap substitution, or a parse check)")

    def test_blocks_are_sh_or_quoted_text(self):
        for lang, body, before in self.blocks:
            self.assertIn(lang, ("sh", "text"), "a ``` block must say sh (commands, "
                          "run by this test) or text (quoted output): %r" % body[:2])
            if lang != "text":
                continue
            srcs = [p for p in re.findall(r"`([^`\s]+)`", before.split("\n\n")[-1])
                    if os.path.isfile(os.path.join(ROOT, p))]
            self.assertTrue(srcs, "a text block must follow a paragraph naming the "
                            "file it quotes: %r" % body[:2])
            with open(os.path.join(ROOT, srcs[-1])) as f:
                have = {l.rstrip() for l in f.read().splitlines()}
            self.assertEqual([l for l in body if l.rstrip() not in have], [],
                             "lines not in %s" % srcs[-1])

    def test_names_exist(self):
        # a bare `scripts/x` or `build/plain/y` in the prose names a file of
        # the tree or a build output
        with open(os.path.join(ROOT, "build.ninja")) as f:
            ninja = f.read()
        for n in self.names:
            path = n.rstrip("/")
            self.assertTrue(os.path.exists(os.path.join(ROOT, path)) or
                            re.search(r"^build %s:" % re.escape(path), ninja, re.M),
                            "README names %s, which is neither in the tree nor built" % n)

    def test_commands_work(self):
        with tempfile.TemporaryDirectory(prefix="kcb-readme-") as tmp:
            e = Env(tmp)
            ran = 0
            for cmd in dict.fromkeys(self.cmds + self.inline):     # once each, in order
                act = rule_for(cmd)
                if act is None:
                    continue            # test_every_command_has_a_rule says so
                with self.subTest(cmd=cmd):
                    print("  %s: %s" % (act.__name__, cmd), file=sys.stderr, flush=True)
                    act(e, shlex.split(cmd))
                    ran += 1
            self.assertGreater(ran, 0)


class Extraction(unittest.TestCase):
    """The extraction itself, on a made-up README."""

    def test_commands_comments_continuations(self):
        text = ("x `./kcovbench run\n--help` and `scripts/setup`\n\n"
                "```sh\na --b && c   # note\nd \\\n  e\n\n```\n```text\nout\n```\n")
        b = blocks(text)
        self.assertEqual([l for l, _, _ in b], ["sh", "text"])
        self.assertEqual(block_commands(b[0][1]), ["a --b", "c", "d e"])
        self.assertEqual(inline_commands(text), (["./kcovbench run --help"], ["scripts/setup"]))

    def test_unknown_commands_have_no_rule(self):
        for cmd in ("./kcovbench gate", "rm -rf build", "./kcovbench run --out /tmp/x",
                    "./kcovbench ab a b --time 60", "build/plain/test_twins mine"):
            self.assertIsNone(rule_for(cmd), cmd)


if __name__ == "__main__":
    unit_main.run(__name__)
