"""Forging JWTs from a genuine one, and presenting them as an attacker would.

The attack checks (contract §4) start from a token the target issued in this
run and change one thing: the algorithm, the signature, a claim, the key. A
forged token is sent as a bearer on `GET /me`, the universal authenticated
probe, and must be refused with 401. Afterwards the genuine token must still
work: if it does not, the target refused everything (or the attack broke it)
and the refusals prove nothing, so the results are void and the check ends
in error, never in a pass.

Tokens are assembled by hand (base64url of compact JSON, RFC 7515 §7.1),
because PyJWT refuses to make most of them, which is right for a library and
wrong for an attacker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from bsk_conformance.harness.api import (
    PreconditionFailed,
    describe,
    expect_error,
    expect_json_object,
    expect_status,
    fail,
)

# Orders of the groups behind ES256 (P-256) and EdDSA (Ed25519): the
# "psychic" and malleated signatures are built from them.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
ASYMMETRIC = ("ES256", "EdDSA")  # contract §4 and §8: either is conformant
JWKS_PATH = "/.well-known/jwks.json"
PEM_FORM = "the public key as PEM"


# -- base64url and compact serialization -------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segment(value: Any) -> str:
    """A JSON object as a compact base64url segment."""
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True)
class Jws:
    """A compact JWS split into its parts; the parts are what an attack changes."""

    header_b64: str
    payload_b64: str
    signature_b64: str

    @classmethod
    def parse(cls, token: str) -> Jws:
        parts = token.split(".")
        if len(parts) != 3:
            fail("a compact JWS (header.payload.signature)", f"{len(parts)} dot-separated parts", "access token")
        return cls(*parts)

    @property
    def header(self) -> dict[str, Any]:
        return json.loads(b64url_decode(self.header_b64))

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(b64url_decode(self.payload_b64))

    @property
    def signature(self) -> bytes:
        return b64url_decode(self.signature_b64)

    @property
    def alg(self) -> str:
        return str(self.header.get("alg"))

    def token(self, *, header: dict | None = None, payload: dict | None = None,
              signature: bytes | str | None = None) -> str:
        """The token with some parts replaced (a dict is re-encoded, a str is used as is)."""
        head = segment(header) if header is not None else self.header_b64
        body = segment(payload) if payload is not None else self.payload_b64
        if signature is None:
            tail = self.signature_b64
        elif isinstance(signature, bytes):
            tail = b64url(signature)
        else:
            tail = signature
        return f"{head}.{body}.{tail}"


def unsigned(header: dict, payload: dict, signature: str = "") -> str:
    return f"{segment(header)}.{segment(payload)}.{signature}"


def hs256(header: dict, payload: dict, secret: bytes) -> str:
    """HS256 over the header (with alg set) and payload, keyed with `secret`, via hmac."""
    header = {**header, "alg": "HS256"}
    signing_input = f"{segment(header)}.{segment(payload)}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def changed_byte(data: bytes, index: int, xor: int = 0x01) -> bytes:
    """`data` with one byte changed (xor must be non-zero, so the bytes really differ)."""
    assert xor & 0xFF, "xor 0 would change nothing"
    buffer = bytearray(data)
    buffer[index] ^= xor & 0xFF
    return bytes(buffer)


def malleated(alg: str, signature: bytes) -> bytes | None:
    """The other valid-looking encoding of a signature: (r, n - s) for ECDSA,
    S + L for Ed25519. Its decoded bytes differ, so contract §8 calls it altered."""
    if len(signature) != 64:
        return None
    if alg == "ES256":
        s = int.from_bytes(signature[32:], "big")
        return signature[:32] + ((P256_ORDER - s) % P256_ORDER).to_bytes(32, "big")
    if alg == "EdDSA":
        s = int.from_bytes(signature[32:], "little")
        if s + ED25519_ORDER >= 2**256:
            return None
        return signature[:32] + (s + ED25519_ORDER).to_bytes(32, "little")
    return None


# -- the attacker's own key ----------------------------------------------------


class AttackerKey:
    """A key pair the harness makes: any token it signs is a forgery."""

    def __init__(self, alg: str) -> None:
        self.alg = alg if alg in ASYMMETRIC else "ES256"
        self.kid = "bsk-conformance-attacker-" + secrets.token_hex(4)
        if self.alg == "EdDSA":
            self.private_key: Any = ed25519.Ed25519PrivateKey.generate()
        else:
            self.private_key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, header: dict, payload: dict) -> str:
        header = {**header, "alg": self.alg}
        signing_input = f"{segment(header)}.{segment(payload)}".encode("ascii")
        if self.alg == "EdDSA":
            signature = self.private_key.sign(signing_input)
        else:
            r, s = decode_dss_signature(self.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            # low-s, so a variant that trusts this key verifies it whatever rules it keeps
            s = min(s, P256_ORDER - s)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"

    def jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        algorithm = OKPAlgorithm if self.alg == "EdDSA" else ECAlgorithm
        key = dict(algorithm.to_jwk(public, as_dict=True))
        key.update(kid=self.kid, use="sig", alg=self.alg)
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def certificate_pem(self) -> bytes:
        """A self-signed X.509 certificate for the key, as an `x5u` URL serves it."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bsk-conformance attacker")])
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
        )
        digest = None if self.alg == "EdDSA" else hashes.SHA256()
        return builder.sign(self.private_key, digest).public_bytes(serialization.Encoding.PEM)


