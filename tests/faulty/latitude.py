"""Latitude variants: the detection matrix's other half.

Each is the reference server taking one latitude of contract §8, a choice
the contract leaves to implementations. Every one is conformant, so a sound
harness must certify each CONFORMANT, in-process and remote alike; a failure
is a harness bug (a check failing a correct server), to be fixed in suites/.
A variant may get a warning only on a SHOULD that it really breaks, declared
in `warns` with the reason.

`--reference-factory tests.faulty.registry:<name>` builds one, as for the
faulty variants.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.accounts import Accounts
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.principals import CredentialReader, Credentials
from bsk_conformance.reference_server.throttle import LoginThrottle
from bsk_conformance.reference_server.tokens import SignatureAlgorithm, TokenService
from bsk_conformance.reference_server.two_factor import TwoFactor
from tests.faulty.variant import AppFactory, swap
from tests.faulty.variants.jwt_attacks import HighSAccepted


@dataclass(frozen=True)
class Latitude:
    name: str
    takes: str  # the latitude, in contract §8's words
    factory: AppFactory
    # SHOULD requirements the variant really breaks, each with the reason: the
    # only warnings it may get
    warns: dict[str, str] = field(default_factory=dict)
    # the suites' areas it can affect; None: every suite (most latitudes touch every answer)
    areas: tuple[str, ...] | None = None

    @property
    def full(self) -> bool:
        return self.areas is None


def _honest(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app

    return create_app(settings, clock=clock)


def _with_settings(**changes: Any) -> AppFactory:
    def factory(settings: Any, clock: Any) -> Any:
        return _honest(dataclasses.replace(settings, **changes), clock)

    return factory


# -- a path prefix in the base URL ---------------------------------------------------
# Settings.base_path serves every route (JWKS and /_test/clock included) under
# /v1; the harness is given http://127.0.0.1:port/v1 (in-process it reads the
# prefix from the settings, as an operator would read it from the vendor's docs).


# -- EdDSA instead of ES256 ----------------------------------------------------------


class EdDSA(SignatureAlgorithm):
    """Ed25519 (RFC 8037): the JWKS an OKP key, whose thumbprint covers crv, kty and x."""

    name = "EdDSA"
    key_type = Ed25519PrivateKey
    thumbprint_members = ("crv", "kty", "x")

    def generate(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()


class EdDSATokens(TokenService):
    """Access tokens signed with Ed25519: only the algorithm differs from the honest service."""

    algorithm = EdDSA()


# -- tokenType instead of typ ---------------------------------------------------------


class TokenTypeClaim(TokenService):
    TYPE_CLAIM = "tokenType"


# -- JWT refresh tokens instead of opaque ones ----------------------------------------


class JwtRefreshTokens(TokenService):
    """Refresh tokens are JWTs signed with the access tokens' key, typ refresh.
    They stay one-use and revocable the same way: stored by digest, looked up
    by it (a JWT that is not in the store is refused however well signed)."""

    def new_refresh_token(self, user_id: str, family_id: str, expires_at: float) -> str:
        now = int(self.clock.now())
        return self.sign({
            "sub": user_id,
            "fam": family_id,
            "iat": now,
            "exp": int(expires_at),
            "jti": secrets.token_urlsafe(32),
            self.TYPE_CLAIM: "refresh",
        })


# -- a test clock that keeps ticking after an advance -----------------------------------


class TickingClock:
    """Starts where it is told, then runs with real time; an advance moves it
    forward and it keeps running from there (contract §8). `set` exists for
    the in-process harness, which may rewind the server's clock."""

    def __init__(self, start: float) -> None:
        self._base = float(start)
        self._mark = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._base + (time.monotonic() - self._mark)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock only moves forward; seconds must be >= 0")
        with self._lock:
            self._base += seconds
            return self._base + (time.monotonic() - self._mark)

    def set(self, t: float) -> None:
        with self._lock:
            self._base, self._mark = float(t), time.monotonic()


def ticking_clock(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app
    from bsk_conformance.reference_server.parts import Parts

    return create_app(parts=Parts.build(settings, TickingClock(clock.now())))


# -- no /openapi.json ---------------------------------------------------------------------


def no_openapi(settings: Any, clock: Any) -> Any:
    app = _honest(settings, clock)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != "/openapi.json"]
    return app


# -- answers rewritten on the wire (ASGI wrappers) -----------------------------------------


