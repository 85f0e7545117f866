"""Contract §4 — Attack resistance of access tokens.

   "Access token: a JWT signed with an asymmetric algorithm (ES256 or EdDSA);
    the server publishes its public keys at GET /.well-known/jwks.json."
   "`alg: none`, HS256 signed with the public key, stripped or altered
    signatures, unknown `kid`, expired `exp` and future `nbf` are all rejected."

Every check forges from a genuine access token of this run, changing one
thing, and presents each forgery as a bearer on `GET /me`: it must get 401
with the §2 error body, never a 2xx and never a 5xx. Then the genuine token
is presented once more: if it no longer works, the refusals prove nothing,
and the check ends in error ("attack results void"), not in a verdict.

The attacker's keys are made by the harness for each check, with the
target's own algorithm (ES256 or EdDSA, §8), so only the key differs from a
genuine token. Vectors that are data (alg casings, kid injections, mistyped
claims) live in fixtures/attack-vectors/jwt.json.

Expired `exp` is BSK-TOK-004: a genuine token presented after the clock has
passed its exp. A genuinely signed token with a future `nbf` cannot be had
from a target whose clock only moves forward, and a forged one shows nothing
about `nbf` (any signature check refuses it); in-process the harness sets the
server's clock back instead, and remotely BSK-JWT-012 is not verified.
"""

from __future__ import annotations

import base64
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bsk_conformance.harness.api import CheckFailed, PreconditionFailed, expect, held_at, not_verified, requirement

from ._attacks import (
    P256_ORDER,
    PEM_FORM,
    AttackerKey,
    Jws,
    attack,
    b64url,
    b64url_decode,
    changed_byte,
    ensure_genuine_token_works,
    expect_all_refused,
    hs256,
    keys_for,
    malleated,
    present,
    public_key_forms,
    published_keys,
    unsigned,
    vectors,
)
from ._listener import KeyUrlListener, is_loopback

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # every example is a request: no shrinking
    suppress_health_check=list(HealthCheck),
)


def _genuine(user) -> Jws:
    return Jws.parse(user.access_token)


def _published_keys_or_void(target, header: dict) -> list[dict]:
    """The keys an attack is built from; without them the attack cannot be formed."""
    try:
        return keys_for(target, header) or published_keys(target)
    except CheckFailed as exc:
        raise PreconditionFailed(f"the JWKS this attack is built from could not be read: {exc}") from None


@requirement("BSK-JWT-001")
def test_alg_none_is_refused_in_any_casing(user):
    token = _genuine(user)
    forged = []
    for alg in vectors("jwt")["alg_none_casings"]:
        header = {**token.header, "alg": alg}
        forged.append((f'alg "{alg}", empty signature', token.token(header=header, signature="")))
        forged.append((f'alg "{alg}", the genuine signature kept', token.token(header=header)))
    bare = {"alg": "none", "typ": "JWT"}
    forged.append(('alg "none", no kid, empty signature', unsigned(bare, token.payload)))
    attack(user, forged)


@requirement("BSK-JWT-002")
def test_hs256_signed_with_the_published_public_key_is_refused(user, target):
    token = _genuine(user)
    without_kid = {k: v for k, v in token.header.items() if k != "kid"}
    forged = []
    for jwk in _published_keys_or_void(target, token.header):
        for form, secret in public_key_forms(jwk):
            forged.append((f"HS256 keyed with {form}", hs256(token.header, token.payload, secret)))
            if form == PEM_FORM:
                forged.append((f"HS256 keyed with {form}, no kid", hs256(without_kid, token.payload, secret)))
    attack(user, forged)


@requirement("BSK-JWT-003")
def test_stripped_signature_is_refused(user):
    token = _genuine(user)
    attack(user, [
        ("signature stripped, trailing dot kept", token.token(signature="")),
        ("signature and its dot stripped", f"{token.header_b64}.{token.payload_b64}"),
    ])


def _altered_signatures(token: Jws) -> list[tuple[str, bytes]]:
    signature = token.signature
    middle = len(signature) // 2
    altered = [
        ("first byte flipped", changed_byte(signature, 0)),
        ("last byte flipped", changed_byte(signature, -1)),
        ("middle byte's top bit flipped", changed_byte(signature, middle, 0x80)),
        ("truncated by one byte", signature[:-1]),
        ("truncated to half", signature[:middle]),
        ("extended by one zero byte", signature + b"\0"),
        ("bytes reversed", signature[::-1]),
    ]
    if token.alg == "EdDSA":
        # S + L: RFC 8032 §5.1.7 rejects any S >= L, so unlike the ECDSA twin (BSK-JWT-015,
        # a SHOULD by §8) this one is simply altered
        twin = malleated(token.alg, signature)
        if twin is not None:
            altered.append(("S + L, the non-canonical EdDSA twin", twin))
    return [(label, raw) for label, raw in altered if raw != signature]


