"""Faults in access-token verification: a forged token gets through (contract §4).

Each variant breaks one step of `TokenService`'s verification pipeline
(`read_header`, `verify_signature`, `key_for`, `check_not_before`,
`verify_access`). Where the honest `read_header` refuses a header up front
(jwk, jku, x5u), letting it through is part of the one fault, so those
variants override `read_header` and the step that then trusts the header.

Every branch refuses with 401 `invalid_token` what it cannot parse, as the
honest server does, so a variant fails only the rule it breaks and never
turns a refusal into a 5xx by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import ECAlgorithm

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.tokens import ALGORITHM, TokenService, _b64url_decode
from tests.faulty.variant import Variant, swap

_REFUSED_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit", "b64")


def _invalid() -> errors.ApiError:
    return errors.invalid_token("The access token is invalid.")


def _unverified_payload(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(_b64url_decode(token.split(".")[1]))
    except (ValueError, IndexError):
        raise _invalid() from None
    if not isinstance(payload, dict):
        raise _invalid()
    return payload


def _hmac_matches(token: str, secret: bytes) -> bool:
    signing_input, _, signature = token.rpartition(".")
    try:
        presented = _b64url_decode(signature)
    except ValueError:
        return False
    expected = hmac.new(secret, signing_input.encode("ascii", "replace"), hashlib.sha256).digest()
    return hmac.compare_digest(expected, presented)


def _header(token: str, refused: tuple[str, ...]) -> dict[str, Any]:
    """`read_header` with a shorter list of refused header parameters."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid() from None
    if any(name in header for name in refused):
        raise _invalid()
    return header


def _loopback_url(value: Any) -> str | None:
    """Only ever fetch the harness's own listener: a variant must not reach the network."""
    if isinstance(value, str) and urlsplit(value).hostname == "127.0.0.1" and value.startswith("http://"):
        return value
    return None


class AlgNoneAccepted(TokenService):
    def verify_signature(self, token, header):
        if str(header.get("alg", "")).lower() == "none":
            return _unverified_payload(token)
        return super().verify_signature(token, header)


class HmacWithThePublicKey(TokenService):
    """HS256 "verified" with the PEM of our public key as the HMAC secret."""

    def verify_signature(self, token, header):
        if header.get("alg") == "HS256":
            pem = self.key_for(header).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if _hmac_matches(token, pem):
                return _unverified_payload(token)
            raise _invalid()
        return super().verify_signature(token, header)


class SignatureNotChecked(TokenService):
    """alg and kid are checked; the signature itself is never verified."""

    def verify_signature(self, token, header):
        if header.get("alg") != ALGORITHM:
            raise _invalid()
        self.key_for(header)
        if token.count(".") != 2:
            raise _invalid()
        return _unverified_payload(token)


class EmptySignatureTrusted(TokenService):
    """An ES256 token without a signature is taken as unsigned-but-ours."""

    def verify_signature(self, token, header):
        if header.get("alg") == ALGORITHM and token.endswith("."):
            self.key_for(header)
            return _unverified_payload(token)
        return super().verify_signature(token, header)


class HighSAccepted(TokenService):
    """The signature is verified, but its malleated twin (r, n - s) is accepted too."""

    def verify_signature(self, token, header):
        if header.get("alg") != ALGORITHM:
            raise _invalid()
        key = self.key_for(header)
        try:
            verified = jwt.PyJWS().decode_complete(token, key=key, algorithms=[ALGORITHM])
            claims = json.loads(verified["payload"])
        except (jwt.PyJWTError, ValueError):
            raise _invalid() from None
        if not isinstance(claims, dict):
            raise _invalid()
        return claims


class PsychicSignatureAccepted(TokenService):
    """r = s = 0 passes, as in Java 15-18's ECDSA (CVE-2022-21449)."""

    def verify_signature(self, token, header):
        try:
            signature = _b64url_decode(token.rpartition(".")[2])
        except ValueError:
            signature = b""
        if header.get("alg") == ALGORITHM and signature == bytes(64):
            return _unverified_payload(token)
        return super().verify_signature(token, header)


class EmptyHmacSecret(TokenService):
    """HS256 tokens are checked against a shared secret that was left empty."""

    def verify_signature(self, token, header):
        if header.get("alg") == "HS256":
            if _hmac_matches(token, b""):
                return _unverified_payload(token)
            raise _invalid()
        return super().verify_signature(token, header)


class KidReadAsAPath(TokenService):
    """HS256 keys are files named by kid, read without sanitising the name."""

    key_directory = tempfile.gettempdir()

    def verify_signature(self, token, header):
        kid = header.get("kid")
        if header.get("alg") == "HS256" and isinstance(kid, str):
            try:
                with open(os.path.join(self.key_directory, kid), "rb") as file:
                    secret = file.read()
            except (OSError, ValueError):
                raise _invalid() from None
            if _hmac_matches(token, secret):
                return _unverified_payload(token)
            raise _invalid()
        return super().verify_signature(token, header)


class EmbeddedJwkTrusted(TokenService):
    def read_header(self, token):
        return _header(token, tuple(name for name in _REFUSED_HEADERS if name != "jwk"))

    def key_for(self, header):
        if isinstance(header.get("jwk"), dict):
            try:
                return ECAlgorithm.from_jwk(json.dumps(header["jwk"]))
            except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                raise _invalid() from None
        return super().key_for(header)


