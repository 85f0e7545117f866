"""The fixtures suites are written against.

| fixture         | scope    | what it is |
|-----------------|----------|------------|
| `target`        | session  | the `Target` (recording client, profile, capabilities, clock) |
| `clock`         | session  | the `ClockStrategy` that moves the target's time |
| `alice`         | session  | the first profile account |
| `bob`           | session  | an account in another organization (not verified without one) |
| `user`          | function | alice, logged in (shared unless the check needs its own: shared_logins.py) |
| `other_user`    | function | bob, logged in (likewise) |
| `resources`     | function | creates keys and projects, deletes them after the check |
| `two_factor`    | function | an account with 2FA on; turned off again after the check (real clock: after a row) |
| `server`        | session  | the in-process server (not verified against a remote target) |

Fixtures only: what they hand out and how it is made live in
harness/service.py (opening the target), harness/session.py (logins, created
resources) and harness/two_factor.py (an account with 2FA on).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bsk_conformance.harness.clock import ClockStrategy
from bsk_conformance.harness.inprocess import InProcessServer
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.service import TargetService, open_target
from bsk_conformance.harness.session import Resources, TwoFactorRegistry, UserSession
from bsk_conformance.harness.shared_logins import SharedLogins, needs_own_login
from bsk_conformance.harness.state import run_state
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.two_factor import KeptTwoFactor, TwoFactorAccount, turn_off, turn_on
from bsk_conformance.harness.verdicts import NotVerified

#: config.stash: the 2FA enable shared by checks in a row on a real clock
_kept_key = pytest.StashKey[KeptTwoFactor]()


@pytest.fixture(scope="session")
def _bsk_service(request: pytest.FixtureRequest) -> TargetService:
    return open_target(request.config)


@pytest.fixture(scope="session")
def target(_bsk_service: TargetService) -> Target:
    return _bsk_service.target


@pytest.fixture(scope="session")
def server(_bsk_service: TargetService) -> InProcessServer:
    if _bsk_service.server is None:
        raise NotVerified("only the bundled reference server, run in-process, can show this")
    return _bsk_service.server


@pytest.fixture(scope="session")
def alice(target: Target) -> Account:
    return target.profile.accounts[0]


@pytest.fixture(scope="session")
def bob(target: Target, alice: Account) -> Account:
    organizations = target.capabilities.organizations
    for account in target.profile.accounts[1:]:
        if organizations.get(account.email) != organizations.get(alice.email):
            return account
    raise NotVerified("needs a second account in another organization; add one to the profile")


@pytest.fixture(scope="session")
def clock(_bsk_service: TargetService) -> ClockStrategy:
    return _bsk_service.clock


@pytest.fixture(scope="session")
def two_factor_registry(_bsk_service: TargetService) -> TwoFactorRegistry:
    return _bsk_service.registry


@pytest.fixture(scope="session")
def _bsk_shared_logins(_bsk_service: TargetService) -> Iterator[SharedLogins]:
    # not through the `clock` fixture: a check that asks for the clock keeps its own
    # login (shared_logins.needs_own_login reads the check's fixture closure)
    shared = SharedLogins(_bsk_service.registry, _bsk_service.clock)
    _bsk_service.target.evidence.observe(shared.observe)
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
def user(request: pytest.FixtureRequest, _bsk_shared_logins: SharedLogins, alice: Account) -> Iterator[UserSession]:
    yield from _bsk_shared_logins.lend(alice, own=needs_own_login(request.node))


@pytest.fixture
def other_user(request: pytest.FixtureRequest, _bsk_shared_logins: SharedLogins, bob: Account) -> Iterator[UserSession]:
    yield from _bsk_shared_logins.lend(bob, own=needs_own_login(request.node))


@pytest.fixture
def resources(target: Target, two_factor_registry: TwoFactorRegistry) -> Iterator[Resources]:
    with Resources.cleaning_up(target, two_factor_registry) as made:
        yield made


@pytest.fixture(scope="session")
def _bsk_kept_two_factor(
    request: pytest.FixtureRequest, target: Target, two_factor_registry: TwoFactorRegistry
) -> Iterator[KeptTwoFactor]:
    kept = KeptTwoFactor(target, two_factor_registry)
    request.config.stash[_kept_key] = kept
    try:
        yield kept
    finally:
        del request.config.stash[_kept_key]
        kept.release()  # a run cut short after a check that held it


@pytest.fixture
def two_factor(
    target: Target,
    clock: ClockStrategy,
    two_factor_registry: TwoFactorRegistry,
    alice: Account,
    _bsk_kept_two_factor: KeptTwoFactor,
) -> Iterator[TwoFactorAccount]:
    """An account with 2FA on. A profile account with `totpSecret` is used as
    it is; otherwise 2FA is turned on for alice and turned off afterwards
    (on a real clock, after the last of the checks in a row that ask for it)."""
    for account in target.profile.accounts:
        if account.totp_secret:
            yield TwoFactorAccount(account, account.totp_secret, False, two_factor_registry)
            return
    # turning 2FA off again needs codes from two further TOTP steps: make
    # sure time can move that far before touching the account
    if not clock.can_advance(120):
        raise NotVerified(
            "2FA checks need the clock moved by whole TOTP steps (30 s): "
            "no clock control and too little --real-time-budget"
        )
    if clock.name == "real":  # each step is real waiting: checks in a row share one enable
        yield _bsk_kept_two_factor.take(alice)
        return
    account = turn_on(target, two_factor_registry, alice)
    try:
        yield account
    finally:
        turn_off(target, two_factor_registry, account)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = run_state(config)
    if state is not None and state.options.clock == "real":
        items[:] = two_factor_in_a_row(items, last_first=state.options.target is not None)


def _asks_for_two_factor(item: pytest.Item) -> bool:
    return "two_factor" in item.fixturenames


def two_factor_in_a_row(items: list[pytest.Item], last_first: bool = False) -> list[pytest.Item]:
    """The checks that ask for `two_factor` in a row, at the first one's
    place, so that on a real clock they share one enable (`KeptTwoFactor`).
    They all run in the serial phase, where order is collection order; the
    `runs_last` ones stay last (suites/conftest.py moves them, in the order
    they have here), and every other check keeps its order.

    `last_first`: the row goes at the end of the checks that do not run
    last, and the `runs_last` ones that ask for `two_factor` ahead of the
    other `runs_last` ones, so that the row hands the account on to them
    too (a fresh enable and disable there cost 90 s of TOTP steps after the
    15-minute waits, on the run's critical path). Given for a remote target
    only: in-process, the secret-hygiene check that runs last sends two
    malformed logins, whose refusals BSK-LEAK-001 would then no longer see;
    remotely that check sends nothing (it needs the server's log)."""
    last = [item for item in items if item.get_closest_marker("runs_last") is not None]
    row = [item for item in items if _asks_for_two_factor(item) and item.get_closest_marker("runs_last") is None]
    grouped = {id(item) for item in row}
    rest = [item for item in items if id(item) not in grouped]
    if last_first:
        rest = [item for item in rest if item.get_closest_marker("runs_last") is None]
        ahead = [item for item in last if _asks_for_two_factor(item)]
        return rest + row + ahead + [item for item in last if not _asks_for_two_factor(item)]
    if len(row) < 2:
        return list(items)
    first = items.index(row[0])
    return rest[:first] + row + rest[first:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a check's own teardown (its lockouts released first): the 2FA
    it shared handed on to the next check when that one asks for it too,
    else turned off. Inside the check's run, so its evidence and declared
    disturbances cover the exchanges."""
    try:
        return (yield)
    finally:
        kept = item.config.stash.get(_kept_key, None)
        if kept is not None and kept.holding:
            if nextitem is not None and "two_factor" in nextitem.fixturenames and not item.session.shouldstop:
                kept.hand_on()
            else:
                kept.release()
