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
| `two_factor`    | function | an account with 2FA on; turned off again after the check |
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
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.two_factor import TwoFactorAccount, turn_off, turn_on
from bsk_conformance.harness.verdicts import NotVerified


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


@pytest.fixture
def two_factor(
    target: Target, clock: ClockStrategy, two_factor_registry: TwoFactorRegistry, alice: Account
) -> Iterator[TwoFactorAccount]:
    """An account with 2FA on. A profile account with `totpSecret` is used as
    it is; otherwise 2FA is turned on for alice and turned off afterwards."""
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
    account = turn_on(target, two_factor_registry, alice)
    try:
        yield account
    finally:
        turn_off(target, two_factor_registry, account)