class KeyUrlFollowed(TokenService):
    """jku and x5u are fetched (loopback only, here) and their key trusted."""

    def read_header(self, token):
        return _header(token, tuple(name for name in _REFUSED_HEADERS if name not in ("jku", "x5u")))

    def key_for(self, header):
        try:
            jku, x5u = _loopback_url(header.get("jku")), _loopback_url(header.get("x5u"))
            if jku:
                keys = httpx.get(jku, timeout=5).json()["keys"]
                chosen = [k for k in keys if k.get("kid") == header.get("kid")] or keys[:1]
                return ECAlgorithm.from_jwk(json.dumps(chosen[0]))
            if x5u:
                return x509.load_pem_x509_certificate(httpx.get(x5u, timeout=5).content).public_key()
        except (httpx.HTTPError, jwt.PyJWTError, ValueError, KeyError, TypeError, IndexError):
            raise _invalid() from None
        return super().key_for(header)


class KeyUrlFetched(TokenService):
    """jku and x5u are refused, but only after the server has fetched them."""

    def read_header(self, token):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            header = {}
        for name in ("jku", "x5u"):
            url = _loopback_url(header.get(name))
            if url:
                try:
                    httpx.get(url, timeout=5)
                except httpx.HTTPError:
                    pass
        return super().read_header(token)


class FutureNbfAccepted(TokenService):
    def check_not_before(self, claims, now) -> None:
        return None


class ExpiryReadBeforeVerifying(TokenService):
    """An expired token is turned away early, before anything is verified:
    a non-numeric exp then crashes the comparison (a 500)."""

    def verify_access(self, token):
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            unverified = {}
        if "exp" in unverified:
            self.check_expiry(unverified, self.clock.now())
        return super().verify_access(token)


def _tokens(kind: type[TokenService]):
    return swap("tokens", lambda p: kind(p.store, p.clock))


VARIANTS = [
    Variant(
        name="alg_none_accepted",
        # run against every suite, not only its areas: no false positive anywhere else
        full=True,
        breaks="`alg: none` is rejected",
        trips=("BSK-JWT-001",),
        factory=_tokens(AlgNoneAccepted),
    ),
    Variant(
        name="hs256_key_confusion_accepted",
        breaks="HS256 signed with the public key is rejected",
        trips=("BSK-JWT-002",),
        factory=_tokens(HmacWithThePublicKey),
    ),
    Variant(
        name="signature_not_checked",
        breaks="stripped or altered signatures are rejected",
        trips=("BSK-JWT-003", "BSK-JWT-004", "BSK-JWT-005", "BSK-JWT-006", "BSK-JWT-013", "BSK-JWT-015"),
        factory=_tokens(SignatureNotChecked),
    ),
    Variant(
        name="stripped_signature_accepted",
        breaks="stripped signatures are rejected",
        trips=("BSK-JWT-003",),
        factory=_tokens(EmptySignatureTrusted),
    ),
    Variant(
        name="malleated_signature_accepted",
        # a SHOULD since contract v1.1 (§8): caught as a warning, the verdict stays conformant
        breaks="the ECDSA twin (r, n - s) of a genuine ES256 signature SHOULD be refused (low-S only, §8)",
        trips=("BSK-JWT-015",),
        factory=_tokens(HighSAccepted),
    ),
    Variant(
        name="psychic_signature_accepted",
        breaks="altered signatures are rejected: r = s = 0 verifies nothing",
        trips=("BSK-JWT-006",),
        factory=_tokens(PsychicSignatureAccepted),
    ),
    Variant(
        name="hs256_empty_key_accepted",
        breaks="access tokens are signed with an asymmetric algorithm",
        trips=("BSK-JWT-008",),
        blast={"BSK-JWT-007": "its kid-injection tokens signed HS256 with an empty key pass this verifier, "
                              "which never looks at kid"},
        factory=_tokens(EmptyHmacSecret),
    ),
    Variant(
        name="kid_read_as_a_path",
        breaks="unknown kid is rejected (kid injection: path traversal)",
        trips=("BSK-JWT-007",),
        factory=_tokens(KidReadAsAPath),
    ),
    Variant(
        name="embedded_jwk_trusted",
        breaks="tokens are verified with the published keys, not one the token brings",
        trips=("BSK-JWT-009",),
        factory=_tokens(EmbeddedJwkTrusted),
    ),
    Variant(
        name="jku_followed",
        breaks="tokens are verified with the published keys, not one at a URL the token names",
        trips=("BSK-JWT-010", "BSK-JWT-011"),
        factory=_tokens(KeyUrlFollowed),
    ),
    Variant(
        name="jku_fetched_then_refused",
        breaks="a key URL named by a token is not fetched (SSRF)",
        trips=("BSK-JWT-011",),
        factory=_tokens(KeyUrlFetched),
    ),
    Variant(
        name="future_nbf_accepted",
        breaks="future `nbf` is rejected",
        trips=("BSK-JWT-012",),
        factory=_tokens(FutureNbfAccepted),
    ),
    Variant(
        name="mistyped_exp_is_a_500",
        breaks="a rejected bearer token gets 401 (never 5xx), whatever its claims hold",
        trips=("BSK-JWT-014",),
        blast={"BSK-JWT-005": "a changed claims byte may leave exp a non-number, which this variant "
                              "compares before verifying anything"},
        factory=_tokens(ExpiryReadBeforeVerifying),
    ),
]
