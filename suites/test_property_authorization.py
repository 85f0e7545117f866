"""Contract §1, §3, §4, §8 — Properties the caller must not set (OWASP API3:2023).

   "Extra fields in any body" (§8 latitude); "Missing or mistyped fields anywhere are 400
    invalid_request" (§8); "GET /projects: only the caller's organization"; "Another
    organization's objects answer 404 to every method"; "key properties: scopes (restrict
    endpoints), per-key rate limit, optional expiration, scoped to a single organization";
   "API key: ... from a CSPRNG"; "if the user has 2FA enabled, login must include twoFactorCode".

The harness otherwise sends only the fields the contract names. Here each
request carries one more, naming a property the caller must not set (the
object's organization or owner, its id or createdAt, the key's secret or
prefix, scopes, a type, 2FA state, a limit or expiry under another name): the
rows of fixtures/attack-vectors/extra-fields.json, one request per row.
Whether the target ignores the field or refuses the body is its choice (§8):
neither status is judged. What is judged is the object, read back through the
contract from both accounts: where it lives, who it answers for, what it may
do. Every object made is deleted again, by whichever account can see it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bsk_conformance.harness.api import (
    SCOPES,
    PreconditionFailed,
    Resources,
    UserSession,
    describe,
    expect,
    format_rfc3339,
    parse_rfc3339,
    requirement,
)

from ._extra_fields import extra_fields, with_extra
from ._keys import random_secret

PROJECT_OWNER = extra_fields("projectOwner")
KEY_OWNER = extra_fields("keyOwner")
KEY_MATERIAL = extra_fields("keyMaterial")
SERVER_STAMPS = extra_fields("serverStamps")
KEY_LIMITS = extra_fields("keyLimits")
KEY_SCOPES = extra_fields("keyScopes")
PRINCIPAL = extra_fields("principal")
TWO_FACTOR_STATE = extra_fields("twoFactorState")

LONG_AGO = "2001-09-09T01:46:40Z"
DEFAULT_RATE_LIMIT = 60
STAMP_SLACK = 86_400.0  # createdAt must be today's, give or take a day: the value sent is 25 years off


def _me(session_or_target: Any, context: str, **auth: Any) -> dict:
    response = session_or_target.get("/me", **auth)
    if response.status_code != 200:
        raise PreconditionFailed(f"{context}: GET /me did not answer 200", response)
    body = response.json()
    if not isinstance(body, dict):
        raise PreconditionFailed(f"{context}: GET /me did not answer a JSON object", response)
    return body


@pytest.fixture
def own(user: UserSession) -> dict:
    """alice's /me: her userId, email and organizationId."""
    return _me(user, "alice's identity")


@pytest.fixture
def known(request: pytest.FixtureRequest, target, clock) -> dict[str, Any]:
    """What the placeholders of extra-fields.json stand for in this check. The
    other account's ids only for a check that asks for `other_user` (its rows
    name them); the others run without a second organization."""
    other, other_email = {}, None
    if "other_user" in request.fixturenames:
        other_user = request.getfixturevalue("other_user")
        other, other_email = _me(other_user, "bob's identity"), other_user.account.email
    chosen = random_secret(40)
    known = {
        "$otherOrganization": other.get("organizationId"),
        "$otherUser": other.get("userId"),
        "$otherEmail": other_email,
        "$chosenKey": target.profile.key_prefix + chosen,
        "$chosenSecret": chosen,
        "$chosenPrefix": target.profile.key_prefix + chosen[:8],
        "$chosenId": f"bsk-conformance-{secrets.token_hex(12)}",
        "$longAgo": LONG_AGO,
        "$pastTime": format_rfc3339(clock.now() - 3600),
        "$allScopes": list(SCOPES),
    }
    for name in ("$chosenKey", "$chosenSecret"):
        target.secret(known[name], "api-key")
    return known


def _body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _names(listing: httpx.Response) -> set[str]:
    """The names in a `{data: [...]}` listing (empty when it is not one)."""
    items = _body(listing).get("data")
    return {item.get("name") for item in items if isinstance(item, dict)} if isinstance(items, list) else set()


def _expect_none(problems: list[str], wanted: str, context: str) -> None:
    expect(not problems, wanted, "; ".join(problems), context)


def _created(response: httpx.Response) -> dict | None:
    """The created object of a 201 with a string id; None for any refusal."""
    if response.status_code != 201:
        return None
    body = _body(response)
    return body if isinstance(body.get("id"), str) else None


# -- where an object lives ----------------------------------------------------------------------


