"""Fixtures for the reference server's own tests.

Tests talk to the app in-process through Starlette's TestClient, on a
FrozenClock they move explicitly: no test sleeps. Tests that need real
sockets (concurrency, the CLI, log output) use BackgroundServer.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2; httpx works and is what we ship with.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from bsk_conformance.reference_server import Parts, Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock

#: 2027-01-15T08:00:00Z: a whole second, and a multiple of the 30 s TOTP step.
T0 = 1_800_000_000.0

ALICE = {"email": "alice@acme.test", "password": "correct horse battery staple"}
BOB = {"email": "bob@globex.test", "password": "another long passphrase"}
ALL_SCOPES = ["organization:read", "projects:read", "projects:write"]


class Api:
    """A TestClient with the few conversations every test needs."""

    def __init__(self, app: Any, clock: FrozenClock) -> None:
        self.app = app
        self.clock = clock
        self.http = TestClient(app, raise_server_exceptions=False)

    @property
    def parts(self) -> Parts:
        return self.app.state.parts

    def login(self, account: dict[str, str] = ALICE, **extra: Any) -> Any:
        return self.http.post("/auth/login", json={**account, **extra})

    def tokens(self, account: dict[str, str] = ALICE, **extra: Any) -> dict[str, Any]:
        response = self.login(account, **extra)
        assert response.status_code == 200, response.text
        return response.json()

    def bearer(self, account: dict[str, str] = ALICE) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens(account)['accessToken']}"}

    def create_key(self, account: dict[str, str] = ALICE, **fields: Any) -> dict[str, Any]:
        body = {"name": "test key", "scopes": ALL_SCOPES, **fields}
        response = self.http.post("/api-keys", headers=self.bearer(account), json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def enable_2fa(self, account: dict[str, str] = ALICE) -> pyotp.TOTP:
        """Turn 2FA on for ``account``; the clock then moves one step on, so the enabling code is spent."""
        headers = self.bearer(account)
        secret = self.http.post("/auth/2fa/setup", headers=headers).json()["secret"]
        totp = pyotp.TOTP(secret)
        response = self.http.post("/auth/2fa/enable", headers=headers, json={"code": code_at(totp, self.clock.now())})
        assert response.status_code == 204, response.text
        self.clock.advance(30)
        return totp


def code_at(totp: pyotp.TOTP, t: float) -> str:
    """The TOTP code of the step containing ``t``."""
    return totp.generate_otp(int(t // 30))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test")


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Any:
    return create_app(settings, clock=clock)


@pytest.fixture
def api(app: Any, clock: FrozenClock) -> Iterator[Api]:
    client = Api(app, clock)
    with client.http:
        yield client
