"""One 2FA enable shared by the checks in a row that ask for `two_factor`
on a real clock (harness/two_factor.py KeptTwoFactor, harness/fixtures.py).

The keeper itself does not care which clock moves the steps: these tests
drive it against the reference server served on loopback with its frozen
clock, so no step is waited for. tests/harness/test_two_factor_real_time.py
runs it on real TOTP steps, through the fixtures and the teardown hook."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from bsk_conformance.harness.accounts import disable_two_factor
from bsk_conformance.harness.clock import FrozenClockStrategy
from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.fixtures import two_factor_in_a_row
from bsk_conformance.harness.inprocess import InProcessServer, default_factory, start
from bsk_conformance.harness.session import TwoFactorRegistry
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.two_factor import KeptTwoFactor
from bsk_conformance.harness.verdicts import CleanupFailed


@pytest.fixture
def world() -> Iterator[SimpleNamespace]:
    server: InProcessServer = start(default_factory)
    target = Target(server.url, server.profile, EvidenceLog(Redactor()), in_process=True)
    registry = TwoFactorRegistry(target, FrozenClockStrategy(server.clock))
    sent: list[str] = []
    target.evidence.observe(lambda exchange: sent.append(f"{exchange.method} {exchange.url.split('/', 3)[-1]} "
                                                         f"{exchange.status}"))
    try:
        yield SimpleNamespace(target=target, registry=registry, kept=KeptTwoFactor(target, registry),
                              alice=server.profile.accounts[0], sent=sent)
    finally:
        target.close()
        server.stop()


def _count(world: SimpleNamespace, line: str) -> int:
    return sum(1 for sent in world.sent if sent.startswith(line))


def _plain_login(world: SimpleNamespace) -> int:
    return world.target.login(world.alice).status_code


def test_checks_in_a_row_share_one_enable_and_it_is_turned_off_after_the_last(world) -> None:
    first = world.kept.take(world.alice)
    assert _count(world, "POST auth/2fa/enable 204") == 1
    world.kept.hand_on()
    second = world.kept.take(world.alice)
    assert second is first and second.managed
    assert _count(world, "POST auth/2fa/setup") == 1, "the second check turned 2FA on again"
    # handing on: one successful login with a fresh code between the checks, nothing turned off
    assert _count(world, "POST auth/login 200") == 2 and _count(world, "POST auth/2fa/disable") == 0
    assert _plain_login(world) == 401  # still on between the checks
    world.kept.release()
    assert not world.kept.holding
    assert _count(world, "POST auth/2fa/disable 204") == 1
    assert _plain_login(world) == 200


def test_nothing_is_sent_to_hand_on_what_no_check_took(world) -> None:
    world.kept.take(world.alice)
    world.kept.hand_on()
    before = len(world.sent)
    world.kept.hand_on()  # a check not verified before it asked for the account
    assert len(world.sent) == before
    world.kept.release()


def test_a_check_that_turned_2fa_off_itself_leaves_nothing_to_hand_on(world) -> None:
    held = world.kept.take(world.alice)
    disable_two_factor(world.registry, world.alice, held.secret)  # as BSK-TFA-006's flow does, registry and all
    before = len(world.sent)
    world.kept.hand_on()
    assert not world.kept.holding and len(world.sent) == before
    fresh = world.kept.take(world.alice)  # the next check: turned on anew
    assert fresh is not held and _count(world, "POST auth/2fa/setup") == 2 and _plain_login(world) == 401
    world.kept.release()
    assert _plain_login(world) == 200


def test_2fa_found_off_after_a_check_is_that_checks_cleanup_failure(world) -> None:
    """A target that turned 2FA off during the check, without the harness
    asking: the handover says so, for the check that just ran, instead of
    handing the next check an account without 2FA."""
    held = world.kept.take(world.alice)
    session = world.registry.login(world.alice)
    assert session.post("/auth/2fa/disable", json={"code": held.fresh_code()}).status_code == 204
    session.logout()
    with pytest.raises(CleanupFailed, match="found off after it"):
        world.kept.hand_on()
    assert not world.kept.holding and world.registry.secret(world.alice) is None
    assert _plain_login(world) == 200
    fresh = world.kept.take(world.alice)
    assert fresh is not held and _plain_login(world) == 401
    world.kept.release()


class _Item:
    def __init__(self, name: str, fixtures: tuple[str, ...] = (), last: bool = False) -> None:
        self.name, self.fixturenames, self._last = name, list(fixtures), last

    def get_closest_marker(self, name: str):
        return object() if name == "runs_last" and self._last else None


def test_the_checks_that_ask_for_two_factor_are_put_in_a_row_at_the_first_ones_place() -> None:
    items = [_Item("a"), _Item("pair", ("both_with_two_factor", "two_factor")), _Item("b"),
             _Item("tfa1", ("two_factor",)), _Item("c", ("spare_account",)), _Item("tfa2", ("two_factor",)),
             _Item("leak", ("two_factor",), last=True)]
    assert [i.name for i in two_factor_in_a_row(items)] == ["a", "pair", "tfa1", "tfa2", "b", "c", "leak"]
    alone = [_Item("a"), _Item("tfa1", ("two_factor",)), _Item("b")]
    assert [i.name for i in two_factor_in_a_row(alone)] == ["a", "tfa1", "b"]


def test_against_a_remote_target_the_row_hands_on_to_the_runs_last_checks_that_ask_for_two_factor() -> None:
    """`last_first` (a remote target): the row ends the checks that do not run
    last, and the runs_last checks that ask for two_factor come right after
    it, ahead of the other runs_last ones, each group in its own order."""
    items = [_Item("a"), _Item("pair", ("both_with_two_factor", "two_factor")), _Item("b"),
             _Item("keys", last=True), _Item("tfa1", ("two_factor",)), _Item("c"),
             _Item("leak1", ("two_factor",), last=True), _Item("leak2", last=True)]
    assert [i.name for i in two_factor_in_a_row(items, last_first=True)] == [
        "a", "b", "c", "pair", "tfa1", "leak1", "keys", "leak2"]
    assert [i.name for i in two_factor_in_a_row(items)] == [
        "a", "pair", "tfa1", "b", "keys", "c", "leak1", "leak2"]