# -- the target's published keys ---------------------------------------------


def published_keys(target) -> list[dict[str, Any]]:
    """The JWKS (contract §4), or CheckFailed: the keys of `GET /.well-known/jwks.json`."""
    response = target.get(JWKS_PATH)
    context = f"GET {JWKS_PATH}"
    expect_status(response, 200, context=context)
    body = expect_json_object(response, context)
    keys = body.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        fail('a JWK Set {"keys": [JWK, ...]} with at least one key (RFC 7517 §5)', describe(response), context)
    return keys


def keys_for(target, token_header: dict) -> list[dict[str, Any]]:
    """The published keys a token's header points at: the one its kid names, or all."""
    keys = published_keys(target)
    kid = token_header.get("kid")
    if kid is None:
        return keys
    named = [k for k in keys if k.get("kid") == kid]
    return named


def public_key_forms(jwk_dict: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every byte string a confused verifier might use as an HMAC secret for this
    public key: its PEM (with and without the final newline), DER, raw point,
    and the JWK's JSON as published and canonical."""
    forms: list[tuple[str, bytes]] = []
    public = {k: v for k, v in jwk_dict.items()}
    forms.append(("the JWK as JSON", json.dumps(public).encode()))
    forms.append(("the JWK as compact JSON", json.dumps(public, separators=(",", ":")).encode()))
    required = {k: public[k] for k in ("crv", "kty", "x", "y") if k in public}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    forms.append(("the JWK's RFC 7638 members as JSON", canonical.encode()))
    try:
        key = jwt.PyJWK(public).key
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return forms
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = key.public_bytes(serialization.Encoding.PEM, spki)
    forms.append((PEM_FORM, pem))
    forms.append(("the public key as PEM without its final newline", pem.rstrip(b"\n")))
    forms.append(("the public key as DER", key.public_bytes(serialization.Encoding.DER, spki)))
    if isinstance(key, ec.EllipticCurvePublicKey):
        raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    else:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    forms.append(("the raw public key", raw))
    return forms


# -- presenting forged tokens -------------------------------------------------


@dataclass
class Attempt:
    label: str
    response: httpx.Response


def present(target, vectors: Iterable[tuple[str, str]]) -> list[Attempt]:
    """Send each forged token as a bearer on GET /me, each exchange noted with its label."""
    attempts = []
    for label, token in vectors:
        with target.evidence.note(f"attack: {label}"):
            attempts.append(Attempt(label, target.get("/me", bearer=token)))
    return attempts


def ensure_genuine_token_works(session, when: str = "after the attack") -> None:
    """The control: the genuine token is still accepted, or the attack results are void."""
    with session.target.evidence.note(f"control: the genuine access token, {when}"):
        response = session.get("/me")
    if response.status_code != 200:
        raise PreconditionFailed(
            f"the target refused the genuine access token {when}, so its refusals of the forgeries prove nothing "
            "(attack results void)",
            response,
        )


def expect_all_refused(attempts: list[Attempt]) -> None:
    """Each forged token got 401 with the §2 error body; never 2xx, never 5xx."""
    for attempt in attempts:
        expect_error(attempt.response, 401, context=f"GET /me with a forged bearer token ({attempt.label})")


def attack(session, vectors: Iterable[tuple[str, str]]) -> None:
    """Present the forgeries, run the control, then judge: the whole pattern of an attack check."""
    attempts = present(session.target, vectors)
    ensure_genuine_token_works(session)
    expect_all_refused(attempts)


# -- vectors as data -------------------------------------------------------------


@cache
def vectors(name: str) -> dict[str, Any]:
    """`fixtures/attack-vectors/<name>.json`."""
    text = resources.files("bsk_conformance.fixtures").joinpath("attack-vectors", f"{name}.json").read_text("utf-8")
    return json.loads(text)