@requirement("BSK-JWT-004")
def test_altered_signature_is_refused(user):
    token = _genuine(user)
    # §8: altered means the DECODED bytes differ; each is re-encoded canonically,
    # so no vector is a base64url spelling of the genuine signature
    attack(user, [(f"signature {label}", token.token(signature=raw)) for label, raw in _altered_signatures(token)])


TWIN_ACCEPTED = (
    "the target accepted the ECDSA twin (r, n - s) of its own ES256 signature, a signature it never issued "
    "for that token ({answer}). RFC 7518 leaves the twin valid and contract §8 (v1.1) allows accepting it, "
    "but refusing it (accepting only low-S signatures, s <= n/2) is better: every "
    "token then has exactly one valid encoding, so anyone holding a token cannot mint a second, different "
    "token string that a deny-list, replay cache or audit log keyed on the token's bytes or hash does not recognise"
)


@requirement("BSK-JWT-015")
def test_ecdsa_twin_signature_is_refused(user):
    """ECDSA signatures are malleable: (r, n - s) verifies whenever (r, s) does,
    and most JOSE libraries accept both. Contract §8 (v1.1) makes refusing the
    twin a SHOULD; the message says what was accepted and why refusing is
    better. EdDSA's S + L is no such twin (RFC 8032 rejects S >= L): it is an
    altered signature, judged by BSK-JWT-004."""
    token = _genuine(user)
    if token.alg != "ES256":
        not_verified(f"the target signs with {token.alg}: the (r, n - s) twin is an ECDSA (ES256) matter")
    twin = malleated(token.alg, token.signature)
    if twin is None or twin == token.signature:
        not_verified("the genuine ES256 signature is not 64 bytes (r || s): no twin can be formed from it")
    [attempt] = present(user.target, [("signature malleated: the ECDSA twin (r, n - s)", token.token(signature=twin))])
    ensure_genuine_token_works(user)
    if attempt.response.is_success:
        raise CheckFailed(TWIN_ACCEPTED.format(answer=f"GET /me answered HTTP {attempt.response.status_code}"))
    expect_all_refused([attempt])


@requirement("BSK-JWT-004")
def test_any_single_byte_change_to_the_signature_is_refused(user):
    token = _genuine(user)
    signature = token.signature
    expect(len(signature) > 0, "a signature", "an empty signature", "genuine access token")
    attempts = []

    @PROPERTY
    @given(index=st.integers(0, len(signature) - 1), xor=st.integers(1, 255))
    def change_one_byte(index: int, xor: int) -> None:
        forged = token.token(signature=changed_byte(signature, index, xor))
        attempts.extend(present(user.target, [(f"signature byte {index} xor {xor:#04x}", forged)]))

    change_one_byte()
    ensure_genuine_token_works(user)
    expect_all_refused(attempts)


def _raw_segment(text: str) -> str:
    return b64url(text.encode("utf-8"))


def _changed_claims(token: Jws) -> list[tuple[str, str]]:
    payload, header = token.payload, token.header
    changes: list[tuple[str, dict]] = []
    for name in ("sub", "org", "jti"):
        if isinstance(payload.get(name), str):
            changes.append((f"{name} changed", {**payload, name: payload[name] + "-x"}))
    for name, delta in (("exp", 3600), ("iat", -60), ("nbf", -60)):
        if isinstance(payload.get(name), (int, float)):
            changes.append((f"{name} moved by {delta:+d} s", {**payload, name: payload[name] + delta}))
    for name in ("typ", "tokenType"):
        if name in payload:
            changes.append((f"{name} changed to refresh", {**payload, name: "refresh"}))
    changes.append(("a claim added (admin: true)", {**payload, "admin": True}))
    forged = [(label, token.token(payload=changed)) for label, changed in changes]
    forged.append(("the same claims re-serialized with spaces",
                   f"{token.header_b64}.{_raw_segment(json.dumps(payload, indent=1))}.{token.signature_b64}"))
    other_typ = "at+jwt" if header.get("typ") != "at+jwt" else "JWT"
    forged.append(("header typ changed", token.token(header={**header, "typ": other_typ})))
    forged.append(("the same header re-serialized with spaces",
                   f"{_raw_segment(json.dumps(header, indent=1))}.{token.payload_b64}.{token.signature_b64}"))
    genuine = token.token()
    return [(f"{label}, genuine signature kept", text) for label, text in forged if text != genuine]


