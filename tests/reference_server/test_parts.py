"""The seams: a server that breaks exactly one rule is one overridden method away.

Each case below subclasses one part, overrides one method, swaps it in with
``dataclasses.replace`` and shows the rule it breaks (and that the honest
server keeps it). tests/faulty/ builds the full set of variants this way.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bsk_conformance.reference_server import Parts, Settings, create_app
from bsk_conformance.reference_server.accounts import Accounts
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.clock import FrozenClock
from bsk_conformance.reference_server.errors import ApiError, ErrorResponder
from bsk_conformance.reference_server.keys import ApiKeyRecord, ApiKeys, View
from bsk_conformance.reference_server.policy import Policy
from bsk_conformance.reference_server.principals import CredentialReader, Credentials
from bsk_conformance.reference_server.ratelimit import RateLimiter
from bsk_conformance.reference_server.tokens import TokenService
from bsk_conformance.reference_server.two_factor import TwoFactor

from .conftest import T0, Api, code_at


def build(replace: dict[str, Any] | None = None) -> Api:
    """An app whose parts are honest except ``replace``: {field: lambda parts: new_part}."""
    clock = FrozenClock(T0)
    parts = Parts.build(Settings(), clock)
    changes = {name: make(parts) for name, make in (replace or {}).items()}
    return Api(create_app(parts=dataclasses.replace(parts, **changes)), clock)


# -- one-method faults ---------------------------------------------------------


class HourLongTokens(TokenService):
    def access_lifetime(self) -> int:
        return 3600


class IgnoresExpiry(TokenService):
    def check_expiry(self, claims: dict[str, Any], now: float) -> None:
        pass


class NoRotation(TokenService):
    def rotate(self, record: Any, refresh_token: str, now: float) -> Any:
        pair = super().rotate(record, refresh_token, now)
        return dataclasses.replace(pair, refresh_token=refresh_token)


class ReplayableTotp(TwoFactor):
    def claim_step(self, user_id: str, step: int) -> bool:
        return True


class ShortSecrets(ApiKeys):
    def new_secret(self) -> str:
        return super().new_secret()[:16]


class PlaintextKeys(ApiKeys):
    def digest(self, key: str) -> str:
        return key


class LeakyGet(ApiKeys):
    """Remembers each key as it is created, to show it again later."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: dict[str, str] = {}

    def describe(self, record: ApiKeyRecord, view: View, key: str | None = None) -> dict[str, Any]:
        if key is not None:
            self.seen[record.id] = key
        body = super().describe(record, view, key)
        if view == "get":
            body["key"] = self.seen.get(record.id)
        return body


class OffByOne(RateLimiter):
    def has_room(self, used: int, limit: int) -> bool:
        return used <= limit


class NoRetryAfter(ErrorResponder):
    def retry_after(self, error: ApiError) -> str | None:
        return None


class NoChallenge(ErrorResponder):
    def www_authenticate(self, error: ApiError) -> str | None:
        return None


class Missing2faIs403(ErrorResponder):
    def status(self, error: ApiError) -> int:
        return 403 if error.code == "two_factor_required" else error.status


class ForeignProjectsForbidden(Policy):
    def ensure_project_visible(self, principal: Any, project: Any) -> None:
        if project.organization_id != principal.organization_id:
            raise ApiError(403, "forbidden", "Not yours.")


class QueryTokens(CredentialReader):
    def read(self, request: Any) -> Credentials:
        found = super().read(request)
        token = request.query_params.get("access_token")
        return Credentials(bearer=token, api_key=found.api_key) if token else found


class CrashesOnBadJson(BodyParser):
    def decode(self, raw: bytes) -> Any:
        return json.loads(raw)


class TellsUnknownEmails(Accounts):
    def unknown_account(self, email: str, password: str) -> Any:
        raise ApiError(404, "unknown_account", "No account has this email.")


def test_hour_long_tokens() -> None:
    faulty = build({"tokens": lambda p: HourLongTokens(p.store, p.clock)})
    token = faulty.tokens()["accessToken"]
    faulty.clock.advance(900)
    assert faulty.http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_ignoring_expiry() -> None:
    faulty = build({"tokens": lambda p: IgnoresExpiry(p.store, p.clock)})
    token = faulty.tokens()["accessToken"]
    faulty.clock.advance(10**6)
    assert faulty.http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_no_rotation() -> None:
    faulty = build({"tokens": lambda p: NoRotation(p.store, p.clock)})
    token = faulty.tokens()["refreshToken"]
    assert faulty.http.post("/auth/refresh", json={"refreshToken": token}).json()["refreshToken"] == token


