"""Access tokens (ES256 JWTs) and refresh tokens (opaque, rotating), contract §4.

Access tokens are verified strictly and entirely by this module: PyJWT only
checks the signature (``algorithms=["ES256"]``, key chosen by ``kid`` from
our own keys); the time claims are checked here against the app's clock, so
PyJWT never reads the system time and a moved clock moves expiry. The
outcome of the signature check alone is remembered per exact token string
(:mod:`reference_server.verified_tokens`); every other step runs on every
request.

The signature algorithm is a seam (:class:`SignatureAlgorithm`): ES256 here,
and a deployment signing with EdDSA swaps only ``TokenService.algorithm``.

Refresh tokens are random strings stored only as SHA-256 digests. Each
belongs to a family opened by one login; the family lives 604 800 s from
that login however often it rotates. Each token is good for one rotation,
enforced by a conditional ``UPDATE``; presenting a rotated token again
revokes the family (RFC 9700 §4.14.2: the legitimate client and an attacker
now share it, and the server cannot tell which is which).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from . import errors
from .clock import Clock
from .store import Store
from .verified_tokens import VerifiedToken, VerifiedTokens

ALGORITHM = "ES256"
ACCESS_TOKEN_LIFETIME = 900
REFRESH_TOKEN_LIFETIME = 604_800
REFRESH_TOKEN_PREFIX = "rt_"

# Order of the P-256 group. ECDSA signatures are malleable: (r, s) and
# (r, n - s) both verify. We only issue and accept the low-s form, so no
# second valid encoding of a token's signature exists (contract §8: an
# altered signature is one whose decoded bytes differ, and must fail).
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def low_s(token: str) -> str:
    """Rewrite an ES256 token's signature into its low-s form (see ``_P256_ORDER``)."""
    signing_input, signature = token.rsplit(".", 1)
    raw = _b64url_decode(signature)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    if s > _P256_ORDER // 2:
        raw = r + (_P256_ORDER - s).to_bytes(32, "big")
    return f"{signing_input}.{_b64url(raw)}"


class SignatureAlgorithm:
    """The JWS algorithm access tokens are signed with: what ``TokenService`` needs to know of it.

    A subclass names the algorithm, its key type and the members of its
    public JWK that the RFC 7638 thumbprint covers, and generates keys.
    """

    #: The JWS ``alg``: the only one verification accepts, whatever a token's header says.
    name: ClassVar[str]
    #: The class of its private keys; stored keys of another class are not this algorithm's.
    key_type: ClassVar[type]
    #: The required members of its public JWK (RFC 7638 §3.2), which the ``kid`` is a digest of.
    thumbprint_members: ClassVar[tuple[str, ...]]

    def generate(self) -> PrivateKeyTypes:
        raise NotImplementedError

    def public_jwk(self, public_key: PublicKeyTypes) -> dict[str, Any]:
        return dict(jwt.get_algorithm_by_name(self.name).to_jwk(public_key, as_dict=True))

    def canonical(self, token: str) -> str:
        """The one encoding of a freshly signed token that we issue."""
        return token

    def acceptable(self, signature: bytes) -> bool:
        """Whether a signature the library verified is in the form we issue."""
        return True


class ES256(SignatureAlgorithm):
    """ECDSA on P-256 with SHA-256, in the low-s form only (see ``_P256_ORDER``)."""

    name = ALGORITHM
    key_type = ec.EllipticCurvePrivateKey
    thumbprint_members = ("crv", "kty", "x", "y")

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def canonical(self, token: str) -> str:
        return low_s(token)

    def acceptable(self, signature: bytes) -> bool:
        return int.from_bytes(signature[32:], "big") <= _P256_ORDER // 2


#: The honest server's algorithm.
SIGNED_WITH_ES256 = ES256()