@requirement("BSK-JWT-005")
def test_changed_claims_under_the_genuine_signature_are_refused(user):
    attack(user, _changed_claims(_genuine(user)))


@requirement("BSK-JWT-005")
def test_any_single_byte_change_to_header_or_claims_is_refused(user):
    token = _genuine(user)
    header, payload = b64url_decode(token.header_b64), b64url_decode(token.payload_b64)
    attempts = []

    @PROPERTY
    @given(index=st.integers(0, len(header) + len(payload) - 1), xor=st.integers(1, 255))
    def change_one_byte(index: int, xor: int) -> None:
        if index < len(header):
            label = f"header byte {index} xor {xor:#04x}"
            forged = f"{b64url(changed_byte(header, index, xor))}.{token.payload_b64}.{token.signature_b64}"
        else:
            at = index - len(header)
            label = f"claims byte {at} xor {xor:#04x}"
            forged = f"{token.header_b64}.{b64url(changed_byte(payload, at, xor))}.{token.signature_b64}"
        attempts.extend(present(user.target, [(label, forged)]))

    change_one_byte()
    ensure_genuine_token_works(user)
    expect_all_refused(attempts)


@requirement("BSK-JWT-006")
def test_psychic_signature_is_refused(user):
    token = _genuine(user)
    other_claims = {**token.payload, "sub": f"{token.payload.get('sub', '')}-x"}
    if token.alg == "ES256":
        order = P256_ORDER.to_bytes(32, "big")
        forged = [
            ("r = s = 0 (64 zero bytes)", token.token(signature=bytes(64))),
            ("r = s = 0 over changed claims", token.token(payload=other_claims, signature=bytes(64))),
            ("r = s = n, the group order", token.token(signature=order + order)),
            ("r = s = 0, DER-encoded", token.token(signature=bytes.fromhex("3006020100020100"))),
        ]
    elif token.alg == "EdDSA":
        identity = b"\x01" + bytes(31)
        forged = [
            ("all-zero signature (R = 0, S = 0)", token.token(signature=bytes(64))),
            ("all-zero signature over changed claims", token.token(payload=other_claims, signature=bytes(64))),
            ("R = the identity point, S = 0", token.token(signature=identity + bytes(32))),
        ]
    else:
        not_verified(f"the token is signed with {token.alg!r}: the psychic signature is an ES256 (and EdDSA) attack")
    attack(user, forged)


@requirement("BSK-JWT-007")
def test_unknown_or_injected_kid_is_refused(user):
    token = _genuine(user)
    attacker = AttackerKey(token.alg)
    forged = []
    for vector in vectors("jwt")["kid_injection"]:
        header = {**token.header, "kid": vector["kid"]}
        forged.append((f"kid: {vector['label']}, signed with the attacker's key", attacker.sign(header, token.payload)))
        forged.append((f"kid: {vector['label']}, HS256 with an empty key", hs256(header, token.payload, b"")))
        if "hmacSecret" in vector:
            secret = vector["hmacSecret"].encode()
            forged.append((f"kid: {vector['label']}, HS256 with the selected string",
                           hs256(header, token.payload, secret)))
    attack(user, forged)


@requirement("BSK-JWT-008")
def test_hs256_with_an_empty_key_is_refused(user):
    token = _genuine(user)
    without_kid = {k: v for k, v in token.header.items() if k != "kid"}
    attack(user, [
        ("HS256 with an empty key, the genuine kid", hs256(token.header, token.payload, b"")),
        ("HS256 with an empty key, no kid", hs256(without_kid, token.payload, b"")),
    ])


@requirement("BSK-JWT-009")
def test_key_embedded_in_the_header_is_not_trusted(user):
    token = _genuine(user)
    attacker = AttackerKey(token.alg)
    jwk = attacker.jwk()
    certificate = x509.load_pem_x509_certificate(attacker.certificate_pem())
    der = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")
    attack(user, [
        ("embedded jwk, the attacker's kid",
         attacker.sign({**token.header, "kid": attacker.kid, "jwk": jwk}, token.payload)),
        ("embedded jwk, the genuine kid", attacker.sign({**token.header, "jwk": jwk}, token.payload)),
        ("embedded jwk, no kid", attacker.sign({"typ": "JWT", "jwk": jwk}, token.payload)),
        ("embedded x5c certificate", attacker.sign({"typ": "JWT", "x5c": [der]}, token.payload)),
    ])


