"""The preflight records what it tested: the JWKS digest and the Server header (conformance.json targetFingerprint)."""

from __future__ import annotations

import hashlib

import httpx

from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.preflight import SERVER_HEADER_CAP, run_preflight, target_fingerprint
from bsk_conformance.harness.profile import load_profile
from bsk_conformance.harness.target import Target
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.harness.conftest import PROFILE


def _target(url: str) -> Target:
    return Target(url, load_profile(PROFILE), EvidenceLog(Redactor()))


def test_the_preflight_fingerprints_the_jwks_it_was_served() -> None:
    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        target = _target(server.url)
        try:
            report = run_preflight(target)
        finally:
            target.close()
        served = httpx.get(f"{server.url}/.well-known/jwks.json")
    assert report.fingerprint == {
        "jwksSha256": hashlib.sha256(served.content).hexdigest(),
        "serverHeader": served.headers["server"],
        "tlsCertificateSha256": None,
        "tlsVersion": None,
    }


def _response(status: int, body: bytes, server: str | None) -> httpx.Response:
    headers = {"server": server} if server is not None else {}
    return httpx.Response(status, content=body, headers=headers)


def test_a_jwks_that_did_not_answer_200_has_no_digest_and_a_hostile_server_header_is_capped_and_redacted() -> None:
    target = _target("http://127.0.0.1:9")
    password = target.profile.accounts[0].password
    fingerprint = target_fingerprint(target, _response(404, b"not here", f"evil/{password}/" + "x" * 1000))
    target.close()
    assert fingerprint["jwksSha256"] is None
    assert password not in fingerprint["serverHeader"] and "«password:" in fingerprint["serverHeader"]
    assert len(fingerprint["serverHeader"]) <= SERVER_HEADER_CAP + 40
    assert target_fingerprint(target, _response(200, b"{}", None))["serverHeader"] is None
