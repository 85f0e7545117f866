"""Settings.base_path: the whole contract under a path prefix (contract §2:
the base URL may carry one), the JWKS and /_test/clock included."""

from __future__ import annotations

import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import ALICE, T0, TestClient


@pytest.fixture
def prefixed() -> TestClient:
    return TestClient(create_app(Settings(base_path="/v1"), clock=FrozenClock(T0)), raise_server_exceptions=False)


def test_every_route_moves_under_the_prefix(prefixed: TestClient) -> None:
    login = prefixed.post("/v1/auth/login", json=ALICE)
    assert login.status_code == 200
    me = prefixed.get("/v1/me", headers={"Authorization": f"Bearer {login.json()['accessToken']}"})
    assert me.status_code == 200 and me.json()["email"] == ALICE["email"]
    assert prefixed.get("/v1/.well-known/jwks.json").json()["keys"]
    assert prefixed.post("/v1/_test/clock", json={"advanceSeconds": 30}).status_code == 200


@pytest.mark.parametrize("path", ["/me", "/.well-known/jwks.json", "/_test/clock", "/openapi.json"])
def test_nothing_answers_outside_the_prefix(prefixed: TestClient, path: str) -> None:
    response = prefixed.get(path)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.parametrize("base_path", ["v1", "/v1/", "/"])
def test_settings_refuse_a_malformed_prefix(base_path: str) -> None:
    with pytest.raises(ValueError, match="base_path"):
        Settings(base_path=base_path)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("OPTIONS", "/v1/api-keys", "GET, POST"), ("PUT", "/v1/api-keys/x", "DELETE, GET"), ("PUT", "/v1/_test/clock", "GET, POST")],
)
def test_a_405_under_the_prefix_lists_every_method_of_the_path(
    prefixed: TestClient, method: str, path: str, allow: str
) -> None:
    response = prefixed.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allow