@requirement("BSK-PROP-001")
def test_an_extra_organization_field_never_places_a_project_in_another_organization(
    user, other_user, resources: Resources, target, own, known
):
    key = resources.create_key(user, scopes=["projects:read", "projects:write"])["key"]
    credentials = {"bearer": lambda path, **kw: user.post(path, **kw),
                   "a key with projects:write": lambda path, **kw: target.post(path, api_key=key, **kw)}
    problems, sent = [], {}
    for credential, post in credentials.items():
        for row in PROJECT_OWNER.values():
            name = resources.unique_name("prop")
            context = f"POST /projects with {row.label} ({credential})"
            with target.evidence.note(context):
                response = post("/projects", json=with_extra({"name": name}, row, known))
            resources.adopt(user, response, project=True)
            sent[name] = (context, response)
            project = _created(response)
            if project is None:
                continue
            if project.get("organizationId") != own.get("organizationId"):
                problems.append(f"{context}: the project answered organizationId {project.get('organizationId')!r}, "
                                "not the caller's")
            mine = user.get(f"/projects/{project['id']}").status_code
            theirs = other_user.get(f"/projects/{project['id']}").status_code
            if mine != 200 or theirs != 404:
                problems.append(f"{context}: GET /projects/{{id}} answered the creator HTTP {mine} and the other "
                                f"organization HTTP {theirs} (expected 200 and 404)")
    listed = _names(other_user.get("/projects")) & set(sent)
    for name in listed:
        resources.adopt(other_user, sent[name][1], project=True)  # delete it where it landed
        problems.append(f"{sent[name][0]}: the project is listed in the other organization's GET /projects")
    _expect_none(problems, "every project in the caller's organization, whatever the extra field named",
                 f"{len(sent)} projects created with an extra field naming another organization or user")


@requirement("BSK-PROP-002")
def test_an_extra_organization_field_never_places_a_key_in_another_organization(
    user, other_user, resources: Resources, target, own, known
):
    problems, sent = [], {}
    for row in KEY_OWNER.values():
        name = resources.unique_name("prop")
        context = f"POST /api-keys with {row.label}"
        with target.evidence.note(context):
            response = resources.create_key_response(
                user, **with_extra({"name": name, "scopes": ["organization:read"]}, row, known))
        sent[name] = (context, response)
        created = _created(response)
        if created is None:
            continue
        target.secret(created.get("key"), "api-key")
        organizations = {"the created key's metadata": created.get("organizationId")}
        if isinstance(created.get("key"), str):
            organizations["GET /me with the key"] = _body(target.get("/me", api_key=created["key"])).get(
                "organizationId")
            organizations["GET /organization with the key"] = _body(
                target.get("/organization", api_key=created["key"])).get("id")
        for where, organization in organizations.items():
            if organization != own.get("organizationId"):
                problems.append(f"{context}: {where} names organization {organization!r}, not the caller's")
        theirs = other_user.get(f"/api-keys/{created['id']}").status_code
        if theirs != 404:
            problems.append(f"{context}: GET /api-keys/{{id}} by the other organization answered HTTP {theirs}")
    listed = _names(other_user.get("/api-keys")) & set(sent)
    for name in listed:
        resources.adopt(other_user, sent[name][1])
        problems.append(f"{sent[name][0]}: the key is listed in the other organization's GET /api-keys")
    _expect_none(problems, "every key in its creator's organization, whatever the extra field named",
                 f"{len(sent)} keys created with an extra field naming another organization or user")


# -- what the server alone decides ----------------------------------------------------------------


@requirement("BSK-PROP-003")
def test_a_key_secret_or_prefix_in_the_body_is_never_the_issued_key(user, resources: Resources, target, known):
    chosen_key, chosen_secret, chosen_prefix = known["$chosenKey"], known["$chosenSecret"], known["$chosenPrefix"]
    problems = []
    for row in KEY_MATERIAL.values():
        context = f"POST /api-keys with {row.label} of the harness's making"
        with target.evidence.note(context):
            response = resources.create_key_response(
                user, **with_extra({"name": resources.unique_name("prop"), "scopes": []}, row, known))
        created = _created(response)
        if created is None:
            continue
        key = created.get("key")
        target.secret(key, "api-key")
        if key == chosen_key or (isinstance(key, str) and key.endswith(chosen_secret)):
            problems.append(f"{context}: the issued key is the one the body chose")
        shown = [created.get("prefix"), _body(user.get(f"/api-keys/{created['id']}")).get("prefix")]
        if chosen_prefix in shown:
            problems.append(f"{context}: the key's metadata shows the prefix the body chose")
    with target.evidence.note("GET /me with the key the harness chose"):
        answer = target.get("/me", api_key=chosen_key)
    if answer.status_code != 401:
        problems.append(f"GET /me with the key the body chose answered {describe(answer)}, not 401")
    _expect_none(problems, "a key and prefix of the server's making, and the body's chosen key refused",
                 f"{len(KEY_MATERIAL)} keys created with key material in the body")


