"""Contract §5 — Rate limits (with the §8 reading of X-RateLimit-Remaining).

   "Each key admits at most rateLimit requests in any 60-second window; the
    next gets 429 {"error":"rate_limited"} with Retry-After (seconds)."
   "Every key-authenticated response carries X-RateLimit-Limit,
    X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the window frees a slot)."
   "Rejected (429) requests do not consume the budget. Limits are per key, not
    per organization. Concurrent requests never push a key over its limit."
   "Login SHOULD be throttled per account after repeated failures (429 with Retry-After)."

Every check makes its own keys with a small `rateLimit`, so each starts with a
whole budget whatever else the run sent. Keys are used on `GET /projects`
(scope `projects:read`). Time moves only through the `clock` fixture; a
ticking test clock gets `clock.tolerance` around every boundary (§8).
Header names are matched case-insensitively (§8).
"""

from __future__ import annotations

import re
import threading

import httpx

from bsk_conformance.harness.api import (
    Account,
    advance_to,
    describe,
    expect,
    expect_error,
    expect_status,
    not_verified,
    requirement,
)

from ._lockout import expect_throttled

WINDOW = 60  # seconds (contract §5)
READ = ("projects:read",)
# Failed logins tried before concluding that login is not throttled (§8: any threshold).
MAX_FAILED_LOGINS = 20
_INTEGER = re.compile(r"^[0-9]+$")
_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _new_key(resources, user, limit: int, scopes=READ) -> str:
    return resources.create_key(user, scopes=scopes, rate_limit=limit)["key"]


def _use(target, key: str) -> httpx.Response:
    return target.get("/projects", api_key=key)


def _admit(target, key: str, count: int, limit: int, what: str = "") -> list[httpx.Response]:
    """Send `count` requests that the key's budget must admit."""
    answers = []
    for n in range(1, count + 1):
        response = _use(target, key)
        expect_status(response, 200, context=f"GET /projects, request {n} of a key with rateLimit {limit}{what}")
        answers.append(response)
    return answers


def _needs_clock(clock, seconds: float) -> None:
    if not clock.can_advance(seconds):
        not_verified(f"needs the target's time moved by {seconds:g} s (a rate-limit window is {WINDOW} s)")


def _integer_header(response: httpx.Response, name: str, context: str) -> int:
    value = response.headers.get(name)
    expect(value is not None, f"a {name} header", f"none ({describe(response)})", context)
    expect(bool(_INTEGER.fullmatch(value.strip())), f"{name} as a whole number", repr(value), context)
    return int(value)


# -- §5: the budget -------------------------------------------------------


@requirement("BSK-RL-001")
def test_a_key_admits_exactly_its_rate_limit_then_429(user, resources, target):
    limit = 3
    key = _new_key(resources, user, limit)
    _admit(target, key, limit, limit)
    refused = _use(target, key)
    expect_error(refused, 429, "rate_limited", f"GET /projects, request {limit + 1} of a key with rateLimit {limit}")


@requirement("BSK-RL-002")
def test_a_429_carries_retry_after_in_whole_seconds(user, resources, target, clock):
    limit = 2
    key = _new_key(resources, user, limit)
    _admit(target, key, limit, limit)
    refused = _use(target, key)
    context = f"the 429 to request {limit + 1} of a key with rateLimit {limit}"
    expect_status(refused, 429, context=context)
    value = refused.headers.get("retry-after")
    expect(value is not None, "a Retry-After header", "none", context)
    expect(
        bool(_INTEGER.fullmatch(value.strip())),
        "Retry-After as delay-seconds, a whole number (RFC 9110 §10.2.3)",
        repr(value),
        context,
    )
    seconds = int(value)
    longest = WINDOW + clock.tolerance
    expect(
        1 <= seconds <= longest,
        f"Retry-After from 1 to {longest:g} s (a slot frees within the {WINDOW} s window)",
        f"{seconds} s",
        context,
    )


@requirement("BSK-RL-003")
def test_every_key_authenticated_response_carries_the_rate_limit_headers(user, resources, target, clock):
    limit = 3
    key = _new_key(resources, user, limit)
    answers = [
        ("GET /projects", _use(target, key)),
        ("GET /me", target.get("/me", api_key=key)),
        ("GET /organization without organization:read", target.get("/organization", api_key=key)),
    ]
    for _ in range(limit + 1):  # on to the 429, which is key-authenticated too
        response = _use(target, key)
        answers.append(("GET /projects", response))
        if response.status_code == 429:
            break
    for what, response in answers:
        context = f"{what} with a key of rateLimit {limit}: HTTP {response.status_code}"
        missing = [name for name in LIMIT_HEADERS if name not in response.headers]
        expect(not missing, ", ".join(LIMIT_HEADERS), f"no {', '.join(missing)}", context)
        stated = _integer_header(response, "X-RateLimit-Limit", context)
        expect(stated == limit, f"X-RateLimit-Limit: {limit} (the key's rateLimit)", stated, context)
        remaining = _integer_header(response, "X-RateLimit-Remaining", context)
        expect(remaining <= limit, f"X-RateLimit-Remaining of at most {limit}", remaining, context)
        reset = response.headers["X-RateLimit-Reset"].strip()
        longest = WINDOW + clock.tolerance
        expect(
            bool(_SECONDS.fullmatch(reset)) and float(reset) <= longest,
            f"X-RateLimit-Reset in seconds, at most {longest:g} (the window is {WINDOW} s)",
            repr(reset),
            context,
        )