class _ResponseRewriter:
    """ASGI wrapper that holds each answer and rewrites its head and JSON body."""

    def __init__(self, app: Any, *, headers: Callable[[list], list] | None = None,
                 body: Callable[[Any], Any] | None = None, untouched: tuple[str, ...] = ()) -> None:
        self.app = app
        self._headers = headers
        self._body = body
        self._untouched = untouched  # paths (suffixes) whose body is left as it is

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def holding(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await self._send(start, b"".join(chunks), send, rewrite_body=not scope["path"].endswith(self._untouched))

        await self.app(scope, receive, holding)

    async def _send(self, start: dict, body: bytes, send, *, rewrite_body: bool) -> None:
        headers = list(start.get("headers", []))
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if rewrite_body and self._body is not None and body and content_type.startswith(b"application/json"):
            body = json.dumps(self._body(json.loads(body)), ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8")
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        if self._headers is not None:
            headers = self._headers(headers)
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def rewritten(**rewrites: Any) -> AppFactory:
    def factory(settings: Any, clock: Any) -> Any:
        return _ResponseRewriter(_honest(settings, clock), **rewrites)

    return factory


def upper_case_names(headers: list) -> list:
    return [(name.upper(), value) for name, value in headers]


def with_extra_fields(value: Any) -> Any:
    """Every JSON object gets fields the contract does not name: a request id
    (with `_`, so never a piece of an alphanumeric secret), a null revokedAt
    and an API version; objects in lists too."""
    if isinstance(value, list):
        return [with_extra_fields(item) for item in value]
    if isinstance(value, dict):
        extra = {"requestId": f"req_{secrets.token_hex(8)}", "revokedAt": None, "apiVersion": "2026-11-29"}
        own = {k: with_extra_fields(v) for k, v in value.items()}
        return {**own, **{k: v for k, v in extra.items() if k not in value}}
    return value


def in_another_order(value: Any) -> Any:
    """Every list and every object's fields in reverse order (key lists, scopes, JWKS keys...)."""
    if isinstance(value, list):
        return [in_another_order(item) for item in reversed(value)]
    if isinstance(value, dict):
        return {k: in_another_order(v) for k, v in reversed(list(value.items()))}
    return value


# -- statuses the contract leaves open --------------------------------------------------------


class OversizedIs413(BodyParser):
    """An oversized body gets 413 (RFC 9110 §15.5.14) instead of 400."""

    async def read(self, request) -> bytes:
        try:
            return await super().read(request)
        except errors.ApiError as refused:
            raise errors.ApiError(413, "request_too_large", refused.message) from None


class MalformedRefreshBodyIs401(BodyParser):
    """A malformed body to POST /auth/refresh gets 401 invalid_token instead of
    400 (§8); every other endpoint keeps 400."""

    async def parse(self, request, model):
        try:
            return await super().parse(request, model)
        except errors.ApiError as refused:
            if refused.status == 400 and request.url.path.endswith("/auth/refresh"):
                raise errors.invalid_refresh_token() from None
            raise


class BearerWinsOverKey(CredentialReader):
    """A request with both a bearer token and a key is served as the bearer's
    user, the key ignored (the reference server refuses it with 400)."""

    def read(self, request) -> Credentials:
        found = super().read(request)
        if found.bearer is not None and found.api_key is not None:
            return Credentials(bearer=found.bearer)
        return found


class OtherManagementStatuses(TwoFactor):
    """2FA management: a wrong code is 422 (reference: 400), a state error
    (already on, not set up, not on) is 400 (reference: 409)."""

    def _accept(self, user, secret, code, *, status):
        super()._accept(user, secret, code, status=422 if status == 400 else status)

    def setup(self, user):
        return self._restated(super().setup, user)

    def enable(self, user, code):
        return self._restated(super().enable, user, code)

    def disable(self, user, code):
        return self._restated(super().disable, user, code)

    @staticmethod
    def _restated(operation, *args):
        try:
            return operation(*args)
        except errors.ApiError as refused:
            if refused.status == 409:
                raise errors.ApiError(400, refused.code, refused.message) from None
            raise


class UnknownFieldsRefused(BodyParser):
    """A body member the endpoint does not name is refused: 400 invalid_request
    (the reference ignores it; §8 allows either)."""

    def validate(self, data, model):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(model.model_fields))
            if unknown:
                raise errors.invalid_request(f"{unknown[0]}: not a field of this request.")
        return super().validate(data, model)


#: fields naming what the server alone decides, refused by `ReadOnlyFieldsRefused`
READ_ONLY_FIELDS = frozenset({"id", "organizationId", "organization_id", "orgId", "userId", "createdAt",
                              "createdBy", "key", "prefix", "secret", "type"})


class ReadOnlyFieldsRefused(BodyParser):
    """A body naming a read-only property (id, organizationId, createdAt, key,
    prefix, ...) is refused with 400 invalid_request; other unknown members are
    ignored, as the reference ignores every one."""

    def validate(self, data, model):
        if isinstance(data, dict):
            named = sorted(READ_ONLY_FIELDS & (set(data) - set(model.model_fields)))
            if named:
                raise errors.invalid_request(f"{named[0]}: read-only; the server sets it.")
        return super().validate(data, model)


class SuccessKeepsFailures(LoginThrottle):
    """A successful login does not clear the account's failures: they age out of the window."""

    def record_success(self, email: str) -> None:
        return None


def throttle_without_reset(threshold: int, window: float) -> AppFactory:
    def factory(settings: Any, clock: Any) -> Any:
        from bsk_conformance.reference_server import create_app
        from bsk_conformance.reference_server.parts import Parts

        settings = dataclasses.replace(settings, login_throttle_threshold=threshold, login_throttle_window=window)
        parts = Parts.build(settings, clock)
        throttle = SuccessKeepsFailures(parts.clock, threshold=threshold, window=window)
        return create_app(parts=dataclasses.replace(parts, throttle=throttle))

    return factory


class MalformedCodeIs400(TwoFactor):
    """A login code that is not six ASCII digits is 400 invalid_request, as a
    malformed field (the reference: 401 invalid_two_factor_code, as any wrong code)."""

    def verify_login(self, user, code):
        if not re.fullmatch(r"[0-9]{6}", code):
            raise errors.invalid_request("twoFactorCode: six digits.")
        return super().verify_login(user, code)


class NfkcPasswords(Accounts):
    """Passwords NFKC-normalised before they are checked (NIST SP 800-63B
    §5.1.1.2): a fullwidth form of the right password logs in."""

    def authenticate(self, email: str, password: str):
        return super().authenticate(email, unicodedata.normalize("NFKC", password))


class ExpiryOnlyInZ(BodyParser):
    """expiresAt only in the contract's own form, UTC written `Z` (§2: timestamps are
    RFC 3339 UTC strings): any other offset, +00:00 included, is 400 invalid_request."""

    def validate(self, data: Any, model):
        from bsk_conformance.reference_server.models import CreateApiKeyBody

        expiry = data.get("expiresAt") if isinstance(data, dict) else None
        if model is CreateApiKeyBody and isinstance(expiry, str) and not expiry.endswith("Z"):
            raise errors.invalid_request("expiresAt: write it in UTC, ending in Z.")
        return super().validate(data, model)


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")


def timestamps_in_another_form(value: Any) -> Any:
    """Every RFC 3339 UTC time in an answer written `2027-01-15T08:00:00.000+00:00`
    (milliseconds, the offset spelled out): the same instant, another form."""
    if isinstance(value, list):
        return [timestamps_in_another_form(item) for item in value]
    if isinstance(value, dict):
        return {k: timestamps_in_another_form(v) for k, v in value.items()}
    if isinstance(value, str):
        match = _TIMESTAMP.match(value)
        if match:
            fraction = (match.group(2) or ".")[1:4].ljust(3, "0")
            return f"{match.group(1)}.{fraction}+00:00"
    return value


def answers_rewritten(name: str, takes: str, **rewrites: Any) -> Latitude:
    """A latitude in the form of the answers alone: the honest server, each answer rewritten (see `rewritten`)."""
    return Latitude(name=name, takes=takes, factory=rewritten(**rewrites))


LATITUDES = [
    Latitude(
        name="latitude_path_prefix",
        takes="a path prefix in the base URL (/v1)",
        factory=_with_settings(base_path="/v1"),
    ),
    Latitude(
        name="latitude_eddsa",
        takes="EdDSA (Ed25519) access tokens instead of ES256",
        factory=swap("tokens", lambda p: EdDSATokens(p.store, p.clock)),
    ),
    Latitude(
        name="latitude_token_type_claim",
        takes="tokenType instead of typ for the token type claim",
        factory=swap("tokens", lambda p: TokenTypeClaim(p.store, p.clock)),
        areas=("jwt_attacks", "observed", "refresh", "token_claims", "tokens"),
    ),
    Latitude(
        name="latitude_jwt_refresh_tokens",
        takes="JWT refresh tokens instead of opaque ones",
        factory=swap("tokens", lambda p: JwtRefreshTokens(p.store, p.clock)),
        areas=("jwt_attacks", "near_misses", "observed", "refresh", "secrets", "token_claims", "tokens", "two_accounts",
               "wire"),
    ),
    Latitude(
        name="latitude_ticking_clock",
        takes="a test clock that keeps ticking from the advanced point",
        factory=ticking_clock,
    ),
    Latitude(
        name="latitude_no_openapi",
        takes="no /openapi.json served",
        factory=no_openapi,
        areas=("fuzz",),
    ),
    answers_rewritten(
        "latitude_upper_case_header_names",
        "HTTP header name case: every response header name in upper case (the reference sends lower case)",
        headers=upper_case_names,
    ),
    answers_rewritten(
        "latitude_extra_fields",
        "extra fields in every answer's body (request ids, revokedAt, a version), in objects in lists too",
        # the OpenAPI description is a document of its own schema, not an API answer: a
        # vendor adding request ids to its answers does not add them to its path items
        body=with_extra_fields,
        untouched=("/openapi.json",),
    ),
    answers_rewritten(
        "latitude_another_order",
        "list order and field order: every list and every object's fields reversed",
        body=in_another_order,
    ),
    Latitude(
        name="latitude_oversized_body_413",
        takes="oversized bodies get 413 instead of 400",
        factory=swap("bodies", lambda p: OversizedIs413(p.bodies.max_bytes)),
        areas=("fuzz", "wire"),
    ),
    Latitude(
        name="latitude_login_throttle_3_in_300s_kept_on_success",
        takes="the login throttle's threshold and window (3 failures in 300 s), and a success does not reset it",
        factory=throttle_without_reset(3, 300.0),
    ),
    Latitude(
        name="latitude_ecdsa_twin_accepted",
        takes="an ES256 verifier that accepts the (r, n - s) twin of a genuine signature",
        factory=swap("tokens", lambda p: HighSAccepted(p.store, p.clock)),
        warns={"BSK-JWT-015": "refusing the twin is a SHOULD (contract v1.1 §8), and this verifier accepts it"},
        areas=("jwt_attacks",),
    ),
    Latitude(
        name="latitude_2fa_management_statuses",
        takes="2FA management: 422 for a wrong code, 400 for state errors (any 4xx)",
        factory=swap("two_factor", lambda p: OtherManagementStatuses(p.store, p.clock)),
        areas=("fuzz", "two_factor", "wire"),
    ),
    Latitude(
        name="latitude_malformed_refresh_body_401",
        takes="a malformed refresh body gets 401 invalid_token instead of 400",
        factory=swap("bodies", lambda p: MalformedRefreshBodyIs401(p.bodies.max_bytes)),
        areas=("fuzz", "near_misses", "refresh", "wire"),
    ),
    Latitude(
        name="latitude_both_credentials_bearer_wins",
        takes="a request with both a bearer token and a key is served as the bearer's user",
        factory=swap("credentials", lambda p: BearerWinsOverKey()),
        areas=("fuzz", "scopes_and_orgs", "rate_limits", "wire"),
    ),
    Latitude(
        name="latitude_malformed_login_code_400",
        takes="a login code that is not six ASCII digits gets 400 invalid_request (any 4xx for a malformed code)",
        factory=swap("two_factor", lambda p: MalformedCodeIs400(p.store, p.clock)),
        areas=("near_misses", "two_accounts", "two_factor"),
    ),
    Latitude(
        name="latitude_nfkc_normalised_passwords",
        takes="passwords NFKC-normalised before they are checked (NIST SP 800-63B; the contract names no comparison)",
        factory=swap("accounts", lambda p: NfkcPasswords(p.store, p.accounts.passwords)),
        areas=("near_misses", "two_accounts"),
    ),
    Latitude(
        name="latitude_expires_at_only_in_z",
        takes="an expiresAt in another offset than Z (+00:00, +02:00) refused with 400 invalid_request (§2: UTC)",
        factory=swap("bodies", lambda p: ExpiryOnlyInZ(p.bodies.max_bytes)),
        areas=("api_keys", "defaults", "observed"),
    ),
    Latitude(
        name="latitude_timestamps_in_another_form",
        takes="RFC 3339 UTC times answered with milliseconds and +00:00 (2027-01-15T08:00:00.000+00:00)",
        factory=rewritten(body=timestamps_in_another_form),
        areas=("api_keys", "clock_control", "defaults", "observed", "wire"),
    ),
    Latitude(
        name="latitude_unknown_fields_refused",
        takes="a request body with a member the endpoint does not name is refused: 400 invalid_request",
        factory=swap("bodies", lambda p: UnknownFieldsRefused(p.bodies.max_bytes)),
    ),
    Latitude(
        name="latitude_read_only_fields_refused",
        takes="a request body naming a read-only property (id, organizationId, createdAt, key, ...) is refused: 400",
        factory=swap("bodies", lambda p: ReadOnlyFieldsRefused(p.bodies.max_bytes)),
        areas=("fuzz", "properties", "wire"),
    ),
]
