"""Access tokens (contract §4): shape, lifetime, and strict verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bsk_conformance.reference_server.tokens import _P256_ORDER, SigningKey, low_s
from bsk_conformance.reference_server.verified_tokens import VerifiedToken, VerifiedTokens

from .conftest import ALICE, T0, Api


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[1]))


def header_of(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[0]))


def me(api: Api, token: str) -> Any:
    return api.http.get("/me", headers={"Authorization": f"Bearer {token}"})


def forge(api: Api, claims: dict[str, Any], **header: Any) -> str:
    """A token signed with the server's own key: only the claims under test are wrong."""
    key = api.parts.tokens.signing_key
    return low_s(jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, **header}))


def good_claims(**changes: Any) -> dict[str, Any]:
    claims = {"sub": "usr_alice", "org": "org_acme", "iat": int(T0), "nbf": int(T0),
              "exp": int(T0) + 900, "jti": "j-1", "typ": "access"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="bsk", error="invalid_token"'


class TestIssued:
    def test_login_answers_the_token_pair_uncached(self, api: Api) -> None:
        response = api.login()
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json()
        assert body["tokenType"] == "Bearer"
        assert body["expiresIn"] == 900 and body["refreshExpiresIn"] == 604_800
        assert body["refreshToken"].startswith("rt_") and len(body["refreshToken"]) >= 46

    def test_claims_are_those_of_contract_4(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        header, claims = header_of(token), claims_of(token)
        assert header["alg"] == "ES256" and header["kid"] == api.parts.tokens.signing_key.kid
        assert claims["sub"] == "usr_alice" and claims["org"] == "org_acme"
        assert claims["iat"] == claims["nbf"] == int(T0)
        assert claims["exp"] - claims["iat"] == 900
        assert claims["typ"] == "access"
        assert claims["jti"] != claims_of(api.tokens()["accessToken"])["jti"]

    def test_signature_verifies_with_the_published_jwks(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        jwks = api.http.get("/.well-known/jwks.json").json()
        (key,) = jwks["keys"]
        assert key["kid"] == header_of(token)["kid"] and key["alg"] == "ES256" and "d" not in key
        public = jwt.PyJWK(key).key
        # The token is from the frozen future: let PyJWT check the signature only.
        claims = jwt.decode(token, public, algorithms=["ES256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        assert claims["sub"] == "usr_alice"

    def test_signatures_are_low_s_so_none_can_be_malleated(self, api: Api) -> None:
        for _ in range(8):
            signature = unb64(api.tokens()["accessToken"].rsplit(".", 1)[1])
            assert int.from_bytes(signature[32:], "big") <= _P256_ORDER // 2


class TestLifetime:
    def test_valid_at_899_seconds(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        api.clock.advance(899)
        assert me(api, token).status_code == 200

    def test_refused_at_900_seconds(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        api.clock.advance(900)
        assert_refused(me(api, token))

    def test_a_future_nbf_is_refused_until_it_arrives(self, api: Api) -> None:
        token = forge(api, good_claims(nbf=int(T0) + 60))
        assert_refused(me(api, token))
        api.clock.advance(60)
        assert me(api, token).status_code == 200


class TestRejected:
    """Every forgery of contract §4 is refused with 401 invalid_token."""

    def test_alg_none(self, api: Api) -> None:
        header = {"alg": "none", "typ": "JWT", "kid": api.parts.tokens.signing_key.kid}
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims()).encode())}."
        assert_refused(me(api, token))

    @pytest.mark.parametrize("key_format", ["pem", "jwk"])
    def test_hs256_signed_with_the_public_key(self, api: Api, key_format: str) -> None:
        public = api.parts.tokens.signing_key.public_key
        if key_format == "pem":
            secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        else:
            secret = json.dumps(api.http.get("/.well-known/jwks.json").json()["keys"][0]).encode()
        header = {"alg": "HS256", "typ": "JWT", "kid": api.parts.tokens.signing_key.kid}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims()).encode())}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_refused(me(api, f"{signing_input}.{b64(signature)}"))

    def test_unknown_kid(self, api: Api) -> None:
        token = forge(api, good_claims(), kid="someone-elses-key")
        assert_refused(me(api, token))

    def test_missing_kid(self, api: Api) -> None:
        key = api.parts.tokens.signing_key
        assert_refused(me(api, low_s(jwt.encode(good_claims(), key.private_key, algorithm="ES256"))))

    def test_stripped_signature(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        assert_refused(me(api, token.rsplit(".", 1)[0] + "."))

    def test_altered_signature(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        signing_input, signature = token.rsplit(".", 1)
        raw = bytearray(unb64(signature))
        raw[10] ^= 0x01
        assert_refused(me(api, f"{signing_input}.{b64(bytes(raw))}"))

    def test_malleated_high_s_signature(self, api: Api) -> None:
        """(r, n - s) verifies mathematically, but its bytes differ: contract §8 calls it altered."""
        token = api.tokens()["accessToken"]
        signing_input, signature = token.rsplit(".", 1)
        raw = unb64(signature)
        s = int.from_bytes(raw[32:], "big")
        twin = raw[:32] + (_P256_ORDER - s).to_bytes(32, "big")
        assert_refused(me(api, f"{signing_input}.{b64(twin)}"))

    def test_altered_claims(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        header, _, signature = token.split(".")
        payload = b64(json.dumps({**claims_of(token), "org": "org_globex"}).encode())
        assert_refused(me(api, f"{header}.{payload}.{signature}"))

    def test_signed_by_another_key_under_our_kid(self, api: Api) -> None:
        other = ec.generate_private_key(ec.SECP256R1())
        token = jwt.encode(good_claims(), other, algorithm="ES256",
                           headers={"kid": api.parts.tokens.signing_key.kid})
        assert_refused(me(api, token))

    def test_an_embedded_jwk_is_not_trusted(self, api: Api) -> None:
        other = ec.generate_private_key(ec.SECP256R1())
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(other.public_key(), as_dict=True)
        token = jwt.encode(good_claims(), other, algorithm="ES256", headers={"jwk": jwk, "kid": "attacker"})
        assert_refused(me(api, token))

    def test_a_jku_header_is_refused_not_fetched(self, api: Api) -> None:
        token = forge(api, good_claims(), jku="http://127.0.0.1:9/jwks.json")
        assert_refused(me(api, token))

    @pytest.mark.parametrize("typ", ["refresh", "id", None])
    def test_wrong_or_missing_typ(self, api: Api, typ: str | None) -> None:
        assert_refused(me(api, forge(api, good_claims(typ=typ))))

    @pytest.mark.parametrize(
        "changes",
        [{"exp": str(int(T0) + 900)}, {"exp": float(T0) + 900.5}, {"exp": True}, {"sub": 7},
         {"org": None}, {"iat": None}, {"jti": None}, {"nbf": "0"}],
        ids=["exp-string", "exp-float", "exp-bool", "sub-int", "no-org", "no-iat", "no-jti", "nbf-string"],
    )
    def test_missing_or_mistyped_claims(self, api: Api, changes: dict[str, Any]) -> None:
        assert_refused(me(api, forge(api, good_claims(**changes))))

    def test_an_expired_token_is_refused_even_when_freshly_signed(self, api: Api) -> None:
        assert_refused(me(api, forge(api, good_claims(exp=int(T0)))))

    def test_a_forged_token_is_accepted_when_nothing_is_wrong(self, api: Api) -> None:
        """The control for the tests above: forge() itself makes valid tokens."""
        assert me(api, forge(api, good_claims())).status_code == 200

    def test_a_token_for_another_organization_than_its_user(self, api: Api) -> None:
        assert_refused(me(api, forge(api, good_claims(org="org_globex"))))

    @pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "e30.e30.", "...", "ey" * 200, "é.é.é"])
    def test_garbage(self, api: Api, garbage: str) -> None:
        header = f"Bearer {garbage}".encode()  # raw bytes: httpx would refuse non-ASCII text
        assert_refused(api.http.get("/me", headers={"Authorization": header}))

    def test_a_refresh_token_is_not_a_bearer_token(self, api: Api) -> None:
        assert_refused(me(api, api.tokens()["refreshToken"]))


def test_jwks_is_public_and_stable(api: Api) -> None:
    first = api.http.get("/.well-known/jwks.json")
    assert first.status_code == 200
    assert first.json() == api.http.get("/.well-known/jwks.json").json()


def test_user_identity_at_me(api: Api) -> None:
    body = api.http.get("/me", headers=api.bearer()).json()
    assert body == {"type": "user", "userId": "usr_alice", "email": ALICE["email"],
                    "organizationId": "org_acme", "twoFactorEnabled": False}


class TestRememberedVerification:
    """A token whose signature verified once is remembered (reference_server/verified_tokens.py);
    each test uses a token once so that it is remembered, then shows the rule still holds."""

    def remembered(self, api: Api, token: str) -> str:
        assert me(api, token).status_code in (200, 401)
        assert api.parts.tokens.verified.get(token) is not None, "the token should be remembered by now"
        return token

    def test_a_remembered_token_still_expires(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        assert me(api, self.remembered(api, token)).status_code == 200
        api.clock.advance(900)
        assert_refused(me(api, token))

    def test_a_remembered_token_with_a_future_nbf_waits_for_it(self, api: Api) -> None:
        token = self.remembered(api, forge(api, good_claims(nbf=int(T0) + 60)))
        assert_refused(me(api, token))
        api.clock.advance(60)
        assert me(api, token).status_code == 200

    def test_a_remembered_refresh_typed_token_is_still_no_access_token(self, api: Api) -> None:
        token = self.remembered(api, forge(api, good_claims(typ="refresh")))
        assert_refused(me(api, token))

    def test_a_remembered_token_whose_key_was_rotated_out_is_refused(self, api: Api) -> None:
        token = self.remembered(api, api.tokens()["accessToken"])
        api.parts.tokens.keys = [SigningKey.generate()]
        assert_refused(me(api, token))

    def test_a_remembered_token_of_a_user_who_left_the_organization_is_refused(self, api: Api) -> None:
        """The user is looked up on every request, not remembered with the signature."""
        token = self.remembered(api, api.tokens()["accessToken"])
        api.parts.store.execute("UPDATE users SET organization_id = ? WHERE id = ?", ("org_globex", "usr_alice"))
        assert_refused(me(api, token))

    def test_the_high_s_twin_of_a_remembered_token_is_refused(self, api: Api) -> None:
        token = self.remembered(api, api.tokens()["accessToken"])
        signing_input, signature = token.rsplit(".", 1)
        raw = unb64(signature)
        twin = raw[:32] + (_P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
        assert_refused(me(api, f"{signing_input}.{b64(twin)}"))

    def test_claims_handed_out_are_fresh_copies(self, api: Api) -> None:
        """A variant may change the claims it is given (tests/faulty: NoJti): the memory must not change."""
        tokens = api.parts.tokens
        token = self.remembered(api, api.tokens()["accessToken"])
        first = tokens.verify_signature(token, tokens.read_header(token))
        first["sub"] = "usr_mallory"
        tokens.read_header(token)["alg"] = "none"
        assert tokens.verify_signature(token, tokens.read_header(token))["sub"] == "usr_alice"

    def test_forged_tokens_are_not_remembered(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        header, payload, _ = token.split(".")
        forged = f"{header}.{payload}.{b64(bytes(64))}"
        assert_refused(me(api, forged))
        assert api.parts.tokens.verified.get(forged) is None


def test_the_verified_token_memory_is_bounded_and_least_recently_used_first() -> None:
    memory = VerifiedTokens(size=2)
    entries = {name: VerifiedToken(key=name, header_json=b"{}", payload_json=b"{}") for name in "abc"}
    memory.put("a", entries["a"])
    memory.put("b", entries["b"])
    assert memory.get("a") is entries["a"]  # a is now the most recently used
    memory.put("c", entries["c"])
    assert len(memory) == 2
    assert memory.get("b") is None and memory.get("a") is entries["a"] and memory.get("c") is entries["c"]
