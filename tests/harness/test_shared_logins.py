"""The shared logins (harness/shared_logins.py) against the reference server
served on loopback: a check that only uses a session is lent the account's
one; a session a check rotated, or that time or a revoking request may have
killed, is never lent again."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from bsk_conformance.harness.clock import FrozenClockStrategy
from bsk_conformance.harness.disturbances import GUARD
from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.inprocess import InProcessServer, default_factory, start
from bsk_conformance.harness.session import TwoFactorRegistry, UserSession
from bsk_conformance.harness.shared_logins import SharedLogins, needs_own_login
from bsk_conformance.harness.state import declared_key
from bsk_conformance.harness.target import Target


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    served = start(default_factory)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def world(server: InProcessServer) -> Iterator[SimpleNamespace]:
    target = Target(server.url, server.profile, EvidenceLog(Redactor()), in_process=True)
    clock = FrozenClockStrategy(server.clock)
    registry = TwoFactorRegistry(target, clock)
    shared = SharedLogins(registry, clock)
    target.evidence.observe(shared.observe)
    sent: list[str] = []
    target.evidence.observe(lambda exchange: sent.append(f"{exchange.method} {exchange.url.rsplit('/', 2)[-2:]}"))
    try:
        yield SimpleNamespace(target=target, clock=clock, shared=shared, alice=server.profile.accounts[0], sent=sent)
    finally:
        shared.close()
        target.close()


def _lend(world: SimpleNamespace, *, own: bool = False) -> tuple[UserSession, Iterator[UserSession]]:
    """A check's life of `user`: the session lent, and the generator to finish it."""
    life = world.shared.lend(world.alice, own=own)
    return next(life), life


def _end(life: Iterator[UserSession]) -> None:
    with pytest.raises(StopIteration):
        next(life)


def _logins(world: SimpleNamespace) -> int:
    return sum(1 for line in world.sent if line.startswith("POST") and "login" in line)


def test_checks_that_only_use_the_session_share_one_login(world):
    first, life = _lend(world)
    assert first.get("/me").status_code == 200
    _end(life)
    second, life = _lend(world)
    assert second is first and second.get("/me").status_code == 200
    _end(life)
    assert _logins(world) == 1 and world.shared.lent == 1


def test_a_session_a_check_rotated_is_not_lent_again(world):
    first, life = _lend(world)
    rotated = world.target.refresh(first.refresh_token)  # reading it claims the session
    assert rotated.status_code == 200
    _end(life)
    second, life = _lend(world)
    assert second is not first
    _end(life)
    assert _logins(world) == 2


def test_after_the_clock_moved_the_shared_session_is_logged_out_and_replaced(world):
    first, life = _lend(world)
    refresh = UserSession.__getattribute__(first, "refresh_token")  # as the harness reads it, unclaimed
    _end(life)
    world.clock.advance(1000)  # a clock check: the access token is past its 900 s
    second, life = _lend(world)
    assert second is not first and second.get("/me").status_code == 200
    _end(life)
    # the replaced one was logged out: its refresh token is revoked, nothing left behind
    assert world.target.refresh(refresh).status_code == 401


def test_a_session_killed_by_a_revoking_request_elsewhere_is_found_out_before_it_is_lent(world, server):
    first, life = _lend(world)
    _end(life)
    # what a target revoking every session of the account at one logout looks like to
    # the next check: the shared token refused. The server's own clock is moved past the
    # token's life without the harness knowing; then another session logs out.
    server.clock.advance(1000)
    other = world.shared._registry.login(world.alice)
    assert other.logout().status_code == 204
    second, life = _lend(world)
    assert second is not first and second.get("/me").status_code == 200
    _end(life)
    shown = [line for line in world.sent if "me" in line]
    assert shown, "the shared session was not shown to still work before it was lent again"


def test_a_check_that_needs_its_own_login_gets_one_and_it_is_logged_out(world):
    first, life = _lend(world, own=True)
    refresh = first.refresh_token
    _end(life)
    second, life = _lend(world, own=True)
    assert second is not first
    _end(life)
    assert _logins(world) == 2
    assert world.target.refresh(refresh).status_code == 401


def test_the_shared_sessions_are_logged_out_at_the_end(world):
    first, life = _lend(world)
    refresh = UserSession.__getattribute__(first, "refresh_token")
    _end(life)
    world.shared.close()
    assert world.target.refresh(refresh).status_code == 401
    GUARD.touch("clock", "a touch after close is nobody's business")  # the listener is gone: no error


def _item(fixturenames: list[str], requirement: str | None, declared: dict[str, frozenset[str]], like=None):
    config = SimpleNamespace(stash={declared_key: declared})
    markers = {"requirement": requirement, "disturbs_like": like}
    return SimpleNamespace(
        fixturenames=fixturenames,
        config=config,
        get_closest_marker=lambda name: SimpleNamespace(args=(markers[name],)) if markers.get(name) else None,
    )


@pytest.mark.parametrize(
    ("fixturenames", "requirement", "own"),
    [
        (["user"], "BSK-X-001", False),
        (["user", "resources"], "BSK-X-001", False),
        (["user", "clock"], "BSK-X-001", True),  # reasons about when its token was issued
        (["user", "two_factor"], "BSK-X-001", True),
        (["user", "server"], "BSK-X-001", True),
        (["user"], "BSK-X-002", True),  # its requirement declares a disturbance
    ],
)
def test_which_checks_keep_a_login_of_their_own(fixturenames, requirement, own):
    item = _item(fixturenames, requirement, {"BSK-X-002": frozenset({"login-throttle"})})
    assert needs_own_login(item) is own


def test_a_check_that_may_start_a_disturbing_shared_run_keeps_its_own():
    item = _item(["user"], "BSK-X-001", {"BSK-X-002": frozenset({"clock"})}, like="BSK-X-002")
    assert needs_own_login(item) is True
