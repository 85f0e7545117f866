"""Assertion rewriting in a run: not the harness's dependencies, still a user's checks.

Real pytest processes: a user's check file imports schemathesis and hypothesis
and looks at who loaded them; its own failing `assert` must still show pytest's
introspection. The same file with the harness's plugin disabled is the control
(pytest's default marks those packages), so the check can fail.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

from bsk_conformance.harness.rewrite_scope import NOT_REWRITTEN

USER_CHECKS = '''
import sys

import hypothesis
import schemathesis
from _pytest.assertion.rewrite import AssertionRewritingHook


def test_loaders():
    rewritten = sorted(
        name for name in ("hypothesis", "schemathesis", "schemathesis.openapi", "bsk_conformance.harness.service")
        if name in sys.modules and isinstance(sys.modules[name].__loader__, AssertionRewritingHook)
    )
    print("REWRITTEN:", ",".join(rewritten) or "none")
    print("PLUGIN LOADED:", "bsk_conformance.harness.service" in sys.modules)


def test_a_users_failing_assert():
    seen = [1, 2]
    assert len(seen) == 3
'''


def _run(folder: Path, *args: str) -> str:
    # The checkout's pyproject keeps schemathesis's own plugin out (`-p no:schemathesis`); so does this folder.
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:schemathesis\n")
    (folder / "test_user_checks.py").write_text(USER_CHECKS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_user_checks.py", "-s", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout + done.stderr


def test_dependencies_are_not_rewritten_and_a_users_assert_still_is(tmp_path: Path) -> None:
    output = _run(tmp_path)
    assert "REWRITTEN: none" in output and "PLUGIN LOADED: True" in output, output[-3000:]
    # the user's check file is still rewritten: pytest explains the failed comparison
    assert "assert 2 == 3" in output and "where 2 = len([1, 2])" in output, output[-3000:]
    assert "1 failed, 1 passed" in output, output[-3000:]


def test_without_the_plugin_pytest_rewrites_them(tmp_path: Path) -> None:
    """The control: pytest's own default marks every pytest11 distribution."""
    output = _run(tmp_path, "-p", "no:bsk_conformance")
    assert "REWRITTEN: hypothesis,schemathesis,schemathesis.openapi" in output, output[-3000:]
    assert "where 2 = len([1, 2])" in output, output[-3000:]


def _requirements_closure(name: str, extras: frozenset[str]) -> dict[str, importlib.metadata.Distribution]:
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        try:
            dist = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen and not wanted:
            continue
        seen[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_every_pytest11_distribution_the_harness_installs_is_named() -> None:
    closure = _requirements_closure("bsk-conformance", frozenset({"test"}))
    plugins = {
        key for key, dist in closure.items() if any(entry.group == "pytest11" for entry in dist.entry_points)
    }
    assert {"bsk-conformance", "schemathesis", "hypothesis"} <= plugins  # the walk found what it must
    assert plugins - {"pytest"} <= set(NOT_REWRITTEN), plugins - set(NOT_REWRITTEN)