def _key_url_attack(user):
    """Present tokens whose header sends the server to the listener; the
    attempts and the listener's hits, the genuine token checked afterwards."""
    token = _genuine(user)
    attacker = AttackerKey(token.alg)
    documents = {
        "/jwks.json": ("application/json", json.dumps(attacker.jwks()).encode()),
        "/cert.pem": ("application/x-pem-file", attacker.certificate_pem()),
    }
    with KeyUrlListener(documents) as listener:
        jku, x5u = listener.url("/jwks.json"), listener.url("/cert.pem")
        attempts = present(user.target, [
            ("jku at the harness's listener, the attacker's kid",
             attacker.sign({**token.header, "kid": attacker.kid, "jku": jku}, token.payload)),
            ("jku at the harness's listener, the genuine kid",
             attacker.sign({**token.header, "jku": jku}, token.payload)),
            ("x5u at the harness's listener", attacker.sign({"typ": "JWT", "x5u": x5u}, token.payload)),
        ])
        hits = listener.hits  # read once the target has answered: no waiting
    ensure_genuine_token_works(user)
    return attempts, hits


@requirement("BSK-JWT-010")
def test_key_named_by_url_is_not_trusted(user):
    attempts, _ = _key_url_attack(user)
    expect_all_refused(attempts)


@requirement("BSK-JWT-011")
def test_key_url_in_the_header_is_not_fetched(user, target):
    if not is_loopback(target.base_url):
        not_verified("the target is not on this machine: it cannot reach the harness's loopback listener, "
                     "so a fetch would not be seen")
    _, hits = _key_url_attack(user)
    expect(not hits, "no request to the jku/x5u URLs", f"{len(hits)} request(s) at the listener: {hits}",
           "after GET /me with tokens naming key URLs")


FUTURE_NBF_REMOTELY = (
    "a token with a future nbf that only nbf could refuse must be genuinely signed, and a remote target "
    "issues none: its clock only moves forward (/_test/clock advances), so every token it signed has "
    "nbf <= now; a forged token with a future nbf is refused by any signature check, whatever the target "
    "makes of nbf, so presenting one would pass a target that ignores nbf. Shown in-process, where the "
    "harness sets the reference server's clock back"
)


@requirement("BSK-JWT-012")
def test_token_with_a_future_nbf_is_refused(user, clock):
    """The genuine token, presented to a server whose clock reads 60 s before
    its nbf, as a node whose clock lags the issuer's would: only a signature
    the server accepts leaves nbf as the one thing that can refuse it."""
    if not user.target.in_process:
        not_verified(FUTURE_NBF_REMOTELY)
    token = _genuine(user)
    nbf = token.payload.get("nbf")
    if not isinstance(nbf, (int, float)) or isinstance(nbf, bool):
        not_verified("the server's access tokens carry no numeric nbf: no genuine token with a future nbf exists")
    with held_at(clock, nbf - 60):
        attempts = present(user.target, [("the genuine token, 60 s before its nbf (server clock set back)",
                                          user.access_token)])
    ensure_genuine_token_works(user)
    expect_all_refused(attempts)


@requirement("BSK-JWT-013")
def test_token_signed_by_an_unpublished_key_is_refused(user):
    token = _genuine(user)
    attacker = AttackerKey(token.alg)
    payload = token.payload
    without_kid = {k: v for k, v in token.header.items() if k != "kid"}
    forged = [
        ("the genuine claims signed by another key, the genuine kid", attacker.sign(token.header, payload)),
        ("the genuine claims signed by another key, no kid", attacker.sign(without_kid, payload)),
    ]
    issued = payload.get("iat")
    if isinstance(issued, (int, float)):
        year_long = {**payload, "exp": issued + 31_536_000}
        expired = {**payload, "iat": issued - 3600, "nbf": issued - 3600, "exp": issued - 2700}
        forged += [
            ("a year-long exp signed by another key", attacker.sign(token.header, year_long)),
            ("an expired exp signed by another key", attacker.sign(token.header, expired)),
        ]
    attack(user, forged)


@requirement("BSK-JWT-014")
def test_forged_claims_of_the_wrong_type_get_401(user):
    token = _genuine(user)
    attacker = AttackerKey(token.alg)
    forged = []
    for vector in vectors("jwt")["mistyped_claims"]:
        payload = {**token.payload, vector["claim"]: vector["value"]}
        forged.append((f"{vector['label']}, signed with the attacker's key", attacker.sign(token.header, payload)))
        if vector["claim"] == "exp":  # the claim a server may read before it checks anything else
            forged.append((f"{vector['label']}, alg none", unsigned({**token.header, "alg": "none"}, payload)))
    attack(user, forged)
