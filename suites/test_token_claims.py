"""Contract §4 — What an access token says, and who signed it.

   "Access token: a JWT signed with an asymmetric algorithm (ES256 or EdDSA);
    the server publishes its public keys at GET /.well-known/jwks.json.
    Claims: sub, org, iat, exp = iat + 900, jti, typ or tokenType = access."

The harness reads the token without trusting it, then proves who signed it:
PyJWT verifies the signature under the JWKS key the token's kid names, so a
pass means the token really was signed by the published key. ES256 or EdDSA,
and typ or tokenType, are each conformant (§8). exp = iat + 900 is BSK-TOK-002.
"""

from __future__ import annotations

import jwt

from bsk_conformance.harness.api import expect, expect_json_object, expect_status, fail, requirement

from ._attacks import ASYMMETRIC, JWKS_PATH, published_keys
from ._jwt import claims, header, numeric_claim

LOGINS = 3  # further logins for the jti check, beside the fixture's and a refresh
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")  # RFC 7518 §6.2.2, §6.3.2, §6.4.1


@requirement("BSK-CLM-001")
def test_access_token_carries_sub_org_iat_exp_and_jti(user):
    payload = claims(user.access_token)
    for name in ("sub", "org", "jti"):
        value = payload.get(name)
        observed = f"{name} = {value!r}" if name in payload else f"no {name} (claims {sorted(payload)})"
        expect(isinstance(value, str) and value != "", f'a non-empty string "{name}" claim', observed,
               "access token claims")
    for name in ("iat", "exp"):
        numeric_claim(payload, name, "access token claims")


@requirement("BSK-CLM-002")
def test_access_token_type_claim_is_access(user):
    payload = claims(user.access_token)
    named = {name: payload[name] for name in ("typ", "tokenType") if name in payload}
    expect("access" in named.values(), 'typ or tokenType = "access"',
           ", ".join(f"{k} = {v!r}" for k, v in named.items()) or "neither claim", "access token claims")


@requirement("BSK-CLM-003")
def test_org_claim_is_the_callers_organization(user):
    org = claims(user.access_token).get("org")
    response = user.get("/me")
    expect_status(response, 200, context="GET /me with the access token")
    me = expect_json_object(response, "GET /me")
    expect(me.get("organizationId") == org, "org equal to /me's organizationId",
           f"org {org!r}, organizationId {me['organizationId']!r}" if "organizationId" in me
           else f"no organizationId (fields {sorted(me)})",
           "access token org claim against GET /me")


@requirement("BSK-CLM-004")
def test_access_token_is_signed_with_es256_or_eddsa(user):
    alg = header(user.access_token).get("alg")
    expect(alg in ASYMMETRIC, "header alg ES256 or EdDSA", repr(alg), "access token header")


@requirement("BSK-CLM-005")
def test_access_token_verifies_under_the_published_key_its_kid_names(user, target):
    token_header = header(user.access_token)
    alg = token_header.get("alg")
    keys = published_keys(target)
    kid = token_header.get("kid")
    context = f"access token against GET {JWKS_PATH}"
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
        expect(bool(keys), "its kid naming a published key", f"kid {kid!r} names none of them", context)
    if alg not in ASYMMETRIC:
        fail("a signature by a published ES256 or EdDSA key", f"alg {alg!r}", context)
    problems = []
    for jwk in keys:
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            # the signature only: the time claims are the target's to judge
            jwt.PyJWS().decode_complete(user.access_token, key=key, algorithms=[alg])
            return
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{jwk.get('kid', 'a key')}: {type(exc).__name__}")
    fail("a signature that verifies under the published key", "; ".join(problems), context)


@requirement("BSK-CLM-006")
def test_jti_is_unique_across_logins(user, two_factor_registry, alice, target):
    tokens = [("the fixture's login", user.access_token)]
    for n in range(LOGINS):
        session = two_factor_registry.login(alice)
        tokens.append((f"login {n + 2}", session.access_token))
        session.logout()
    response = target.refresh(user.refresh_token)
    if response.status_code == 200 and isinstance(response.json().get("accessToken"), str):
        tokens.append(("a refresh", response.json()["accessToken"]))
        user.refresh_token = response.json().get("refreshToken", user.refresh_token)
    seen: dict[str, str] = {}
    for where, token in tokens:
        jti = claims(token).get("jti")
        expect(isinstance(jti, str) and jti != "", 'a non-empty string "jti" claim', repr(jti),
               f"access token of {where}")
        expect(jti not in seen, "a jti no other token of the run carries",
               f"the jti of {seen.get(jti)} again", f"access token of {where}")
        seen[jti] = where


@requirement("BSK-CLM-007")
def test_jwks_publishes_public_keys_only(target):
    for key in published_keys(target):
        where = f"JWK {key.get('kid', '(no kid)')} of GET {JWKS_PATH}"
        leaked = [name for name in PRIVATE_MEMBERS if name in key]
        expect(not leaked, "public members only", f"private or symmetric members {leaked}", where)
        expect(key.get("kty") != "oct", "an asymmetric key (kty EC or OKP)", 'kty "oct" (a symmetric key)', where)
