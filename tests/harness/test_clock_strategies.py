"""How the harness moves a target's time: a remote target's clock control is
trusted only as far as its clock is seen to move, and an in-process server
that keeps ticking gets the tolerance of a ticking clock."""

from __future__ import annotations

import time
import warnings

import pytest

from bsk_conformance.harness.clock import (
    TICKING_TOLERANCE,
    ControlClockStrategy,
    FrozenClockStrategy,
    RealClockStrategy,
)
from bsk_conformance.harness.verdicts import NotVerified
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock, OffsetClock
from tests.faulty.variants.clock_control import clock_control_advance_ignored

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

T0 = 1_800_000_000.0


def test_an_advance_the_target_carries_out_moves_its_clock():
    clock = FrozenClock(T0)
    strategy = ControlClockStrategy(TestClient(create_app(clock=clock)))
    strategy.advance(900)
    assert clock.now() == T0 + 900 and strategy.now() == T0 + 900


def test_an_advance_the_target_answers_but_ignores_ends_the_check_not_verified():
    # a check going on would judge the rule at the wrong time
    clock = FrozenClock(T0)
    app = clock_control_advance_ignored(Settings(), clock)
    strategy = ControlClockStrategy(TestClient(app))
    with pytest.raises(NotVerified, match="moved"):
        strategy.advance(900)
    assert clock.now() == T0


def test_an_in_process_frozen_clock_has_exact_boundaries_and_a_ticking_one_a_tolerance():
    assert FrozenClockStrategy(FrozenClock(T0)).tolerance == 0.0
    assert FrozenClockStrategy(OffsetClock()).tolerance == TICKING_TOLERANCE


def test_a_real_time_budget_counts_from_the_runs_start_in_every_process():
    """Under -n each worker gets the controller's start: a worker that has
    waited nothing itself still cannot wait past the run's deadline, so waits
    on several workers overlap within one budget instead of adding up."""
    slept: list[float] = []
    fresh = RealClockStrategy(1200, sleep=slept.append, started=time.time())
    assert fresh.can_advance(902)
    late = RealClockStrategy(1200, sleep=slept.append, started=time.time() - 1000)
    assert late.can_advance(150) and not late.can_advance(300)
    with pytest.raises(NotVerified, match=r"counted from the run's start.*has 200 s left"):
        late.advance(300)
    assert slept == []


def test_within_one_process_real_waits_still_add_up():
    slept: list[float] = []
    clock = RealClockStrategy(100, sleep=slept.append)
    clock.advance(60)
    assert not clock.can_advance(60)  # a fake sleep spends the budget as a real one does
    with pytest.raises(NotVerified):
        clock.advance(60)
    assert slept == [60]
