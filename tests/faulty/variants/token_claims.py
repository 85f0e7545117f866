"""Faults in what an access token says and who signs it (contract §4).

A claim the server issues is also a claim it reads back when it verifies, so
a variant that changes what is issued keeps verification agreeing with it
(`issue_access` plus the one reading step): the fault is the token's content,
not a server that refuses its own tokens. Faults in the JWKS are one
override of `jwks`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import uuid
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.tokens import ALGORITHM, SigningKey, TokenService, _b64url_decode, low_s
from tests.faulty.variant import Variant, swap

_SHARED_SECRET = b"bsk-reference-shared-secret-for-a-faulty-variant"


def _issue(service: TokenService, user_id: str, organization_id: str, **changes: Any) -> str:
    """The honest server's access token with some claims changed (None drops one)."""
    now = int(service.clock.now())
    claims = {"sub": user_id, "org": organization_id, "iat": now, "nbf": now, "exp": now + service.access_lifetime(),
              "jti": str(uuid.uuid4()), "typ": "access"}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    key = service.signing_key
    return low_s(jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid}))


class NoJti(TokenService):
    def issue_access(self, user_id, organization_id):
        return _issue(self, user_id, organization_id, jti=None)

    def check_claims(self, claims):
        claims.setdefault("jti", "")  # what the rest of verification reads
        super().check_claims(claims)


class NoTypeClaim(TokenService):
    def issue_access(self, user_id, organization_id):
        return _issue(self, user_id, organization_id, typ=None)

    def check_claims(self, claims):
        super().check_claims({**claims, "typ": claims.get("typ", "access")})


class OrgHoldsTheUserId(TokenService):
    """org carries the user's id; the organization is looked up from the user instead."""

    def issue_access(self, user_id, organization_id):
        return _issue(self, user_id, organization_id, org=user_id)

    def verify_access(self, token):
        claims = super().verify_access(token)
        row = self.store.query_one("SELECT organization_id FROM users WHERE id = ?", (claims.user_id,))
        organization = row["organization_id"] if row is not None else claims.organization_id
        return dataclasses.replace(claims, organization_id=organization)


class SymmetricTokens(TokenService):
    """HS256 under a shared secret instead of ES256 under a published key."""

    def issue_access(self, user_id, organization_id):
        now = int(self.clock.now())
        claims = {"sub": user_id, "org": organization_id, "iat": now, "nbf": now, "exp": now + self.access_lifetime(),
                  "jti": str(uuid.uuid4()), "typ": "access"}
        return jwt.encode(claims, _SHARED_SECRET, algorithm="HS256", headers={"kid": self.signing_key.kid})

    def verify_signature(self, token, header):
        signing_input, _, signature = token.rpartition(".")
        try:
            presented = _b64url_decode(signature)
            expected = hmac.new(_SHARED_SECRET, signing_input.encode("ascii"), hashlib.sha256).digest()
            if header.get("alg") != "HS256" or not hmac.compare_digest(presented, expected):
                raise errors.invalid_token("The access token's signature is invalid.")
            claims = json.loads(_b64url_decode(signing_input.split(".")[1]))
        except (ValueError, IndexError):
            raise errors.invalid_token("The access token is malformed.") from None
        if not isinstance(claims, dict):
            raise errors.invalid_token("The access token's payload is not a JSON object.")
        return claims


class JtiRepeats(TokenService):
    def issue_access(self, user_id, organization_id):
        return _issue(self, user_id, organization_id, jti="bsk-access")


class JwksPublishesAnotherKey(TokenService):
    def jwks(self):
        stranger = dataclasses.replace(SigningKey.generate(), kid=self.signing_key.kid)
        return {"keys": [stranger.jwk()]}


class JwksRenamesItsKeys(TokenService):
    def jwks(self):
        return {"keys": [{**key.jwk(), "kid": f"key-{n}"} for n, key in enumerate(self.keys, 1)]}


class JwksLeaksThePrivateKey(TokenService):
    def jwks(self):
        keys = []
        for key in self.keys:
            private = ECAlgorithm.to_jwk(key.private_key, as_dict=True)
            keys.append({**key.jwk(), "d": private["d"]})
        return {"keys": keys}


def _tokens(kind: type[TokenService]):
    return swap("tokens", lambda p: kind(p.store, p.clock))


VARIANTS = [
    Variant(
        name="access_token_without_jti",
        breaks="access token claims: jti",
        trips=("BSK-CLM-001", "BSK-CLM-006"),
        factory=_tokens(NoJti),
    ),
    Variant(
        name="access_token_without_type_claim",
        breaks="access token claims: typ or tokenType = access",
        trips=("BSK-CLM-002",),
        factory=_tokens(NoTypeClaim),
    ),
    Variant(
        name="access_token_org_is_the_user_id",
        breaks="access token claims: org (the caller's organization)",
        trips=("BSK-CLM-003",),
        factory=_tokens(OrgHoldsTheUserId),
    ),
    Variant(
        name="access_token_signed_hs256",
        breaks="a JWT signed with an asymmetric algorithm (ES256 or EdDSA), verifiable with the JWKS",
        trips=("BSK-CLM-004", "BSK-CLM-005"),
        factory=_tokens(SymmetricTokens),
    ),
    Variant(
        name="access_token_jti_repeats",
        breaks="access token claims: jti, a unique identifier",
        trips=("BSK-CLM-006",),
        factory=_tokens(JtiRepeats),
    ),
    Variant(
        name="jwks_publishes_another_key",
        breaks="the server publishes its public keys at GET /.well-known/jwks.json",
        trips=("BSK-CLM-005",),
        factory=_tokens(JwksPublishesAnotherKey),
    ),
    Variant(
        name="jwks_key_ids_do_not_match",
        breaks="a token's kid names one of the published keys",
        trips=("BSK-CLM-005",),
        factory=_tokens(JwksRenamesItsKeys),
    ),
    Variant(
        name="jwks_leaks_the_private_key",
        breaks="the server publishes its PUBLIC keys",
        trips=("BSK-CLM-007",),
        factory=_tokens(JwksLeaksThePrivateKey),
    ),
]
