"""The live environment (contract §4, §6): bsk_live_ keys, no clock control."""

from __future__ import annotations

import dataclasses

import pytest

from bsk_conformance.reference_server import Parts, Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock, SystemClock

from .conftest import T0, Api, TestClient


@pytest.fixture(scope="module")
def live() -> Api:
    """One live server for the module: live hashes passwords at full Argon2id cost."""
    clock = FrozenClock(T0)
    return Api(create_app(Settings(environment="live"), clock=clock), clock)


def test_live_issues_bsk_live_keys(live: Api) -> None:
    created = live.create_key()
    assert created["key"].startswith("bsk_live_") and created["prefix"].startswith("bsk_live_")
    assert live.http.get("/me", headers={"X-API-Key": created["key"]}).status_code == 200


def test_live_refuses_test_keys(live: Api) -> None:
    key = live.create_key()["key"]
    response = live.http.get("/me", headers={"X-API-Key": key.replace("bsk_live_", "bsk_test_")})
    assert response.status_code == 401 and response.json()["error"] == "invalid_api_key"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_live_has_no_clock_control(live: Api, method: str) -> None:
    response = live.http.request(method, "/_test/clock", json={"advanceSeconds": 900})
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert live.clock.now() == T0


def test_a_test_deployment_on_the_system_clock_has_no_clock_control() -> None:
    with TestClient(create_app(Settings(), clock=SystemClock())) as client:
        assert client.get("/_test/clock").status_code == 404


def test_clock_routes_can_be_forced_on_for_a_variant(clock: FrozenClock) -> None:
    """How a faulty variant mounts clock control in live: one Settings field."""
    settings = dataclasses.replace(Settings(environment="live"), clock_routes=True)
    with TestClient(create_app(parts=Parts.build(settings, clock))) as client:
        assert client.get("/_test/clock").status_code == 200


def test_settings_refuse_unknown_environments() -> None:
    with pytest.raises(ValueError):
        Settings(environment="prod")  # type: ignore[arg-type]
