"""A harness run forked from the fork server is the run a fresh `python -m
pytest` gives: the same verdicts and exit code, the same modules rewritten
and the same assertion introspection; a run that does not end is killed at
its timeout and the server serves the next one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.faulty.registry import all_variants
from tests.faulty.runner import run_harness
from tests.fork_runs import FRESH_PROCESS, ForkServer, harness_process

LOADERS = '''
import sys
import threading

from _pytest.assertion.rewrite import AssertionRewritingHook

WATCHED = ("hypothesis", "schemathesis", "bsk_conformance.harness.service", "bsk_conformance.harness.fixtures",
           "bsk_conformance.harness.phases", "test_user_checks")


def test_loaders():
    rewritten = [name for name in WATCHED
                 if name in sys.modules and isinstance(sys.modules[name].__loader__, AssertionRewritingHook)]
    print("REWRITTEN:", ",".join(rewritten) or "none")


def test_a_users_failing_assert():
    seen = [1, 2]
    assert len(seen) == 3


def test_forever():
    threading.Event().wait()
'''


@pytest.fixture
def forks():
    server = ForkServer()
    yield server
    server.close()


def _user_checks(folder: Path) -> None:
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:schemathesis\n")
    (folder / "test_user_checks.py").write_text(LOADERS)


def _fresh(folder: Path, *args: str) -> str:
    _, output = harness_process([sys.executable, "-m", "pytest", *args], folder, timeout=300)  # elsewhere: fresh
    return output


def _lines(output: str, *starts: str) -> list[str]:
    """The lines that begin with one of `starts`, or hold `REWRITTEN:` (after a file name, under -s)."""
    found = []
    for line in output.splitlines():
        line = line.strip()
        if "REWRITTEN:" in line:
            found.append(line[line.index("REWRITTEN:"):])
        elif line.startswith(starts):
            found.append(line)
    return found


def test_a_forked_run_rewrites_and_explains_what_a_fresh_one_does(forks, tmp_path):
    _user_checks(tmp_path)
    args = ["test_user_checks.py", "-s", "-p", "no:cacheprovider", "-k", "not forever"]
    _, forked = forks.run(args, tmp_path, timeout=300)
    fresh = _fresh(tmp_path, *args)
    wanted = ("E ", ">", "FAILED")
    assert _lines(forked, *wanted) == _lines(fresh, *wanted), forked[-3000:]
    assert "1 failed, 1 passed" in forked and "1 failed, 1 passed" in fresh, forked[-3000:]
    # the control, so that the comparison can fail: the user's file and the plugin's own
    # fixture modules rewritten (pytest's rule), the dependencies not, and the comparison explained
    assert ("REWRITTEN: bsk_conformance.harness.fixtures,bsk_conformance.harness.phases,test_user_checks"
            in _lines(forked, "REWRITTEN:")), forked[-3000:]
    assert "where 2 = len([1, 2])" in forked and "Module already imported" not in forked, forked[-3000:]


def test_a_run_past_its_timeout_is_killed_and_the_server_goes_on(forks, tmp_path):
    _user_checks(tmp_path)
    with pytest.raises(subprocess.TimeoutExpired):
        forks.run(["test_user_checks.py", "-p", "no:cacheprovider", "-k", "forever"], tmp_path, timeout=3)
    code, output = forks.run(["test_user_checks.py", "-p", "no:cacheprovider", "-k", "loaders"], tmp_path,
                             timeout=300)
    assert code == 0 and "1 passed" in output, output[-3000:]


def test_a_forked_harness_run_judges_as_a_fresh_one(monkeypatch):
    variant = all_variants()["rate_limit_off_by_one"]  # the rate-limit area only
    forked = run_harness(variant)
    monkeypatch.setenv(FRESH_PROCESS, "1")
    fresh = run_harness(variant)
    assert forked.result is not None and fresh.result is not None, forked.output[-3000:]
    assert (forked.exit_code, forked.statuses()) == (fresh.exit_code, fresh.statuses())
    assert "BSK-RL-001" in forked.with_status("failed") and forked.exit_code == 1, forked.output[-3000:]
