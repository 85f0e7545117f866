"""Refresh tokens (contract §4): rotation, absolute family lifetime, reuse detection, logout."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import T0, Api


def refresh(api: Api, token: str) -> Any:
    return api.http.post("/auth/refresh", json={"refreshToken": token})


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="bsk"')


def test_refresh_returns_a_new_pair_uncached(api: Api) -> None:
    first = api.tokens()
    response = refresh(api, first["refreshToken"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = response.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert second["tokenType"] == "Bearer" and second["expiresIn"] == 900
    assert api.http.get("/me", headers={"Authorization": f"Bearer {second['accessToken']}"}).status_code == 200


def test_a_rotated_token_is_refused(api: Api) -> None:
    first = api.tokens()["refreshToken"]
    assert refresh(api, first).status_code == 200
    assert_refused(refresh(api, first))


def test_reusing_a_rotated_token_revokes_the_whole_family(api: Api) -> None:
    first = api.tokens()["refreshToken"]
    second = refresh(api, first).json()["refreshToken"]
    assert_refused(refresh(api, first))  # the replay...
    assert_refused(refresh(api, second))  # ...takes the legitimate successor with it


def test_other_families_survive_a_revocation(api: Api) -> None:
    mine, other = api.tokens()["refreshToken"], api.tokens()["refreshToken"]
    refresh(api, mine)
    refresh(api, mine)
    assert refresh(api, other).status_code == 200


class TestAbsoluteLifetime:
    def test_valid_at_604799_seconds(self, api: Api) -> None:
        token = api.tokens()["refreshToken"]
        api.clock.advance(604_799)
        response = refresh(api, token)
        assert response.status_code == 200
        assert response.json()["refreshExpiresIn"] == 1

    def test_refused_at_604800_seconds(self, api: Api) -> None:
        token = api.tokens()["refreshToken"]
        api.clock.advance(604_800)
        assert_refused(refresh(api, token))

    def test_rotation_does_not_extend_the_family(self, api: Api) -> None:
        token = api.tokens()["refreshToken"]
        api.clock.advance(500_000)
        rotated = refresh(api, token).json()
        assert rotated["refreshExpiresIn"] == 104_800
        api.clock.advance(104_799)
        token = refresh(api, rotated["refreshToken"]).json()["refreshToken"]
        api.clock.advance(1)  # 604 800 s after the login
        assert_refused(refresh(api, token))


@pytest.mark.parametrize("token", ["", "rt_", "rt_" + "A" * 43, "not a token", "x" * 1024])
def test_unknown_or_malformed_refresh_tokens(api: Api, token: str) -> None:
    assert_refused(refresh(api, token))


def test_an_access_token_is_not_a_refresh_token(api: Api) -> None:
    assert_refused(refresh(api, api.tokens()["accessToken"]))


@pytest.mark.parametrize("body", [{}, {"refreshToken": None}, {"refreshToken": 12}, {"refresh_token": "rt_x"}])
def test_a_malformed_refresh_body_is_400(api: Api, body: dict[str, Any]) -> None:
    response = api.http.post("/auth/refresh", json=body)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


class TestLogout:
    def test_logout_revokes_the_refresh_token(self, api: Api) -> None:
        pair = api.tokens()
        headers = {"Authorization": f"Bearer {pair['accessToken']}"}
        response = api.http.post("/auth/logout", headers=headers, json={"refreshToken": pair["refreshToken"]})
        assert response.status_code == 204 and response.content == b""
        assert_refused(refresh(api, pair["refreshToken"]))

    def test_logout_needs_a_bearer_token(self, api: Api) -> None:
        pair = api.tokens()
        response = api.http.post("/auth/logout", json={"refreshToken": pair["refreshToken"]})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="bsk"'
        assert refresh(api, pair["refreshToken"]).status_code == 200

    def test_logout_cannot_revoke_another_users_session(self, api: Api) -> None:
        from .conftest import BOB

        bobs = api.tokens(BOB)["refreshToken"]
        response = api.http.post("/auth/logout", headers=api.bearer(), json={"refreshToken": bobs})
        assert response.status_code == 204  # says nothing about other people's tokens...
        assert refresh(api, bobs).status_code == 200  # ...and does nothing to them

    def test_an_api_key_cannot_log_out(self, api: Api) -> None:
        key = api.create_key()["key"]
        pair = api.tokens()
        body = {"refreshToken": pair["refreshToken"]}
        response = api.http.post("/auth/logout", headers={"X-API-Key": key}, json=body)
        assert response.status_code == 403


def test_parallel_refreshes_with_one_token_succeed_at_most_once() -> None:
    """Real threads over real sockets: the conditional UPDATE lets one refresh through."""
    app = create_app(Settings(), clock=FrozenClock(T0))
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as client:
        login = {"email": "alice@acme.test", "password": "correct horse battery staple"}
        token = client.post("/auth/login", json=login).json()["refreshToken"]
        statuses: list[int] = []
        barrier = threading.Barrier(8)

        def attempt() -> None:
            barrier.wait()
            statuses.append(client.post("/auth/refresh", json={"refreshToken": token}).status_code)

        threads = [threading.Thread(target=attempt) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses.count(200) <= 1
    assert sorted(set(statuses) - {200}) == [401]


def test_parallel_rotations_in_threads_succeed_at_most_once(api: Api) -> None:
    """The same race one level down: threads calling the token service directly."""
    token = api.tokens()["refreshToken"]
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        barrier.wait()
        try:
            api.parts.tokens.refresh(token)
            outcomes.append("ok")
        except Exception as exc:  # ApiError
            outcomes.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") <= 1
    assert set(outcomes) - {"ok"} == {"invalid_token"}
