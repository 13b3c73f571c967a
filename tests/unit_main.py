"""The closing line every Python suite prints, "N passed, N failed", and
its exit code: 1 on any failure and when no test ran at all (a filter that
matched nothing checked nothing).  Usage: unit_main.run(__name__)."""
import os
import sys
import tempfile
import unittest


def run(module_name, verbosity=2):
    loader = unittest.defaultTestLoader
    names = [a for a in sys.argv[1:] if not a.startswith("-")]
    if any(a in ("-k",) for a in sys.argv[1:]):
        raise SystemExit("use test names (Class.test_name), not -k")
    module = sys.modules[module_name]
    # The suite's runs take a lock of their own: a measurement running on
    # this machine must not fail them (tests assert no timing).  A test of
    # the lock itself sets its own.
    lock_dir = tempfile.TemporaryDirectory(prefix="kcb-test-lock-")
    os.environ.setdefault("KCOVBENCH_LOCK", os.path.join(lock_dir.name, "lock"))
    suite = loader.loadTestsFromNames(names, module) if names else \
        loader.loadTestsFromModule(module)
    verbose = verbosity if "-q" not in sys.argv[1:] else 1
    res = unittest.TextTestRunner(verbosity=verbose).run(suite)
    # a test with failing subtests counts once (its subtests are listed)
    failed = len({getattr(t, "test_case", t).id() for t, _ in res.failures + res.errors}) \
        + len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    if res.skipped:
        print("%d skipped" % len(res.skipped))
    print("%d passed, %d failed" % (passed, failed))
    if res.testsRun == 0 or passed == 0:
        print("%s: no test ran: 0 passed is a failure" % module.__file__, file=sys.stderr)
        sys.exit(1)
    sys.exit(1 if failed else 0)