def test_replayable_totp() -> None:
    faulty = build({"two_factor": lambda p: ReplayableTotp(p.store, p.clock)})
    totp = faulty.enable_2fa()
    code = code_at(totp, faulty.clock.now())
    assert faulty.login(twoFactorCode=code).status_code == 200
    assert faulty.login(twoFactorCode=code).status_code == 200


def test_short_secrets() -> None:
    faulty = build({"keys": lambda p: ShortSecrets(p.store, p.clock, "test")})
    key = faulty.create_key()["key"]
    assert len(key) == len("bsk_test_") + 16
    assert faulty.http.get("/me", headers={"X-API-Key": key}).status_code == 200


def test_plaintext_keys(tmp_path: Any) -> None:
    clock = FrozenClock(T0)
    parts = Parts.build(Settings(database=tmp_path / "db.sqlite"), clock)
    parts = dataclasses.replace(parts, keys=PlaintextKeys(parts.store, clock, "test"))
    key = Api(create_app(parts=parts), clock).create_key()["key"]
    parts.store.close()
    assert key.encode() in (tmp_path / "db.sqlite").read_bytes()


def test_leaky_get() -> None:
    faulty = build({"keys": lambda p: LeakyGet(p.store, p.clock, "test")})
    created = faulty.create_key()
    assert faulty.http.get(f"/api-keys/{created['id']}", headers=faulty.bearer()).json()["key"] == created["key"]


def test_off_by_one_rate_limit() -> None:
    faulty = build({"rate_limiter": lambda p: OffByOne(p.clock)})
    key = {"X-API-Key": faulty.create_key(rateLimit=2)["key"]}
    assert [faulty.http.get("/me", headers=key).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_no_retry_after() -> None:
    faulty = build({"errors": lambda p: NoRetryAfter()})
    key = {"X-API-Key": faulty.create_key(rateLimit=1)["key"]}
    faulty.http.get("/me", headers=key)
    refused = faulty.http.get("/me", headers=key)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers


def test_no_challenge() -> None:
    faulty = build({"errors": lambda p: NoChallenge()})
    response = faulty.http.get("/me")
    assert response.status_code == 401 and "WWW-Authenticate" not in response.headers


def test_missing_2fa_code_is_403() -> None:
    faulty = build({"errors": lambda p: Missing2faIs403()})
    faulty.enable_2fa()
    assert faulty.login().status_code == 403


def test_foreign_projects_forbidden() -> None:
    from .conftest import BOB

    faulty = build({"policy": lambda p: ForeignProjectsForbidden()})
    project = faulty.http.post("/projects", headers=faulty.bearer(BOB), json={"name": "x"}).json()
    assert faulty.http.get(f"/projects/{project['id']}", headers=faulty.bearer()).status_code == 403


def test_query_tokens() -> None:
    faulty = build({"credentials": lambda p: QueryTokens()})
    token = faulty.tokens()["accessToken"]
    assert faulty.http.get("/me", params={"access_token": token}).status_code == 200


def test_bad_json_crashes() -> None:
    faulty = build({"bodies": lambda p: CrashesOnBadJson(p.settings.max_body_bytes)})
    assert faulty.http.post("/auth/login", content=b"{").status_code == 500


def test_unknown_emails_told_apart() -> None:
    def accounts(p: Parts) -> Accounts:
        return TellsUnknownEmails(p.store, p.accounts.passwords)

    faulty = build({"accounts": accounts})
    assert faulty.http.post("/auth/login", json={"email": "x@y.z", "password": "p"}).status_code == 404


def test_the_honest_server_keeps_every_one_of_these_rules(api: Api) -> None:
    token = api.tokens()["accessToken"]
    api.clock.advance(900)
    assert api.http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.http.get("/me", params={"access_token": api.tokens()["accessToken"]}).status_code == 401
    assert api.http.post("/auth/login", content=b"{").status_code == 400
    assert api.http.post("/auth/login", json={"email": "x@y.z", "password": "p"}).status_code == 401


def test_parts_and_settings_cannot_disagree(clock: FrozenClock) -> None:
    parts = Parts.build(Settings(), clock)
    with pytest.raises(ValueError):
        create_app(Settings(environment="live"), parts=parts)
    with pytest.raises(ValueError):
        create_app(clock=FrozenClock(0), parts=parts)
    assert create_app(Settings(), clock=clock, parts=parts).state.parts is parts