@dataclass(frozen=True)
class SigningKey:
    """One key pair of ``algorithm``, named by its RFC 7638 thumbprint."""

    kid: str
    private_key: Any
    algorithm: SignatureAlgorithm = SIGNED_WITH_ES256

    @classmethod
    def generate(cls, algorithm: SignatureAlgorithm = SIGNED_WITH_ES256) -> SigningKey:
        return cls.from_private_key(algorithm.generate(), algorithm)

    @classmethod
    def from_private_key(cls, private_key: Any, algorithm: SignatureAlgorithm = SIGNED_WITH_ES256) -> SigningKey:
        public = algorithm.public_jwk(private_key.public_key())
        members = {name: public[name] for name in algorithm.thumbprint_members}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        return cls(_b64url(hashlib.sha256(canonical).digest()), private_key, algorithm)

    @cached_property
    def public_key(self) -> Any:
        # Made once: verification compares the key a token names with the
        # one a remembered verification used (see TokenService.verify_signature).
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        key = self.algorithm.public_jwk(self.public_key)
        key.update(kid=self.kid, use="sig", alg=self.algorithm.name)
        return key

    def pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: str
    organization_id: str
    token_id: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class RefreshRecord:
    """A stored refresh token with its family."""

    digest: str
    family_id: str
    user_id: str
    organization_id: str
    issued_at: float
    family_started_at: float
    family_revoked_at: float | None
    used_at: float | None


