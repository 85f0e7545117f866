"""The target: its base URL, profile, clock, what it offers, and the one
recording HTTP client every suite uses to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from bsk_conformance.harness.clock import ClockStrategy
from bsk_conformance.harness.evidence import EvidenceLog, RecordingTransport
from bsk_conformance.harness.journal_watch import JournalingTransport, JournalWatch
from bsk_conformance.harness.limits import ACCEPT_ENCODING, Limits
from bsk_conformance.harness.profile import Account, Profile
from bsk_conformance.harness.transport import DIRECT, ConnectionOptions, TlsFacts, client_transport

_UNSET: Any = object()


@dataclass
class Capabilities:
    """What preflight found: it decides which checks can be verified."""

    clock_control: bool = False
    openapi: dict | None = None
    # email -> organizationId, for every account that logged in
    organizations: dict[str, str] = field(default_factory=dict)


class Verbs:
    """`get`, `post` and `delete` over a class's `request`: the target's raw
    requests and a logged-in session's bearer requests read the same."""

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


class Target(Verbs):
    """A BSK API under test, reached through a recording httpx client.

    Paths are relative to the base URL, which may carry a path prefix
    (contract §2): ``target.request("GET", "/me")`` on ``https://h/v1`` asks
    ``https://h/v1/me``.
    """

    def __init__(
        self,
        base_url: str,
        profile: Profile,
        evidence: EvidenceLog,
        *,
        timeout: float = 10.0,
        in_process: bool = False,
        transport: httpx.BaseTransport | None = None,
        connection: ConnectionOptions = DIRECT,
        limits: Limits | None = None,
        journal: JournalWatch | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.evidence = evidence
        self.in_process = in_process
        self.capabilities = Capabilities()
        self.connection = connection
        self.clock: ClockStrategy | None = None
        self.journal = journal

        def record(inner: httpx.BaseTransport) -> httpx.BaseTransport:
            # the deadline and the body cap live in the recording layer, around any inner transport
            recorded = RecordingTransport(inner, evidence, limits or Limits(request_timeout=timeout))
            # a remote target's state changes are journaled before they are sent (harness/journal_watch.py)
            return JournalingTransport(recorded, journal) if journal is not None else recorded

        # proxies, TLS trust, client certificate and gateway headers: harness/transport.py
        stack, self.routed = client_transport(connection, self.base_url, record, transport)
        self.client = httpx.Client(
            base_url=self.base_url + "/",
            transport=stack,
            timeout=timeout,
            follow_redirects=False,
            # only what the recording layer can inflate within the cap
            headers={"user-agent": "bsk-conformance", "accept-encoding": ACCEPT_ENCODING},
        )
        for account in profile.accounts:
            evidence.redactor.register(account.password, "password")
            if account.totp_secret:
                evidence.redactor.register(account.totp_secret, "totp-secret")
        for name, _ in connection.headers:
            evidence.redactor.register_header(name, "gateway-header")
        for secret, kind in connection.secrets():
            evidence.redactor.register(secret, kind)

    def secret(self, value: object, kind: str) -> None:
        """A secret the check learned from the target (a key, a TOTP secret):
        every later occurrence in the evidence is redacted. Not a string, or too
        short to be a secret: nothing to hide, nothing done."""
        self.evidence.redactor.register(value, kind)

    @property
    def tls(self) -> TlsFacts | None:
        """The TLS version and server certificate of the first answer (None over HTTP)."""
        return self.routed.tls if self.routed is not None else None

    # -- raw requests -------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        bearer: str | None = None,
        api_key: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; `bearer` and `api_key` set the contract's headers."""
        all_headers = dict(headers or {})
        if bearer is not None:
            all_headers["Authorization"] = f"Bearer {bearer}"
        if api_key is not None:
            all_headers["X-API-Key"] = api_key
        kwargs: dict[str, Any] = {"headers": all_headers, "params": params}
        if json is not _UNSET:
            kwargs["json"] = json
        elif content is not None:
            kwargs["content"] = content
        return self.client.request(method, path.lstrip("/"), **kwargs)

    # -- the contract's flows -----------------------------------------------

    def login(self, account: Account, code: str | None = None) -> httpx.Response:
        body: dict[str, str] = {"email": account.email, "password": account.password}
        if code is not None:
            body["twoFactorCode"] = code
        return self.post("/auth/login", json=body)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.post("/auth/refresh", json={"refreshToken": refresh_token})

    def close(self) -> None:
        self.client.close()