@requirement("BSK-RL-004")
def test_remaining_falls_by_one_per_admitted_request_and_is_0_on_a_429(user, resources, target):
    limit = 4
    key = _new_key(resources, user, limit)
    for n, response in enumerate(_admit(target, key, limit, limit), start=1):
        context = f"GET /projects, request {n} of a new key with rateLimit {limit}"
        remaining = _integer_header(response, "X-RateLimit-Remaining", context)
        expect(remaining == limit - n, f"X-RateLimit-Remaining: {limit - n} ({n} of {limit} used)", remaining, context)
    refused = _use(target, key)
    context = f"GET /projects, request {limit + 1} of a key with rateLimit {limit}"
    expect_status(refused, 429, context=context)
    remaining = _integer_header(refused, "X-RateLimit-Remaining", context)
    expect(remaining == 0, "X-RateLimit-Remaining: 0 on a 429", remaining, context)


@requirement("BSK-RL-005")
def test_refused_requests_do_not_consume_budget(user, resources, target, clock):
    """The refused requests are sent mid-window, so they would still be in the
    window when the admitted ones have left it: a limiter that counted them
    would refuse the key's next requests."""
    _needs_clock(clock, WINDOW + clock.tolerance + 1)
    limit, refusals = 3, 5
    key = _new_key(resources, user, limit)
    start = clock.now()
    _admit(target, key, limit, limit)
    advance_to(clock, start + WINDOW / 2)
    for n in range(1, refusals + 1):
        expect_error(
            _use(target, key),
            429,
            "rate_limited",
            f"GET /projects {WINDOW // 2} s into the window of a key that used its rateLimit of {limit} "
            f"(refusal {n} of {refusals})",
        )
    advance_to(clock, start + WINDOW + clock.tolerance + 1)
    _admit(
        target,
        key,
        limit,
        limit,
        f", once its admitted requests left the window ({refusals} requests were refused in between)",
    )


@requirement("BSK-RL-006")
def test_limits_are_per_key_not_per_organization(user, resources, target):
    limit = 2
    first = _new_key(resources, user, limit)
    second = _new_key(resources, user, limit)
    _admit(target, first, limit, limit)
    expect_error(_use(target, first), 429, "rate_limited", f"GET /projects, request {limit + 1} of the first key")
    _admit(target, second, limit, limit, ", a second key of the same organization while the first is exhausted")


@requirement("BSK-RL-007")
def test_a_concurrent_burst_never_exceeds_the_limit(user, resources, target):
    limit = 5
    burst = 3 * limit
    key = _new_key(resources, user, limit)
    statuses: list[int | None] = [None] * burst
    problems: list[BaseException] = []
    barrier = threading.Barrier(burst)

    def send(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            statuses[index] = _use(target, key).status_code
        except BaseException as exc:  # re-raised below, in the check's own thread
            problems.append(exc)

    threads = [threading.Thread(target=send, args=(i,), name=f"bsk-burst-{i}") for i in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if problems:
        raise problems[0]
    context = f"{burst} concurrent GET /projects with a key of rateLimit {limit}"
    admitted = sum(1 for status in statuses if status == 200)
    others = sorted({status for status in statuses if status not in (200, 429)}, key=str)
    expect(not others, "each answered 200 (admitted) or 429 (refused)", f"also HTTP {others}", context)
    expect(admitted <= limit, f"at most {limit} admitted", f"{admitted} admitted", context)


@requirement("BSK-RL-008")
def test_requests_are_admitted_again_once_the_window_moves_on(user, resources, target, clock):
    _needs_clock(clock, WINDOW + clock.tolerance + 1)
    limit = 2
    key = _new_key(resources, user, limit)
    start = clock.now()
    _admit(target, key, limit, limit)
    expect_error(
        _use(target, key), 429, "rate_limited", f"GET /projects, request {limit + 1} of a key with rateLimit {limit}"
    )
    advance_to(clock, start + WINDOW + clock.tolerance + 1)
    expect_status(
        _use(target, key), 200, context=f"GET /projects {WINDOW} s after the key used its rateLimit of {limit}"
    )


@requirement("BSK-RL-010")
def test_an_exhausted_key_is_still_refused_59_seconds_later(user, resources, target, clock):
    _needs_clock(clock, WINDOW - 1)
    limit = 2
    key = _new_key(resources, user, limit)
    start = clock.now()
    _admit(target, key, limit, limit)
    later = WINDOW - 1 - clock.tolerance
    advance_to(clock, start + later)
    expect_error(
        _use(target, key),
        429,
        "rate_limited",
        f"GET /projects {later:g} s after a key with rateLimit {limit} used it (still the same {WINDOW} s window)",
    )


# -- §5: the login throttle (SHOULD) --------------------------------------


@requirement("BSK-RL-009")
def test_login_is_throttled_after_repeated_failures(target, bob, lockouts):
    """Locks the second account on purpose, then waits the lock out on the
    target's clock and proves the account logs in again (the `lockouts` fixture)."""
    if not lockouts.can_release():
        not_verified("failing logins on purpose locks the account; restoring it needs the clock moved past Retry-After")
    lockouts.watch(bob)
    wrong = Account(bob.email, bob.password + "-wrong")
    attempts = (target.login(wrong) for _ in range(MAX_FAILED_LOGINS))
    expect_throttled(attempts, limit=MAX_FAILED_LOGINS, tried="failed logins", subject=bob.email)
