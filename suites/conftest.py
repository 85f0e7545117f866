"""Run-wide machinery of the conformance suites.

The key-leak scanner (contract §1: "the full key is shown only once, at
creation") watches every exchange of the run, whatever check sends it; the
check that reports what it found (marked `runs_last`) is moved to the end of
the run so that it judges everything sent before it. The `lockouts` fixture
(suites/_lockout.py) serves every module that locks an account on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bsk_conformance.harness.api import CleanupFailed

from ._keys import KeyLeakScanner
from ._lockout import Lockouts


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "runs_last: a check that judges the traffic of the whole run; it runs last")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker("runs_last")]
    if last:
        items[:] = [item for item in items if not item.get_closest_marker("runs_last")] + last


@pytest.fixture(scope="session", autouse=True)
def key_leak_scanner(target) -> KeyLeakScanner:
    """Every key the target issues in this process, and every later response
    that shows it again. Under pytest-xdist each worker has its own."""
    scanner = KeyLeakScanner(target.profile, target.evidence.redactor)
    target.evidence.observe(scanner.observe)
    return scanner


@pytest.fixture
def lockouts(target, clock, two_factor_registry) -> Iterator[Lockouts]:
    """Accounts this check locks on purpose, restored after it (suites/_lockout.py).
    Request it after `two_factor` (if used) so that it is released first:
    turning 2FA off again needs a login."""
    guard = Lockouts(target, clock, two_factor_registry)
    yield guard
    problems = guard.release()
    if problems:
        raise CleanupFailed("an account locked by this check could not be restored: " + "; ".join(problems))
