"""Run-wide machinery of the conformance suites.

The key-leak scanner (contract §1: "the full key is shown only once, at
creation") watches every exchange of the run, whatever check sends it; the
check that reports what it found (marked `runs_last`) is moved to the end of
the run so that it judges everything sent before it. The `lockouts` fixture
(suites/_lockout.py) serves every module that locks an account on purpose;
`reader` is the one logged-in session that a module's read-only checks share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from bsk_conformance.harness.api import (
    CleanupFailed,
    UserSession,
    log_out_for_good,
    not_verified,
    record_disturbance,
    share_dir,
)

from ._keys import KeyLeakScanner
from ._lockout import LONGEST_LOCK, Lockouts
from ._stray_credentials import StrayCredentialScanner
from ._wire import SignedIn

SCAN_FILE = "key-leaks-{}.json"
STRAY_FILE = "stray-credentials-{}.json"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "runs_last: a check that judges the traffic of the whole run; it runs last")
    config.addinivalue_line(
        "markers", "runs_first: a long check; under -n it starts the run, on one worker (harness/phases.py)"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker("runs_last")]
    if last:
        items[:] = [item for item in items if not item.get_closest_marker("runs_last")] + last


@pytest.fixture(scope="session", autouse=True)
def key_leak_scanner(request: pytest.FixtureRequest, target) -> Iterator[KeyLeakScanner]:
    """Every key the target issues in this process, and every later response
    that shows it again. Under pytest-xdist each worker has its own, and
    leaves its findings in the run's share directory when its session ends
    (harness/phases.py: before the serial phase, where the scan's check runs)."""
    scanner = KeyLeakScanner(target.profile, target.evidence.redactor)
    target.evidence.observe(scanner.observe)
    yield scanner
    where = share_dir(request.config)
    if where is not None:
        name = SCAN_FILE.format(request.config.workerinput["workerid"])
        (where / name).write_text(json.dumps(scanner.export()), encoding="utf-8")


class EarlyLogin(NamedTuple):
    session: UserSession
    before: float  # the target's time read just before the login


@pytest.fixture(scope="session", autouse=True)
def early_login(request: pytest.FixtureRequest) -> Iterator[EarlyLogin | None]:
    """On a real clock, alice logged in as this process starts its first
    check: a check at the run's end that needs an access token past its life
    (BSK-LEAK-002) finds one already expired, or nearly, instead of waiting
    15 minutes for a fresh one. None on every other clock, where time moves
    at once and nothing is sent here."""
    if request.config.getoption("clock") not in ("real", "auto") or not request.config.getoption("target"):
        yield None  # the in-process server's clock is always moved, never waited
        return
    clock = request.getfixturevalue("clock")
    if clock.name != "real":
        yield None
        return
    registry = request.getfixturevalue("two_factor_registry")
    before = clock.now()  # the harness's own reading, not the token's iat
    session = registry.login(request.getfixturevalue("alice"))
    yield EarlyLogin(session, before)
    log_out_for_good(session)


@pytest.fixture
def whole_run_key_leaks(request: pytest.FixtureRequest, key_leak_scanner: KeyLeakScanner) -> KeyLeakScanner:
    """This process's scanner, with the findings of every worker that has
    finished added: under the phased scheduler, all the others."""
    where = share_dir(request.config)
    if where is not None:
        own = SCAN_FILE.format(request.config.workerinput["workerid"])
        for path in sorted(where.glob(SCAN_FILE.format("*"))):
            if path.name != own:
                key_leak_scanner.absorb(json.loads(path.read_text(encoding="utf-8")))
    return key_leak_scanner


@pytest.fixture
def lock_can_be_waited_out(clock) -> None:
    """Asked for before `two_factor` by a check that may lock an account on
    purpose: where a lock could not be waited out (LONGEST_LOCK) it is not
    verified before turning 2FA on spends TOTP steps (real waiting, on a real clock)."""
    if not clock.can_advance(LONGEST_LOCK):
        not_verified("its failed logins may lock the account; restoring it needs the clock moved past Retry-After")


@pytest.fixture
def lockouts(target, clock, two_factor_registry) -> Iterator[Lockouts]:
    """Accounts this check locks on purpose, restored after it (suites/_lockout.py).
    Request it after `two_factor` (if used) so that it is released first:
    turning 2FA off again needs a login."""
    record_disturbance("login-throttle", "asked for the lockouts fixture (it locks accounts by failed logins)")
    guard = Lockouts(target, clock, two_factor_registry)
    yield guard
    problems = guard.release()
    if problems:
        raise CleanupFailed("an account locked by this check could not be restored: " + "; ".join(problems))


@pytest.fixture(scope="module")
def signed_in(two_factor_registry, alice, clock):
    shared = SignedIn(two_factor_registry, alice, clock)
    yield shared
    shared.close()


@pytest.fixture
def reader(signed_in):
    """alice, logged in once for the checks of a module that only read."""
    return signed_in.session


@pytest.fixture(scope="session")
def stray_credential_scanner(request: pytest.FixtureRequest, target) -> Iterator[StrayCredentialScanner | None]:
    """Token- and key-shaped strings in answers where the contract puts none
    (suites/_stray_credentials.py), watched only in a run that holds a check
    of the `leaks` area: trials send requests, which no other area's run
    should see. Under pytest-xdist each worker leaves its findings in the
    run's share directory, as the key-leak scanner does."""
    if not any(item.get_closest_marker("leaks") for item in request.session.items):
        yield None
        return
    scanner = StrayCredentialScanner(target.evidence.redactor)
    target.evidence.observe(scanner.observe)
    yield scanner
    where = share_dir(request.config)
    if where is not None:
        name = STRAY_FILE.format(request.config.workerinput["workerid"])
        (where / name).write_text(json.dumps(scanner.export()), encoding="utf-8")


@pytest.fixture(autouse=True)
def stray_credential_trials(stray_credential_scanner: StrayCredentialScanner | None, target) -> Iterator[None]:
    """After each check, what its answers held that looks like a credential is
    tried at once, while it may still be live (none: no request)."""
    yield
    if stray_credential_scanner is not None:
        stray_credential_scanner.trial(target)


@pytest.fixture
def whole_run_stray_credentials(request: pytest.FixtureRequest,
                                stray_credential_scanner: StrayCredentialScanner | None) -> StrayCredentialScanner:
    """This process's findings, with those of every worker that has finished."""
    assert stray_credential_scanner is not None  # a check of the leaks area asks for it
    where = share_dir(request.config)
    if where is not None:
        own = STRAY_FILE.format(request.config.workerinput["workerid"])
        for path in sorted(where.glob(STRAY_FILE.format("*"))):
            if path.name != own:
                stray_credential_scanner.absorb(json.loads(path.read_text(encoding="utf-8")), path.name)
    return stray_credential_scanner
