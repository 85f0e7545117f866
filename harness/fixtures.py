"""The fixtures suites are written against.

| fixture         | scope    | what it is |
|-----------------|----------|------------|
| `target`        | session  | the `Target` (recording client, profile, capabilities, clock) |
| `clock`         | session  | the `ClockStrategy` that moves the target's time |
| `alice`         | session  | the first profile account |
| `bob`           | session  | an account in another organization (not verified without one) |
| `user`          | function | alice, logged in |
| `other_user`    | function | bob, logged in |
| `resources`     | function | creates keys and projects, deletes them after the check |
| `two_factor`    | function | an account with 2FA on; turned off again after the check |
| `server`        | session  | the in-process server (not verified against a remote target) |
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

from bsk_conformance.harness.clock import (
    ControlClockStrategy,
    FrozenClockStrategy,
    OffClockStrategy,
    RealClockStrategy,
)
from bsk_conformance.harness.expect import describe, expect_status
from bsk_conformance.harness.inprocess import FactoryError, InProcessServer, resolve_factory, start
from bsk_conformance.harness.preflight import PreflightError, run_preflight
from bsk_conformance.harness.profile import Account, load_profile
from bsk_conformance.harness.session import (
    Resources,
    TwoFactorRegistry,
    UserSession,
    session_from_login,
)
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.transport import DIRECT, ConnectionSetupError
from bsk_conformance.harness.verdicts import EXIT_USAGE, CleanupFailed, NotVerified, PreconditionFailed


class TargetService:
    """Opens the target for one pytest process: the in-process server or a
    preflighted remote one, with the clock strategy that fits it."""

    def __init__(self, config: pytest.Config, state: Any) -> None:
        self._config = config
        self._state = state
        self.server: InProcessServer | None = None
        self.target: Target | None = None
        self.clock = None
        self.preflight_notes: list[str] = []
        self.fingerprint: dict[str, Any] | None = None
        self.registry: TwoFactorRegistry | None = None

    def open(self) -> Target:
        options = self._config.option
        evidence = self._state.evidence
        if options.target:
            profile = load_profile(Path(options.target_profile))
            try:
                target = Target(
                    options.target,
                    profile,
                    evidence,
                    timeout=options.request_timeout,
                    connection=self._state.connection or DIRECT,
                    limits=self._state.limits,
                )
            except ConnectionSetupError as exc:
                raise PreflightError(str(exc), EXIT_USAGE) from None
        else:
            try:
                factory = resolve_factory(options.reference_factory)
            except FactoryError as exc:
                raise PreflightError(str(exc), EXIT_USAGE) from None
            self.server = start(factory)
            target = Target(
                self.server.url,
                self.server.profile,
                evidence,
                timeout=options.request_timeout,
                in_process=True,
                limits=self._state.limits,
            )
        self.target = target
        report = run_preflight(target)
        self.preflight_notes = [n for n in report.notes if not target.in_process]
        self.fingerprint = report.fingerprint
        self.clock = self._clock_strategy(options, target)
        target.clock = self.clock
        self.registry = TwoFactorRegistry(target, self.clock)
        return target

    def _clock_strategy(self, options: Any, target: Target):
        mode, budget = options.clock, options.real_time_budget
        if mode == "off":
            return OffClockStrategy()
        if mode == "real":
            return RealClockStrategy(budget)
        if mode == "control":
            if not target.capabilities.clock_control:
                raise PreflightError(
                    "--clock control: the target has no clock control (GET /_test/clock did not answer {now})",
                    EXIT_USAGE,
                )
            return ControlClockStrategy(target.client)
        if self.server is not None:
            return FrozenClockStrategy(self.server.clock)
        if target.capabilities.clock_control:
            return ControlClockStrategy(target.client)
        return RealClockStrategy(budget)

    def close(self) -> None:
        if self.target is not None:
            self.target.close()
        if self.server is not None:
            self.server.stop()
        self.target = self.server = None


@pytest.fixture(scope="session")
def _bsk_service(request: pytest.FixtureRequest) -> Iterator[TargetService]:
    from bsk_conformance.harness.plugin import state_key

    state = request.config.stash[state_key]
    if state.service is None:
        service = TargetService(request.config, state)
        try:
            service.open()
        except PreflightError as exc:
            pytest.exit(f"bsk-conformance: preflight failed: {exc}", returncode=exc.exit_code)
        state.service = service
        if state.clock_mode is None:
            state.clock_mode = service.clock.name
    yield state.service


@pytest.fixture(scope="session")
def target(_bsk_service: TargetService) -> Target:
    return _bsk_service.target


@pytest.fixture(scope="session")
def clock(_bsk_service: TargetService):
    return _bsk_service.clock


@pytest.fixture(scope="session")
def server(_bsk_service: TargetService) -> InProcessServer:
    if _bsk_service.server is None:
        raise NotVerified("only the bundled reference server, run in-process, can show this")
    return _bsk_service.server


@pytest.fixture(scope="session")
def two_factor_registry(_bsk_service: TargetService) -> TwoFactorRegistry:
    return _bsk_service.registry


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


def _logged_in(registry: TwoFactorRegistry, account: Account) -> Iterator[UserSession]:
    session = registry.login(account)
    yield session
    try:
        session.logout()  # best effort: a clock moved past the token's life makes this a 401
    except Exception:
        pass


@pytest.fixture
def user(two_factor_registry: TwoFactorRegistry, alice: Account) -> Iterator[UserSession]:
    yield from _logged_in(two_factor_registry, alice)


@pytest.fixture
def other_user(two_factor_registry: TwoFactorRegistry, bob: Account) -> Iterator[UserSession]:
    yield from _logged_in(two_factor_registry, bob)


@pytest.fixture
def resources(target: Target, two_factor_registry: TwoFactorRegistry) -> Iterator[Resources]:
    with Resources.cleaning_up(target, two_factor_registry) as made:
        yield made


@dataclass
class TwoFactorAccount:
    """An account with 2FA on, and the means to make valid codes for it."""

    account: Account
    secret: str
    managed: bool  # True when the harness turned 2FA on and must turn it off
    registry: TwoFactorRegistry

    def fresh_code(self) -> str:
        """A valid code from a step this account has not used yet."""
        return self.registry.next_code(self.account, self.secret)

    def wrong_codes(self, count: int) -> list[str]:
        """Distinct well-formed codes valid at no step near now (±2 steps), so
        no server window (±1 step, or wider by one) can accept them."""
        now = self.registry.now()
        totp = pyotp.TOTP(self.secret)
        taken = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
        candidates = (f"{n:06d}" for n in range(0, 1_000_000, 7919))
        return list(itertools.islice((code for code in candidates if code not in taken), count))

    def wrong_code(self) -> str:
        return self.wrong_codes(1)[0]


@pytest.fixture
def two_factor(
    target: Target, clock, two_factor_registry: TwoFactorRegistry, alice: Account
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
    session = two_factor_registry.login(alice)
    setup = session.post("/auth/2fa/setup")
    expect_status(setup, 200, context="2FA setup (POST /auth/2fa/setup)")
    secret = setup.json().get("secret")
    if not isinstance(secret, str):
        raise PreconditionFailed("the target's 2FA setup (POST /auth/2fa/setup) answered no secret", setup)
    target.evidence.redactor.register(secret, "totp-secret")
    enable = session.post("/auth/2fa/enable", json={"code": two_factor_registry.next_code(alice, secret)})
    expect_status(enable, 204, context="2FA enable (POST /auth/2fa/enable)")
    two_factor_registry.set(alice, secret)
    account = TwoFactorAccount(alice, secret, True, two_factor_registry)
    try:
        yield account
    finally:
        _turn_off(target, two_factor_registry, account)


def _turn_off(target: Target, registry: TwoFactorRegistry, account: TwoFactorAccount) -> None:
    """Leave the account as it was found, even when the check failed."""
    if registry.secret(account.account) is None:
        return  # the check turned it off itself
    session = registry.login(account.account)
    response = session.post("/auth/2fa/disable", json={"code": account.fresh_code()})
    if response.status_code != 204:
        raise CleanupFailed(
            f"the target refused to turn 2FA off again for {account.account.email}: {describe(response)}"
        )
    registry.set(account.account, None)
    session.logout()
    # a disable that answers 204 and leaves 2FA on would strand the account
    # for every later check: prove it is off
    login = target.login(account.account)
    if login.status_code != 200:
        raise CleanupFailed(
            f"2FA disable answered 204 but {account.account.email} still cannot log in without a code "
            f"(HTTP {login.status_code})"
        )
    session_from_login(target, account.account, login).logout()