def _stamp_problems(context: str, created: dict, row_field: str, chosen_id: str,
                    moment: tuple[float, float]) -> list[str]:
    if row_field == "id":
        return [f"{context}: the object took the id the body chose"] if created.get("id") == chosen_id else []
    try:
        stamp = parse_rfc3339(created.get("createdAt"))
    except (TypeError, ValueError):
        return []  # the shape of createdAt is BSK-WIRE's to judge
    before, after = moment
    if before - STAMP_SLACK <= stamp <= after + STAMP_SLACK:
        return []
    return [f"{context}: createdAt {created.get('createdAt')!r} is not the moment of creation "
            f"(the target's clock read {format_rfc3339(before)})"]


@requirement("BSK-PROP-004")
@pytest.mark.parametrize("collection", ["/api-keys", "/projects"])
def test_id_and_created_at_in_the_body_are_never_the_objects(collection, user, resources: Resources, target, clock,
                                                             known):
    problems = []
    for row in SERVER_STAMPS.values():
        context = f"POST {collection} with {row.label}"
        body: dict[str, Any] = {"name": resources.unique_name("prop")}
        if collection == "/api-keys":
            body["scopes"] = []
        before = clock.now()
        with target.evidence.note(context):
            response = user.post(collection, json=with_extra(body, row, known))
        after = clock.now()
        resources.adopt(user, response, project=collection == "/projects")
        created = _created(response)
        if created is None:
            continue
        target.secret(created.get("key"), "api-key")
        problems += _stamp_problems(context, created, row.field, known["$chosenId"], (before, after))
    lookup = user.get(f"{collection}/{known['$chosenId']}")
    if lookup.status_code == 200:
        problems.append(f"GET {collection}/{{the id the body chose}} answered 200: an object took it")
    _expect_none(problems, "ids and createdAt of the server's making",
                 f"{len(SERVER_STAMPS)} objects created with an id or createdAt in the body")


@requirement("BSK-PROP-005")
def test_a_limit_or_expiry_under_another_name_is_not_the_keys(user, resources: Resources, target, known):
    problems = []
    for row in KEY_LIMITS.values():
        context = f"POST /api-keys with {row.label}, no rateLimit nor expiresAt"
        with target.evidence.note(context):
            response = resources.create_key_response(
                user, **with_extra({"name": resources.unique_name("prop"), "scopes": ["organization:read"]},
                                   row, known))
        created = _created(response)
        if created is None:
            continue
        target.secret(created.get("key"), "api-key")
        metadata = _body(user.get(f"/api-keys/{created['id']}"))
        for where, body in (("the created key", created), ("GET /api-keys/{id}", metadata)):
            if body.get("rateLimit") != DEFAULT_RATE_LIMIT or body.get("expiresAt") is not None:
                problems.append(f"{context}: {where} says rateLimit {body.get('rateLimit')!r}, expiresAt "
                                f"{body.get('expiresAt')!r} (the defaults are 60 and null)")
        if not isinstance(created.get("key"), str):
            continue
        used = target.get("/me", api_key=created["key"])
        limit = used.headers.get("x-ratelimit-limit")
        if used.status_code != 200:
            problems.append(f"{context}: GET /me with the new key answered {describe(used)} (null expiry: never)")
        elif limit is not None and limit.strip() != str(DEFAULT_RATE_LIMIT):
            problems.append(f"{context}: the key's X-RateLimit-Limit is {limit!r}, not the default 60")
    _expect_none(problems, "keys with the default rate limit (60) and no expiry, working",
                 f"{len(KEY_LIMITS)} keys created with a limit or expiry under another field name")


@requirement("BSK-PROP-006")
def test_scopes_roles_or_a_type_under_another_name_grant_a_key_nothing(user, resources: Resources, target, known):
    problems = []
    for row in KEY_SCOPES.values():
        context = f"POST /api-keys with {row.label} and scopes []"
        with target.evidence.note(context):
            response = resources.create_key_response(
                user, **with_extra({"name": resources.unique_name("prop"), "scopes": []}, row, known))
        created = _created(response)
        if created is None:
            continue
        target.secret(created.get("key"), "api-key")
        if created.get("scopes") not in ([], None):
            problems.append(f"{context}: the created key's scopes are {created.get('scopes')!r}")
        if not isinstance(created.get("key"), str):
            continue
        me = _body(target.get("/me", api_key=created["key"]))
        if me.get("type") != "api_key" or me.get("scopes") != []:
            problems.append(f"{context}: GET /me with the key says type {me.get('type')!r}, "
                            f"scopes {me.get('scopes')!r}")
        for path in ("/organization", "/projects"):
            answer = target.get(path, api_key=created["key"])
            if answer.status_code != 403:
                problems.append(f"{context}: GET {path} with the key answered {describe(answer)}, not 403")
    _expect_none(problems, "keys with no scope, refused where a scope is needed",
                 f"{len(KEY_SCOPES)} keys created with scopes [] and a scope, role or type under another name")


