"""Preflight: before any check, make sure the target can be certified at all.

It confirms the target answers and every profile account logs in, and finds
what decides which checks can be verified: the accounts' organizations, a
served `/openapi.json`, and clock control (`GET /_test/clock`). A failure is
one clear line and an exit code, never a wall of failing checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp

from bsk_conformance.harness.target import Capabilities, Target
from bsk_conformance.harness.transport import explain_failure
from bsk_conformance.harness.verdicts import EXIT_INCOMPLETE, EXIT_USAGE


class PreflightError(Exception):
    """The run cannot start; `exit_code` is 2 (target) or 3 (usage or profile)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class PreflightReport:
    capabilities: Capabilities
    notes: list[str] = field(default_factory=list)
    # conformance.json's targetFingerprint: what was tested, for a certificate's manifest
    fingerprint: dict[str, Any] | None = None


def run_preflight(target: Target) -> PreflightReport:
    where = target.base_url
    try:
        jwks = target.get("/.well-known/jwks.json")
    except httpx.TransportError as exc:
        explained = _connection_problem(target, exc)
        if explained:
            raise PreflightError(explained, EXIT_INCOMPLETE) from None
        if isinstance(exc, httpx.TimeoutException):
            raise PreflightError(
                f"target unreachable: {where} did not answer within the request timeout", EXIT_INCOMPLETE
            ) from None
        raise PreflightError(
            f"target unreachable: cannot connect to {where} ({_reason(exc)})", EXIT_INCOMPLETE
        ) from None
    _refused_by_gateway(target, jwks, "GET /.well-known/jwks.json")

    capabilities = Capabilities()
    notes: list[str] = []
    try:
        for account in target.profile.accounts:
            capabilities.organizations[account.email] = _organization_of(target, account)
        capabilities.openapi = _openapi(target)
        capabilities.clock_control = _has_clock_control(target)
    except httpx.TransportError as exc:
        raise PreflightError(
            f"target unreachable: {where} dropped the connection during preflight ({_reason(exc)})", EXIT_INCOMPLETE
        ) from None

    if len(set(capabilities.organizations.values())) < 2:
        notes.append("all profile accounts are in one organization: cross-organization checks will be not verified")
    if capabilities.openapi is None:
        notes.append("no /openapi.json: schema fuzzing uses the harness's own OpenAPI document of the contract")
    if not capabilities.clock_control:
        notes.append(
            "no clock control (GET /_test/clock): time-dependent checks need --real-time-budget or are not verified"
        )
    target.capabilities = capabilities
    return PreflightReport(capabilities, notes, target_fingerprint(target, jwks))


SERVER_HEADER_CAP = 200


def target_fingerprint(target: Target, jwks: httpx.Response) -> dict[str, Any]:
    """What identifies the deployment that was tested, from the one JWKS fetch.

    The JWKS digest names the signing keys (public by design); the Server
    header is the target's own words, so capped and passed through the
    redactor like all recorded text. The TLS fields stay null for http.
    """
    server = jwks.headers.get("server")
    if server is not None:
        server = target.evidence.redactor.shorten(server, SERVER_HEADER_CAP)[0]
    return {
        "jwksSha256": hashlib.sha256(jwks.content).hexdigest() if jwks.status_code == 200 else None,
        "serverHeader": server,
        "tlsCertificateSha256": None,
        "tlsVersion": None,
    }


def _organization_of(target: Target, account) -> str:
    code = pyotp.TOTP(account.totp_secret).now() if account.totp_secret else None
    response = target.login(account, code)
    if response.status_code >= 500:
        raise PreflightError(
            f"target error: POST /auth/login for {account.email} answered HTTP {response.status_code}", EXIT_INCOMPLETE
        )
    if response.status_code != 200:
        _refused_by_gateway(target, response, "POST /auth/login")
        error = _error_code(response)
        hint = ""
        if error == "two_factor_required":
            hint = " (2FA is on for this account: add its totpSecret to the profile, or turn 2FA off)"
        raise PreflightError(
            f"profile: account {account.email} cannot log in: HTTP {response.status_code} {error or ''}{hint}".rstrip(),
            EXIT_USAGE,
        )
    try:
        tokens = response.json()
        access, refresh = tokens["accessToken"], tokens["refreshToken"]
    except (ValueError, KeyError, TypeError):
        raise PreflightError(
            f"target error: login for {account.email} did not answer accessToken and refreshToken", EXIT_INCOMPLETE
        ) from None
    me = target.get("/me", bearer=access)
    try:
        organization = str(me.json()["organizationId"])
    except (ValueError, KeyError, TypeError):
        raise PreflightError(
            f"target error: GET /me for {account.email} answered HTTP {me.status_code} without organizationId",
            EXIT_INCOMPLETE,
        ) from None
    # leave no session behind
    target.post("/auth/logout", bearer=access, json={"refreshToken": refresh})
    return organization


def _openapi(target: Target) -> dict | None:
    response = target.get("/openapi.json")
    if response.status_code != 200:
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) and "openapi" in document and "paths" in document else None


def _has_clock_control(target: Target) -> bool:
    response = target.get("/_test/clock")
    if response.status_code != 200:
        return False
    try:
        return "now" in response.json()
    except ValueError:
        return False


def _connection_problem(target: Target, exc: httpx.TransportError) -> str | None:
    """A TLS or proxy failure, named with what is missing (harness/transport.py)."""
    if target.routed is None:
        return None
    route = target.routed.route_for(httpx.URL(target.base_url))
    return explain_failure(
        exc,
        route,
        client_cert=bool(target.connection.client_cert),
        certificate_requested=target.routed.certificate_requested,
    )


def _refused_by_gateway(target: Target, response: httpx.Response, what: str) -> None:
    """A 401, 403 or 407 without the contract's error body came from something
    in front of the API, not from the API.

    The contract (§2) makes every error of the API `{"error": code, "message":
    text}`; a gateway or an access proxy answers with its own page. The JWKS
    needs no credential at all (§3), so any refusal of it is not the API's."""
    status = response.status_code
    if status not in (401, 403, 407) or _has_contract_error_body(response):
        return
    if status == 407:
        raise PreflightError(
            f"proxy refusal: {what} answered HTTP 407: the proxy wants credentials; put user:password in the "
            "proxy URL (--proxy or HTTPS_PROXY)",
            EXIT_INCOMPLETE,
        )
    sent = [name for name, _ in target.connection.headers]
    tried = f" (sent: {', '.join(sent)})" if sent else ""
    raise PreflightError(
        f"gateway refusal: {what} answered HTTP {status} without the contract's error body, so from something in "
        f"front of the API: give the header it wants with --target-header 'Name: value' or [headers] in the "
        f"profile{tried}",
        EXIT_INCOMPLETE,
    )


def _has_contract_error_body(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("error"))
    except (ValueError, AttributeError):
        return None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
