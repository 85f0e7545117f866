"""Per-key rate limits (contract §5): the sliding window, its headers, and concurrency."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import ALICE, ALL_SCOPES, T0, Api


def get(api: Api, key: str, path: str = "/projects") -> Any:
    return api.http.get(path, headers={"X-API-Key": key})


def limits(response: Any) -> tuple[int, int, int]:
    h = response.headers
    return int(h["X-RateLimit-Limit"]), int(h["X-RateLimit-Remaining"]), int(h["X-RateLimit-Reset"])


def test_headers_count_down_then_429(api: Api) -> None:
    key = api.create_key(rateLimit=3)["key"]
    assert [limits(get(api, key))[:2] for _ in range(3)] == [(3, 2), (3, 1), (3, 0)]
    refused = get(api, key)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited" and refused.json()["message"]
    assert refused.headers["Retry-After"] == "60"
    assert limits(refused) == (3, 0, 60)


def test_retry_after_counts_down_with_the_clock(api: Api) -> None:
    key = api.create_key(rateLimit=1)["key"]
    get(api, key)
    api.clock.advance(45.5)
    refused = get(api, key)
    assert refused.headers["Retry-After"] == "15" and limits(refused)[2] == 15


def test_the_window_slides(api: Api) -> None:
    key = api.create_key(rateLimit=2)["key"]
    get(api, key)  # t = 0
    api.clock.advance(30)
    get(api, key)  # t = 30
    assert get(api, key).status_code == 429
    api.clock.advance(29.9)  # t = 59.9: the first request still counts
    assert get(api, key).status_code == 429
    api.clock.advance(0.1)  # t = 60: it has left the window, the second has not
    assert limits(get(api, key))[:2] == (2, 0)
    assert get(api, key).status_code == 429


def test_refused_requests_do_not_consume_budget(api: Api) -> None:
    key = api.create_key(rateLimit=2)["key"]
    get(api, key)
    get(api, key)
    for _ in range(20):
        assert get(api, key).status_code == 429
    api.clock.advance(60)
    assert [limits(get(api, key))[1] for _ in range(2)] == [1, 0]


def test_every_key_authenticated_answer_counts_and_carries_headers(api: Api) -> None:
    key = api.create_key(rateLimit=5, scopes=[])["key"]
    forbidden = get(api, key)  # no projects:read
    assert forbidden.status_code == 403 and limits(forbidden)[:2] == (5, 4)
    missing = api.http.get("/projects/nope", headers={"X-API-Key": api.create_key(rateLimit=5)["key"]})
    assert missing.status_code == 404 and limits(missing)[:2] == (5, 4)
    assert limits(get(api, key, "/me"))[:2] == (5, 3)


def test_limits_are_per_key_not_per_organization(api: Api) -> None:
    first, second = api.create_key(rateLimit=1)["key"], api.create_key(rateLimit=1)["key"]
    assert get(api, first).status_code == 200
    assert get(api, first).status_code == 429
    assert get(api, second).status_code == 200


def test_bearer_requests_are_not_limited_and_carry_no_key_headers(api: Api) -> None:
    headers = api.bearer()
    for _ in range(70):
        response = api.http.get("/projects", headers=headers)
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


def test_invalid_keys_get_no_rate_limit_headers(api: Api) -> None:
    response = get(api, "bsk_test_" + "x" * 40)
    assert response.status_code == 401 and "X-RateLimit-Limit" not in response.headers


def test_three_times_the_limit_in_parallel_admits_exactly_the_limit() -> None:
    """Real threads, real sockets: 3 x rateLimit requests at once, exactly rateLimit admitted."""
    limit = 20
    app = create_app(Settings(), clock=FrozenClock(T0))
    pool = httpx.Limits(max_connections=3 * limit)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, limits=pool) as client:
        token = client.post("/auth/login", json=ALICE).json()["accessToken"]
        key = client.post("/api-keys", headers={"Authorization": f"Bearer {token}"},
                          json={"name": "burst", "scopes": ALL_SCOPES, "rateLimit": limit}).json()["key"]
        statuses: list[int] = []
        remaining: list[int] = []
        barrier = threading.Barrier(3 * limit)

        def hit() -> None:
            barrier.wait()
            response = client.get("/projects", headers={"X-API-Key": key})  # httpx.Client is thread-safe
            statuses.append(response.status_code)
            if response.status_code == 200:
                remaining.append(int(response.headers["X-RateLimit-Remaining"]))

        threads = [threading.Thread(target=hit) for _ in range(3 * limit)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses.count(200) == limit
    assert statuses.count(429) == 2 * limit
    assert sorted(remaining) == list(range(limit))  # each admitted request saw its own slot


def test_the_limiter_is_atomic_under_threads(api: Api) -> None:
    """One level down: 3 x limit threads calling the limiter directly."""
    limit = 50
    admitted: list[bool] = []
    barrier = threading.Barrier(3 * limit)

    def admit() -> None:
        barrier.wait()
        admitted.append(api.parts.rate_limiter.admit("key_x", limit).allowed)

    threads = [threading.Thread(target=admit) for _ in range(3 * limit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == limit
