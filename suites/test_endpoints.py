"""Contract §3 — Endpoints: each operation's success status and the shape of its answer.

   "GET /me | bearer or key | 200 {type:"user", userId, email, organizationId, twoFactorEnabled}"
   "GET /api-keys | 200 {data: [key metadata…]}"  "GET /api-keys/{id} | 200 key metadata"
   "GET /organization | 200 {id, name}"
   "GET /projects | 200 {data: [{id, name, organizationId, createdAt}]}"  "POST /projects {name} | 201 project"
   "GET /projects/{id} | 200 project"  "DELETE /projects/{id} | 204"
   "POST /api-keys | bearer (user only)" (and likewise GET and DELETE): "an API key calling it gets 403"
   "401 invalid_credentials (same body for unknown email and wrong password)"

Extra fields, field order and list order are the target's (§8). Shapes that
other areas already check are theirs: the login answer (BSK-TOK-001), logout
(BSK-REF-005), the key-creation answer and GET /me by key (BSK-KEY-001,
BSK-KEY-022), an API key creating keys (BSK-KEY-023), the JWKS (BSK-CLM-005,
BSK-CLM-007).
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from bsk_conformance.harness.api import (
    SCOPES,
    Account,
    describe,
    expect,
    expect_error,
    expect_fields,
    expect_json_object,
    expect_status,
    fail,
    organization_of,
    requirement,
)

USER_FIELDS = {"type": str, "userId": str, "email": str, "organizationId": str, "twoFactorEnabled": bool}
KEY_METADATA_FIELDS = {
    "id": str,
    "name": str,
    "prefix": str,
    "scopes": list,
    "rateLimit": int,
    "organizationId": str,
    "createdAt": str,
}
PROJECT_FIELDS = {"id": str, "name": str, "organizationId": str, "createdAt": str}


def _object(response: httpx.Response, status: int, context: str) -> dict:
    expect_status(response, status, context=context)
    return expect_json_object(response, context)


def _listed(response: httpx.Response, item_id: str, context: str) -> dict:
    body = _object(response, 200, context)
    data = body.get("data")
    if not isinstance(data, list):
        fail('{"data": [...]}', describe(response), context)
    for entry in data:
        if isinstance(entry, dict) and entry.get("id") == item_id:
            return entry
    fail(f"the item {item_id} just created among the {len(data)} listed", describe(response), context)


# -- the caller ---------------------------------------------------------------------------------


@requirement("BSK-EP-001")
def test_me_for_a_user_answers_type_user_with_its_identity(user, target, two_factor_registry):
    context = "GET /me with a user's access token"
    body = _object(user.get("/me"), 200, context)
    expect_fields(body, USER_FIELDS, context)
    expect(body["type"] == "user", 'type "user"', repr(body["type"]), context)
    expect(
        body["email"].casefold() == user.account.email.casefold(),
        f"email {user.account.email!r}",
        repr(body["email"]),
        context,
    )
    organization = target.capabilities.organizations.get(user.account.email)
    if organization is not None:
        expect(
            body["organizationId"] == organization,
            f"organizationId {organization!r} (as at preflight)",
            repr(body["organizationId"]),
            context,
        )
    enabled = two_factor_registry.secret(user.account) is not None
    expect(
        body["twoFactorEnabled"] is enabled,
        f"twoFactorEnabled {str(enabled).lower()}",
        repr(body["twoFactorEnabled"]),
        context,
    )


@requirement("BSK-EP-002")
@pytest.mark.parametrize("caller", ["bearer", "key"])
def test_organization_answers_its_id_and_name(caller, user, resources, target):
    if caller == "key":
        key = resources.create_key(user, scopes=["organization:read"])["key"]
        response, context = target.get("/organization", api_key=key), "GET /organization with a key"
    else:
        response, context = user.get("/organization"), "GET /organization with a user's access token"
    body = _object(response, 200, context)
    expect_fields(body, {"id": str, "name": str}, context)
    organization = organization_of(user)
    expect(body["id"] == organization, f"id {organization!r}, the caller's organizationId", repr(body["id"]), context)


# -- key metadata -------------------------------------------------------------------------------


def _expect_metadata_of(body: dict, created: dict, context: str) -> None:
    expect_fields(body, KEY_METADATA_FIELDS, context)
    expect(
        "expiresAt" in body and (body["expiresAt"] is None or isinstance(body["expiresAt"], str)),
        '"expiresAt" (null or a date-time)',
        repr(body.get("expiresAt", "no expiresAt field")),
        context,
    )
    for name in ("id", "name", "prefix", "rateLimit", "organizationId", "expiresAt"):
        expect(
            body[name] == created.get(name), f"{name} {created.get(name)!r}, as at creation", repr(body[name]), context
        )
    expect(
        sorted(body["scopes"]) == sorted(created.get("scopes") or []),
        f"scopes {created.get('scopes')!r}",
        repr(body["scopes"]),
        context,
    )


@requirement("BSK-EP-003")
@pytest.mark.parametrize("operation", ["GET /api-keys/{id}", "GET /api-keys"])
def test_key_metadata_is_the_documented_fields(operation, user, resources):
    created = resources.create_key(user, scopes=["projects:read"], rate_limit=90)
    if operation == "GET /api-keys":
        body = _listed(user.get("/api-keys"), created["id"], "GET /api-keys")
        context = "the key's entry in GET /api-keys"
    else:
        context = "GET /api-keys/{id} of a key just created"
        body = _object(user.get(f"/api-keys/{created['id']}"), 200, context)
    _expect_metadata_of(body, created, context)


@requirement("BSK-EP-004")
@pytest.mark.parametrize("operation", ["GET /api-keys", "GET /api-keys/{id}", "DELETE /api-keys/{id}"])
def test_an_api_key_cannot_list_read_or_revoke_keys(operation, user, resources, target):
    created = resources.create_key(user, scopes=SCOPES)
    method, _, path = operation.partition(" ")
    path = path.replace("{id}", created["id"])
    context = f"{operation} with an API key holding every scope"
    with target.evidence.note(context):
        response = target.request(method, path, api_key=created["key"])
    expect_error(response, 403, context=context)


# -- projects -----------------------------------------------------------------------------------


def _expect_project(body: dict, name: str, organization: str, context: str) -> None:
    expect_fields(body, PROJECT_FIELDS, context)
    expect(body["name"] == name, f"name {name!r}, as sent", repr(body["name"]), context)
    expect(
        body["organizationId"] == organization,
        f"organizationId {organization!r}, the caller's",
        repr(body["organizationId"]),
        context,
    )


@requirement("BSK-EP-005")
def test_post_projects_answers_201_with_the_project(user, resources, target):
    name = resources.unique_name("project")
    created = resources.create_project(user, name=name)  # expects 201
    _expect_project(created, name, organization_of(user), "POST /projects answer")


@requirement("BSK-EP-006")
def test_get_projects_lists_the_project(user, resources, target):
    name = resources.unique_name("project")
    created = resources.create_project(user, name=name)
    entry = _listed(user.get("/projects"), str(created.get("id")), "GET /projects")
    _expect_project(entry, name, organization_of(user), "the project's entry in GET /projects")


@requirement("BSK-EP-007")
def test_get_project_answers_the_project(user, resources, target):
    name = resources.unique_name("project")
    created = resources.create_project(user, name=name)
    context = "GET /projects/{id} of a project just created"
    body = _object(user.get(f"/projects/{created.get('id')}"), 200, context)
    expect(body.get("id") == created.get("id"), f"id {created.get('id')!r}", repr(body.get("id")), context)
    _expect_project(body, name, organization_of(user), context)


@requirement("BSK-EP-008")
def test_delete_project_answers_204_and_the_project_is_gone(user, resources):
    created = resources.create_project(user)
    path = f"/projects/{created.get('id')}"
    expect_status(user.delete(path), 204, context="DELETE /projects/{id}")
    expect_status(user.get(path), 404, context="GET /projects/{id} after DELETE answered 204")


# -- login failures -----------------------------------------------------------------------------


@requirement("BSK-EP-009")
def test_unknown_email_and_wrong_password_get_the_same_answer(target):
    """The wrong password is tried on the profile's last account, which the
    other checks use least (one failure: far from any login throttle)."""
    account = target.profile.accounts[-1]
    domain = account.email.rpartition("@")[2]
    answers = []
    for what, tried in (
        ("an unknown email", Account(f"nobody-{secrets.token_hex(4)}@{domain}", account.password + "-x")),
        ("a wrong password", Account(account.email, account.password + "-x")),
    ):
        context = f"POST /auth/login with {what}"
        with target.evidence.note(context):
            answers.append(expect_error(target.login(tried), 401, "invalid_credentials", context))
    unknown, wrong = answers
    expect(
        unknown["message"] == wrong["message"],
        "the same message for both (no account enumeration)",
        f"{unknown['message']!r} for an unknown email, {wrong['message']!r} for a wrong password",
        "POST /auth/login",
    )