# -- who a token is for ---------------------------------------------------------------------


def _login_body(account, registry) -> dict[str, Any]:
    body: dict[str, Any] = {"email": account.email, "password": account.password}
    if registry.secret(account):
        body["twoFactorCode"] = registry.next_code(account)
    return body


def _principal_problems(context: str, response: httpx.Response, target, own: dict) -> Iterator[str]:
    """A 200 token answer whose access token is anyone but alice; the session is logged out again."""
    body = _body(response)
    access, refresh = body.get("accessToken"), body.get("refreshToken")
    if response.status_code != 200 or not isinstance(access, str):
        return
    me = _body(target.get("/me", bearer=access))
    for claim in ("userId", "organizationId", "email"):
        if str(me.get(claim)).lower() != str(own.get(claim)).lower():
            yield f"{context}: GET /me with the token says {claim} {me.get(claim)!r}, not the caller's"
    if me.get("type") != "user":
        yield f"{context}: GET /me with the token says type {me.get('type')!r}"


@requirement("BSK-PROP-007")
def test_login_and_refresh_issue_tokens_for_the_credentials_own_user(user, other_user, alice, two_factor_registry,
                                                                    target, own, known):
    problems = []
    for row in PRINCIPAL.values():
        context = f"POST /auth/login as alice with {row.label}"
        with target.evidence.note(context):
            response = target.post("/auth/login", json=with_extra(_login_body(alice, two_factor_registry), row, known))
        problems += _principal_problems(context, response, target, own)
        _log_out(target, response)
    session = two_factor_registry.login(alice)
    current, bearer = session.refresh_token, session.access_token
    for row in PRINCIPAL.values():
        context = f"POST /auth/refresh of alice's token with {row.label}"
        with target.evidence.note(context):
            response = target.post("/auth/refresh", json=with_extra({"refreshToken": current}, row, known))
        problems += _principal_problems(context, response, target, own)
        body = _body(response)
        if response.status_code == 200 and isinstance(body.get("refreshToken"), str):
            current, bearer = body["refreshToken"], body.get("accessToken", bearer)
    target.post("/auth/logout", json={"refreshToken": current}, bearer=bearer)
    _expect_none(problems, "every token for alice, whose email, password or refresh token was sent",
                 f"{len(PRINCIPAL)} logins and {len(PRINCIPAL)} refreshes naming another principal")


def _log_out(target, response: httpx.Response) -> None:
    body = _body(response)
    if response.status_code == 200 and isinstance(body.get("accessToken"), str):
        target.post("/auth/logout", json={"refreshToken": body.get("refreshToken")}, bearer=body["accessToken"])


# -- 2FA state ------------------------------------------------------------------------------------


@requirement("BSK-PROP-008")
def test_no_extra_field_stands_in_for_a_two_factor_code(two_factor, two_factor_registry, target, known):
    account = two_factor.account
    problems = []
    for row in TWO_FACTOR_STATE.values():
        context = f"POST /auth/login of a 2FA user without twoFactorCode, with {row.label}"
        body = with_extra({"email": account.email, "password": account.password}, row, known)
        with target.evidence.note(context):
            response = target.post("/auth/login", json=body)
        if 200 <= response.status_code < 300 or "accessToken" in _body(response):
            problems.append(f"{context}: answered {describe(response)}, a login without the second factor")
            _log_out(target, response)
    session = two_factor_registry.login(account)
    for row in TWO_FACTOR_STATE.values():
        context = f"POST /auth/2fa/disable with a wrong code and {row.label}"
        with target.evidence.note(context):
            response = session.post("/auth/2fa/disable", json=with_extra({"code": two_factor.wrong_code()}, row,
                                                                         known))
        if 200 <= response.status_code < 300:
            problems.append(f"{context}: answered {describe(response)}")
    state = _body(session.get("/me")).get("twoFactorEnabled")
    if state is not True:
        problems.append(f"GET /me after the wrong codes says twoFactorEnabled {state!r}: 2FA is no longer on")
    session.logout()
    _expect_none(problems, "2FA still required, and still on, whatever the body's flags said",
                 f"{len(TWO_FACTOR_STATE)} logins and disables with a 2FA flag instead of a code")