@dataclass(frozen=True)
class TokenPair:
    """The body of a login or refresh response."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int

    def body(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "tokenType": "Bearer",
            "expiresIn": self.expires_in,
            "refreshExpiresIn": self.refresh_expires_in,
        }


class TokenService:
    """Issues, verifies, rotates and revokes tokens.

    Verification is a pipeline of small methods (``read_header``,
    ``verify_signature`` with ``key_for``, ``check_claims``, ``check_expiry``,
    ``check_not_before``), and so is rotation (``refresh``, ``family_expired``,
    ``rotate``, ``claim_refresh``, ``revoke_family``), so a faulty variant
    can break exactly one step by overriding one method.
    """

    #: The claim that says what a token is (contract §4: ``typ`` or ``tokenType``).
    TYPE_CLAIM = "typ"
    #: How access tokens are signed (contract §4: ES256 or EdDSA).
    algorithm: SignatureAlgorithm = SIGNED_WITH_ES256

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.keys = self._load_or_create_keys()
        self.signing_key = self.keys[-1]
        #: Signature checks already passed, by exact token string (see ``verify_signature``).
        self.verified = VerifiedTokens()

    # -- lifetimes -------------------------------------------------------

    def access_lifetime(self) -> int:
        return ACCESS_TOKEN_LIFETIME

    def refresh_lifetime(self) -> int:
        return REFRESH_TOKEN_LIFETIME

    # -- signing keys ----------------------------------------------------

    def _load_or_create_keys(self) -> list[SigningKey]:
        """The stored keys, oldest first; a first start creates and stores one.

        Keeping the private key in the database is what lets a restart on
        the same ``--database`` keep every issued token valid. (A production
        vendor would keep it in a KMS; this is a reference server.) Keys of
        another algorithm are not ours: a variant signing otherwise shares
        the database with the honest service ``Parts.build`` made first.
        """
        rows = self.store.query("SELECT private_key_pem FROM signing_keys ORDER BY created_at, kid")
        keys = []
        for row in rows:
            private = serialization.load_pem_private_key(row["private_key_pem"].encode(), password=None)
            if isinstance(private, self.algorithm.key_type):
                keys.append(SigningKey.from_private_key(private, self.algorithm))
        if not keys:
            key = SigningKey.generate(self.algorithm)
            self.store.execute(
                "INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES (?, ?, ?)",
                (key.kid, key.pem(), self.clock.now()),
            )
            keys.append(key)
        return keys

    def jwks(self) -> dict[str, Any]:
        """The public keys, for ``GET /.well-known/jwks.json``."""
        return {"keys": [key.jwk() for key in self.keys]}

    # -- access tokens ---------------------------------------------------

    def issue_access(self, user_id: str, organization_id: str) -> str:
        return self.sign(self.access_claims(user_id, organization_id))

    def access_claims(self, user_id: str, organization_id: str) -> dict[str, Any]:
        now = int(self.clock.now())
        return {
            "sub": user_id,
            "org": organization_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.access_lifetime(),
            "jti": str(uuid.uuid4()),
            self.TYPE_CLAIM: "access",
        }

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS of ``claims`` under the current signing key, in the one form we issue (low-s ES256)."""
        token = jwt.encode(claims, self.signing_key.private_key, algorithm=self.algorithm.name,
                           headers={"kid": self.signing_key.kid})
        return self.algorithm.canonical(token)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token, or 401 ``invalid_token``."""
        header = self.read_header(token)
        claims = self.verify_signature(token, header)
        self.check_claims(claims)
        now = self.clock.now()
        self.check_expiry(claims, now)
        self.check_not_before(claims, now)
        return AccessClaims(claims["sub"], claims["org"], claims["jti"], claims["iat"], claims["exp"])

    def read_header(self, token: str) -> dict[str, Any]:
        """The unverified JOSE header: only used to pick one of our keys, never trusted beyond that.

        A token whose signature verified before was parsed then: its header
        is taken from that parse (the same bytes), and judged again below.
        """
        remembered = self.verified.get(token)
        if remembered is not None:
            header: dict[str, Any] = json.loads(remembered.header_json)
            return self._acceptable_header(header)
        self.check_encoding(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise errors.invalid_token("The access token is malformed.") from None
        return self._acceptable_header(header)

    def check_encoding(self, token: str) -> None:
        """Compact JWS parts are BASE64URL without padding (RFC 7515 §2, §7.1).

        PyJWT decodes a segment with '=' appended to the same bytes, so a
        padded copy of a genuine token would verify: refused here instead,
        as not a token we issued (BSK-NEAR-003).
        """
        if "=" in token:
            raise errors.invalid_token("The access token is not base64url without padding.")

    def _acceptable_header(self, header: dict[str, Any]) -> dict[str, Any]:
        # Never honoured, so never accepted: no jku/x5u fetching, no embedded
        # jwk, no unencoded payloads or critical extensions.
        if any(name in header for name in ("jku", "x5u", "jwk", "x5c", "crit", "b64")):
            raise errors.invalid_token("The access token's header is not acceptable.")
        return header

    def verify_signature(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        """Check the signature under our key named by ``kid``; return the payload.

        The algorithm is ours to choose, not the token's: anything but
        ``self.algorithm`` (``none``, HS256 "signed" with our public key,
        ...) is refused.

        The check itself is remembered for the exact token string and the
        key it verified under: the algorithm and the key (still ours, not
        rotated out) are judged on every request, the cryptography only once.
        """
        algorithm = self.algorithm.name
        if header.get("alg") != algorithm:
            raise errors.invalid_token(f"The access token is not signed with {algorithm}.")
        key = self.key_for(header)
        remembered = self.verified.get(token)
        if remembered is not None and (remembered.key is key or remembered.key == key):
            payload: dict[str, Any] = json.loads(remembered.payload_json)
            return payload
        try:
            verified = jwt.PyJWS().decode_complete(token, key=key, algorithms=[algorithm])
            if not self.algorithm.acceptable(verified["signature"]):
                raise jwt.InvalidSignatureError("not the signature form we issue (high-s ES256)")
            claims = json.loads(verified["payload"])
        except (jwt.PyJWTError, ValueError):
            raise errors.invalid_token("The access token's signature is invalid.") from None
        if not isinstance(claims, dict):
            raise errors.invalid_token("The access token's payload is not a JSON object.")
        header_json = _b64url_decode(token.split(".", 1)[0])
        self.verified.put(token, VerifiedToken(key, header_json, verified["payload"]))
        return claims

    def key_for(self, header: dict[str, Any]) -> Any:
        """Our public key named by the header's ``kid``; an unknown ``kid`` is refused."""
        kid = header.get("kid")
        for key in self.keys:
            if isinstance(kid, str) and secrets.compare_digest(key.kid, kid):
                return key.public_key
        raise errors.invalid_token("The access token names an unknown signing key.")

    def check_claims(self, claims: dict[str, Any]) -> None:
        """Every claim we issue is present, of the right type, and says ``typ: access``."""
        strings = ("sub", "org", "jti")
        numbers = ("iat", "nbf", "exp")
        if not all(isinstance(claims.get(name), str) for name in strings) or not all(
            _is_int(claims.get(name)) for name in numbers
        ):
            raise errors.invalid_token("The access token's claims are missing or mistyped.")
        if claims.get(self.TYPE_CLAIM) != "access":
            raise errors.invalid_token("This is not an access token.")

    def check_expiry(self, claims: dict[str, Any], now: float) -> None:
        """Valid while ``now < exp`` (RFC 7519 §4.1.4: not on or after ``exp``)."""
        if now >= claims["exp"]:
            raise errors.invalid_token("The access token has expired.")

    def check_not_before(self, claims: dict[str, Any], now: float) -> None:
        if now < claims["nbf"]:
            raise errors.invalid_token("The access token is not valid yet.")

    # -- refresh tokens --------------------------------------------------

    @staticmethod
    def digest(refresh_token: str) -> str:
        """SHA-256: refresh tokens carry 256 random bits, so no salt or slow hash is needed."""
        return hashlib.sha256(refresh_token.encode("utf-8", "surrogatepass")).hexdigest()

    def issue_pair(self, user_id: str, organization_id: str) -> TokenPair:
        """A login: a new access token and the first refresh token of a new family."""
        now = self.clock.now()
        family_id = str(uuid.uuid4())
        self.store.execute(
            "INSERT INTO refresh_families (id, user_id, started_at) VALUES (?, ?, ?)", (family_id, user_id, now)
        )
        return self._pair(user_id, organization_id, family_id, family_started_at=now, now=now)

    def _pair(
        self, user_id: str, organization_id: str, family_id: str, *, family_started_at: float, now: float
    ) -> TokenPair:
        refresh_token = self.new_refresh_token(user_id, family_id, family_started_at + self.refresh_lifetime())
        self.store.execute(
            "INSERT INTO refresh_tokens (digest, family_id, issued_at) VALUES (?, ?, ?)",
            (self.digest(refresh_token), family_id, now),
        )
        remaining = math.ceil(family_started_at + self.refresh_lifetime() - now)
        return TokenPair(
            access_token=self.issue_access(user_id, organization_id),
            refresh_token=refresh_token,
            expires_in=self.access_lifetime(),
            refresh_expires_in=remaining,
        )

    def new_refresh_token(self, user_id: str, family_id: str, expires_at: float) -> str:
        """A fresh refresh token: opaque, 256 random bits (contract §4 lets it be a JWT too)."""
        return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)

    def find_refresh(self, refresh_token: str) -> RefreshRecord | None:
        row = self.store.query_one(
            """
            SELECT t.digest, t.family_id, t.issued_at, t.used_at,
                   f.user_id, f.started_at, f.revoked_at, u.organization_id
            FROM refresh_tokens t
            JOIN refresh_families f ON f.id = t.family_id
            JOIN users u ON u.id = f.user_id
            WHERE t.digest = ?
            """,
            (self.digest(refresh_token),),
        )
        if row is None:
            return None
        return RefreshRecord(
            digest=row["digest"],
            family_id=row["family_id"],
            user_id=row["user_id"],
            organization_id=row["organization_id"],
            issued_at=row["issued_at"],
            family_started_at=row["started_at"],
            family_revoked_at=row["revoked_at"],
            used_at=row["used_at"],
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        """Spend ``refresh_token`` and return a new pair in the same family."""
        now = self.clock.now()
        record = self.find_refresh(refresh_token)
        if record is None or record.family_revoked_at is not None:
            raise errors.invalid_refresh_token()
        if self.family_expired(record, now):
            raise errors.invalid_refresh_token()
        return self.rotate(record, refresh_token, now)

    def rotate(self, record: RefreshRecord, refresh_token: str, now: float) -> TokenPair:
        """Mark the presented token used and issue its successor; a second use revokes the family."""
        if not self.claim_refresh(record, now):
            self.revoke_family(record.family_id)
            raise errors.invalid_refresh_token()
        return self._pair(
            record.user_id, record.organization_id, record.family_id,
            family_started_at=record.family_started_at, now=now,
        )

    def family_expired(self, record: RefreshRecord, now: float) -> bool:
        """Absolute lifetime from the family's login; rotation never extends it."""
        return now >= record.family_started_at + self.refresh_lifetime()

    def claim_refresh(self, record: RefreshRecord, now: float) -> bool:
        """Mark the token used, atomically: of two racing refreshes only one gets True."""
        changed = self.store.execute(
            "UPDATE refresh_tokens SET used_at = ? WHERE digest = ? AND used_at IS NULL", (now, record.digest)
        )
        return changed == 1

    def revoke_family(self, family_id: str) -> None:
        self.store.execute(
            "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self.clock.now(), family_id),
        )

    def logout(self, user_id: str, refresh_token: str) -> None:
        """Revoke the family of ``refresh_token`` if it is this user's.

        Unknown or foreign tokens are ignored rather than reported, as in
        RFC 7009 §2.2: logout is idempotent and reveals nothing.
        """
        record = self.find_refresh(refresh_token)
        if record is not None and record.user_id == user_id:
            self.revoke_family(record.family_id)
