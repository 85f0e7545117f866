"""Contract §1, §3, §4, §5 — Times judged against what the harness observed.

   "access token: JWT, lifetime 15 minutes (900 s)"
   "Claims: sub, org, iat, exp = iat + 900, jti, typ or tokenType = access."
   "POST /api-keys {name, scopes, rateLimit?, expiresAt?} → 201 {…, expiresAt, organizationId, createdAt}"
   "Every key-authenticated response carries … X-RateLimit-Reset (seconds until the window frees a slot)."
   "the next gets 429 {"error":"rate_limited"} with Retry-After (seconds)."

A target whose claims are self-consistent but wrong about when things
happened (iat and exp both 300 s early, createdAt an hour off) passes every
check that reads only what it says about itself. Here every time is judged
against a window the harness saw (suites/_observed.py: the target's clock read
before and after the exchange, or its Date header, or the harness's own clock
with a wide allowance) and against the values the harness itself sent.
A ticking test clock (§8) gets `clock.tolerance` on every reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from bsk_conformance.harness.api import (
    ACCESS_TOKEN_TTL,
    advance_to,
    describe,
    expect,
    expect_error,
    expect_json_object,
    expect_status,
    fail,
    format_rfc3339,
    header,
    parse_rfc3339,
    requirement,
)

from ._cases import cases
from ._jwt import claims, numeric_claim
from ._observed import Window, observed

WINDOW = 60  # seconds, the rate-limit window (§5)
INTO_WINDOW = 20  # how far into an exhausted window the 429 is asked for
READ = ["projects:read"]
KEY_LIFETIME = 30 * 86_400  # the expiresAt sent: 30 days on


@dataclass(frozen=True)
class Login:
    body: dict
    window: Window


@pytest.fixture
def observed_login(target, two_factor_registry, alice, clock) -> Iterator[Login]:
    """alice logged in, with the window of the target's time the login ran in;
    logged out again afterwards (best effort: the check may have moved the
    clock past the access token's life)."""
    code = two_factor_registry.next_code(alice) if two_factor_registry.secret(alice) else None
    response, window = observed(target, clock, lambda: target.login(alice, code))
    expect_status(response, 200, context=f"login as {alice.email}")
    body = expect_json_object(response, "login answer")
    if not isinstance(body.get("accessToken"), str) or not isinstance(body.get("refreshToken"), str):
        fail("accessToken and refreshToken strings", describe(response), "login answer")
    yield Login(body, window)
    try:
        target.post("/auth/logout", bearer=body["accessToken"], json={"refreshToken": body["refreshToken"]})
    except Exception:
        pass


def _moment(value: object, field: str, context: str) -> float:
    try:
        return parse_rfc3339(value)
    except (TypeError, ValueError):
        fail(f"{field} as an RFC 3339 date-time", repr(value), context)


def _expect_within(moment: float, window: Window, what: str, context: str) -> None:
    expect(window.holds(moment), f"{what} {window.describe()}", window.off_by(moment), context)


# -- §4: the access token's time claims ------------------------------------


@requirement("BSK-OBS-001")
def test_access_token_iat_is_the_observed_moment_of_the_login(observed_login):
    payload = claims(observed_login.body["accessToken"])
    iat = numeric_claim(payload, "iat")
    _expect_within(iat, observed_login.window, "iat, the moment of issue,", "the access token of a login")
    exp = numeric_claim(payload, "exp")
    shifted = Window(observed_login.window.before + ACCESS_TOKEN_TTL, observed_login.window.after + ACCESS_TOKEN_TTL,
                     observed_login.window.slack, observed_login.window.source)
    _expect_within(exp, shifted, f"exp, {ACCESS_TOKEN_TTL} s after the login,", "the access token of a login")


@requirement("BSK-OBS-002")
def test_access_token_lives_900_seconds_from_the_observed_login(observed_login, target, clock):
    token, window = observed_login.body["accessToken"], observed_login.window
    last_alive = window.before + ACCESS_TOKEN_TTL - 1 - clock.tolerance
    advance_to(clock, last_alive)
    expect_status(target.get("/me", bearer=token), 200,
                  context=f"GET /me {ACCESS_TOKEN_TTL - 1} s after the login that issued the token "
                          "(counted from the target's clock read before the login)")
    advance_to(clock, window.after + ACCESS_TOKEN_TTL + clock.tolerance)
    expect_error(target.get("/me", bearer=token), 401,
                 context=f"GET /me {ACCESS_TOKEN_TTL} s after the login that issued the token "
                         "(counted from the target's clock read after the login)")


# -- §3: createdAt of what the harness created -----------------------------


@requirement("BSK-OBS-003")
def test_key_created_at_is_the_observed_moment_of_its_creation(user, resources, target, clock):
    body = {"name": resources.unique_name("key"), "scopes": READ}
    response, window = observed(target, clock, lambda: resources.create_key_response(user, **body))
    expect_status(response, 201, context="POST /api-keys")
    created = expect_json_object(response, "POST /api-keys")
    target.secret(created.get("key"), "api-key")
    context = "the createdAt of a key just created"
    _expect_within(_moment(created.get("createdAt"), "createdAt", context), window, "createdAt", context)
    fetched = expect_json_object(user.get(f"/api-keys/{created.get('id')}"), "GET /api-keys/{id}")
    context = "the createdAt of GET /api-keys/{id} of a key just created"
    _expect_within(_moment(fetched.get("createdAt"), "createdAt", context), window, "createdAt", context)


@requirement("BSK-OBS-004")
def test_project_created_at_is_the_observed_moment_of_its_creation(user, resources, target, clock):
    body = {"name": resources.unique_name("project")}
    response, window = observed(target, clock, lambda: user.post("/projects", json=body))
    resources.adopt(user, response, project=True)
    expect_status(response, 201, context="POST /projects")
    created = expect_json_object(response, "POST /projects")
    context = "the createdAt of a project just created"
    _expect_within(_moment(created.get("createdAt"), "createdAt", context), window, "createdAt", context)
    fetched = expect_json_object(user.get(f"/projects/{created.get('id')}"), "GET /projects/{id}")
    context = "the createdAt of GET /projects/{id} of a project just created"
    _expect_within(_moment(fetched.get("createdAt"), "createdAt", context), window, "createdAt", context)


# -- §3: expiresAt is what was sent -----------------------------------------


def _in_offset(minutes: int) -> Callable[[int], str]:
    """An instant written with a UTC offset of `minutes` (`2027-01-15T10:00:00+02:00`)."""
    return lambda moment: datetime.fromtimestamp(moment, timezone(timedelta(minutes=minutes))).isoformat()


@dataclass(frozen=True)
class ExpiryForm:
    write: Callable[[int], str]  # the instant, as sent
    must_accept: bool  # UTC written "Z" is the contract's own form (§2); any other may be refused with 400


EXPIRY_FORMS = {
    "utc-z": ExpiryForm(format_rfc3339, True),
    "utc-plus-zero": ExpiryForm(_in_offset(0), False),
    "plus-two-hours": ExpiryForm(_in_offset(120), False),
    "minus-five-thirty": ExpiryForm(_in_offset(-330), False),
}


@requirement("BSK-OBS-005")
@cases("form", EXPIRY_FORMS)
def test_expires_at_is_the_instant_that_was_sent(form: ExpiryForm, user, resources, target, clock):
    expires = int(clock.now()) + KEY_LIFETIME
    sent = form.write(expires)
    body = {"name": resources.unique_name("key"), "scopes": READ, "expiresAt": sent}
    response = resources.create_key_response(user, **body)
    context = f"POST /api-keys with expiresAt {sent}"
    if response.status_code == 400 and not form.must_accept:
        expect_error(response, 400, "invalid_request", context)  # refused outright: nothing stored to misstate
        return
    expect_status(response, 201, context=context)
    created = expect_json_object(response, context)
    target.secret(created.get("key"), "api-key")
    fetched = expect_json_object(user.get(f"/api-keys/{created.get('id')}"), "GET /api-keys/{id}")
    for where, answer in (("the creation answer", created), ("GET /api-keys/{id}", fetched)):
        stated = _moment(answer.get("expiresAt"), "expiresAt", f"{where} of a key created with expiresAt {sent}")
        expect(stated == expires, f"expiresAt the instant sent, {format_rfc3339(expires)}",
               f"{answer.get('expiresAt')!r}, {stated - expires:+.0f} s off",
               f"{where} of a key created with expiresAt {sent}")


# -- §5: the rate-limit window's clock ----------------------------------------


@dataclass(frozen=True)
class Exhausted:
    key: str
    first: Window  # when the window's first admitted request was answered
    refused: httpx.Response
    asked: Window  # when the 429 was answered

    def seconds_until_a_slot(self) -> tuple[float, float]:
        """The fewest and most seconds, from the 429, until the first admitted
        request leaves its window, by what the harness observed."""
        return self.first.earliest + WINDOW - self.asked.latest, self.first.latest + WINDOW - self.asked.earliest


def _exhausted(target, resources, user, clock) -> Exhausted:
    """A key of rateLimit 2 whose budget is used, asked again INTO_WINDOW s later: a 429."""
    limit = 2
    key = resources.create_key(user, scopes=READ, rate_limit=limit)["key"]
    first, window = observed(target, clock, lambda: target.get("/projects", api_key=key))
    expect_status(first, 200, context=f"GET /projects, request 1 of a key with rateLimit {limit}")
    expect_status(target.get("/projects", api_key=key), 200,
                  context=f"GET /projects, request 2 of a key with rateLimit {limit}")
    clock.advance(INTO_WINDOW)
    refused, asked = observed(target, clock, lambda: target.get("/projects", api_key=key))
    expect_error(refused, 429, "rate_limited",
                 f"GET /projects {INTO_WINDOW} s after a key with rateLimit {limit} used its budget")
    return Exhausted(key, window, refused, asked)


def _seconds(response: httpx.Response, name: str, context: str) -> float:
    value = header(response, name)
    expect(value is not None, f"a {name} header", "none", context)
    try:
        return float(value)
    except ValueError:
        fail(f"{name} in seconds", repr(value), context)


def _expect_counted_from_the_window(value: float, exhausted: Exhausted, name: str, context: str) -> None:
    fewest, most = exhausted.seconds_until_a_slot()
    # a whole-second header may round either way
    expect(fewest - 1 <= value <= most + 1,
           f"{name} from {fewest:.0f} to {most:.0f} s (the first admitted request leaves the {WINDOW} s window "
           f"then, by the target's clock as observed)",
           f"{value:g} s", context)


@requirement("BSK-OBS-006")
def test_rate_limit_reset_counts_from_the_observed_first_request(user, resources, target, clock):
    exhausted = _exhausted(target, resources, user, clock)
    context = f"the 429 {INTO_WINDOW} s after a key used its budget"
    value = _seconds(exhausted.refused, "X-RateLimit-Reset", context)
    _expect_counted_from_the_window(value, exhausted, "X-RateLimit-Reset", context)


@requirement("BSK-OBS-007")
def test_retry_after_counts_from_the_observed_first_request(user, resources, target, clock):
    exhausted = _exhausted(target, resources, user, clock)
    context = f"the 429 {INTO_WINDOW} s after a key used its budget"
    value = _seconds(exhausted.refused, "Retry-After", context)
    _expect_counted_from_the_window(value, exhausted, "Retry-After", context)
    clock.advance(value + clock.tolerance + 1)
    expect_status(target.get("/projects", api_key=exhausted.key), 200,
                  context=f"GET /projects once the Retry-After of {value:g} s has passed")
