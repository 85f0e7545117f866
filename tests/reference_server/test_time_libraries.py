"""SystemClock reads time.time() at call time, so freezegun and time-machine drive the server.

This is what a vendor's own test suite can rely on without our FrozenClock:
JWT expiry and TOTP steps both follow the patched clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import freezegun
import pyotp
import pytest
from freezegun import freeze_time

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.clock import SystemClock

from .conftest import ALICE, TestClient

START = "2027-01-15T08:00:00Z"


@contextmanager
def frozen_by_freezegun() -> Iterator[Callable[[float], object]]:
    # The server answers from a worker thread, and freezegun's default ignore
    # list contains "threading": with it, those calls would see real time.
    freezegun.configure(default_ignore_list=[])
    try:
        with freeze_time(START, real_asyncio=True) as frozen:
            yield lambda seconds: frozen.tick(seconds)
    finally:
        freezegun.config.reset_config()


@contextmanager
def frozen_by_time_machine() -> Iterator[Callable[[float], object]]:
    # Not a declared dependency (freezegun is): run when it is installed.
    time_machine = pytest.importorskip("time_machine")
    with time_machine.travel(START, tick=False) as traveller:
        yield lambda seconds: traveller.shift(seconds)


def exercise_expiry_and_totp(advance: Callable[[float], object]) -> None:
    import time

    with TestClient(create_app(Settings(), clock=SystemClock())) as client:
        pair = client.post("/auth/login", json=ALICE).json()
        bearer = {"Authorization": f"Bearer {pair['accessToken']}"}

        # JWT expiry follows the patched clock: valid at 899 s, refused at 900 s.
        advance(899)
        assert client.get("/me", headers=bearer).status_code == 200
        advance(1)
        assert client.get("/me", headers=bearer).status_code == 401

        # So do TOTP steps.
        bearer = {"Authorization": f"Bearer {client.post('/auth/login', json=ALICE).json()['accessToken']}"}
        totp = pyotp.TOTP(client.post("/auth/2fa/setup", headers=bearer).json()["secret"])
        code = totp.generate_otp(int(time.time() // 30))
        assert client.post("/auth/2fa/enable", headers=bearer, json={"code": code}).status_code == 204
        advance(30)
        stale = totp.generate_otp(int(time.time() // 30) - 3)
        fresh = totp.generate_otp(int(time.time() // 30))
        response: Any = client.post("/auth/login", json={**ALICE, "twoFactorCode": stale})
        assert response.json()["error"] == "invalid_two_factor_code"
        assert client.post("/auth/login", json={**ALICE, "twoFactorCode": fresh}).status_code == 200


def test_freezegun_drives_the_system_clock() -> None:
    with frozen_by_freezegun() as advance:
        exercise_expiry_and_totp(advance)


def test_time_machine_drives_the_system_clock() -> None:
    with frozen_by_time_machine() as advance:
        exercise_expiry_and_totp(advance)
