"""Contract §1, §3, §8 — Scopes and organization isolation.

   "Scopes: organization:read, projects:read, projects:write. A key lacking the
    scope gets 403 {"error":"insufficient_scope","requiredScope":"…"}. A user's
    bearer token carries every scope of its organization."
   "404 for another organization's project (no existence leak)"
   "Another organization's objects answer 404 to every method (GET and DELETE alike)."

The contract fixes the status of a cross-organization answer (404), not its
`error` code: a check compares that code only with the answer to a missing
ID, which must be the same. Projects and keys come from `resources`, so they
are deleted even when a check fails; the organizations end as they started.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import httpx
import pytest

from bsk_conformance.harness.api import (
    SCOPES,
    describe,
    expect,
    expect_error,
    expect_status,
    organization_of,
    requirement,
)

from ._keys import lookalike_id


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str
    success: int

    @property
    def id(self) -> str:
        return f"{self.method}-{self.path.strip('/').replace('/', '-').replace('{id}', 'id')}"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ORGANIZATION = Endpoint("GET", "/organization", "organization:read", 200)
PROJECT_LIST = Endpoint("GET", "/projects", "projects:read", 200)
PROJECT = Endpoint("GET", "/projects/{id}", "projects:read", 200)
PROJECT_CREATION = Endpoint("POST", "/projects", "projects:write", 201)
PROJECT_DELETION = Endpoint("DELETE", "/projects/{id}", "projects:write", 204)
ENDPOINTS = (ORGANIZATION, PROJECT_LIST, PROJECT, PROJECT_CREATION, PROJECT_DELETION)


class _Caller:
    """Calls an endpoint of the table for a credential: projects it needs are
    made with the user's bearer token, and a project a key makes is removed."""

    def __init__(self, user, resources) -> None:
        self.user = user
        self.resources = resources
        self.project_id: str | None = None
        self.project_name: str | None = None
        self._standing: str | None = None  # read by every GET, never deleted

    def call(self, endpoint: Endpoint, **auth: str) -> httpx.Response:
        path, kwargs = endpoint.path, {}
        self.project_id = self.project_name = None
        if "{id}" in path:
            if endpoint.method == "GET":
                self._standing = self._standing or self.resources.create_project(self.user)["id"]
                self.project_id = self._standing
            else:
                self.project_id = self.resources.create_project(self.user)["id"]
            path = path.replace("{id}", self.project_id)
        if endpoint.method == "POST":
            self.project_name = self.resources.unique_name("project")
            kwargs["json"] = {"name": self.project_name}
        response = self.user.target.request(endpoint.method, path, **kwargs, **auth)
        if endpoint.method == "POST" and response.status_code == 201:
            made = _json_member(response, "id")
            if isinstance(made, str) and made:
                self.user.delete(f"/projects/{made}")
        return response

    def untouched(self, endpoint: Endpoint) -> str | None:
        """After a refused write: what the write changed anyway, or None."""
        if endpoint.method == "DELETE" and self.project_id:
            if self.user.get(f"/projects/{self.project_id}").status_code != 200:
                return "the project was deleted all the same"
        if endpoint.method == "POST" and self.project_name:
            listed = self.user.get("/projects")
            names = [p.get("name") for p in _json_data(listed) if isinstance(p, dict)]
            if self.project_name in names:
                return "the project was created all the same"
        return None


def _json_member(response: httpx.Response, name: str) -> object:
    """`name` of the answer's JSON object, or None when the body is no JSON object."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def _json_data(response: httpx.Response) -> list:
    data = _json_member(response, "data")
    return data if isinstance(data, list) else []


def _expect_insufficient_scope(response: httpx.Response, scope: str, context: str) -> None:
    body = expect_error(response, 403, "insufficient_scope", context)
    expect(body.get("requiredScope") == scope, f'requiredScope "{scope}"', describe(response), context)


# -- every (scope, endpoint) pair of the table -------------------------------


def _expect_scope_enforced(endpoint: Endpoint, user, resources) -> None:
    """A key holding only the endpoint's scope is allowed; a key holding every
    other scope, or none, gets 403 insufficient_scope and changes nothing."""
    caller = _Caller(user, resources)
    key = resources.create_key(user, scopes=[endpoint.scope])["key"]
    response = caller.call(endpoint, api_key=key)
    expect_status(response, endpoint.success, context=f"{endpoint} with a key holding only {endpoint.scope}")
    others = [scope for scope in SCOPES if scope != endpoint.scope]
    for scopes, what in ((others, f"every other scope ({', '.join(others)})"), ([], "no scope")):
        key = resources.create_key(user, scopes=scopes)["key"]
        context = f"{endpoint} with a key holding {what}"
        _expect_insufficient_scope(caller.call(endpoint, api_key=key), endpoint.scope, context)
        changed = caller.untouched(endpoint)
        expect(changed is None, "nothing changed by the refused request", changed, context)


@requirement("BSK-SCP-001")
def test_get_organization_needs_organization_read(user, resources):
    _expect_scope_enforced(ORGANIZATION, user, resources)


@requirement("BSK-SCP-002")
def test_get_projects_needs_projects_read(user, resources):
    _expect_scope_enforced(PROJECT_LIST, user, resources)


@requirement("BSK-SCP-003")
def test_get_a_project_needs_projects_read(user, resources):
    _expect_scope_enforced(PROJECT, user, resources)


@requirement("BSK-SCP-004")
def test_post_projects_needs_projects_write(user, resources):
    _expect_scope_enforced(PROJECT_CREATION, user, resources)


@requirement("BSK-SCP-005")
def test_delete_a_project_needs_projects_write(user, resources):
    _expect_scope_enforced(PROJECT_DELETION, user, resources)


@requirement("BSK-SCP-006")
def test_bearer_token_carries_every_scope(user, resources):
    caller = _Caller(user, resources)
    for endpoint in ENDPOINTS:
        response = caller.call(endpoint, bearer=user.access_token)
        expect_status(response, endpoint.success, context=f"{endpoint} with the user's bearer token")


# Property: for ANY subset of the three scopes, a key grants exactly the
# endpoints whose scope is in the subset. The space is 2^3 = 8 subsets, so
# the property is checked exhaustively rather than sampled (Hypothesis would
# only draw from these same eight).
SUBSETS = [frozenset(c) for n in range(len(SCOPES) + 1) for c in itertools.combinations(SCOPES, n)]


@requirement("BSK-SCP-007")
@pytest.mark.parametrize("subset", SUBSETS, ids=["+".join(sorted(s)) or "none" for s in SUBSETS])
def test_key_grants_exactly_the_endpoints_of_its_scopes(subset, user, resources):
    key = resources.create_key(user, scopes=sorted(subset))["key"]
    caller = _Caller(user, resources)
    wrong = []
    for endpoint in ENDPOINTS:
        response = caller.call(endpoint, api_key=key)
        if endpoint.scope in subset:
            if response.status_code != endpoint.success:
                wrong.append(f"{endpoint}: expected HTTP {endpoint.success}, observed {describe(response)}")
        else:
            error = _json_member(response, "error")
            if response.status_code != 403 or error != "insufficient_scope":
                wrong.append(f"{endpoint}: expected HTTP 403 insufficient_scope, observed {describe(response)}")
    granted = sorted(str(e) for e in ENDPOINTS if e.scope in subset)
    expect(not wrong, f"exactly {granted or 'no endpoint'} granted", "; ".join(wrong),
           f"a key with scopes {sorted(subset) or '[]'}")


# -- organization isolation --------------------------------------------------


@requirement("BSK-SCP-008")
def test_another_organizations_project_is_404_to_get(user, other_user, resources, target):
    theirs = resources.create_project(other_user)["id"]
    expect_error(user.get(f"/projects/{theirs}"), 404, context="GET /projects/{id} of another organization, by bearer")
    key = resources.create_key(user, scopes=["projects:read"])["key"]
    expect_error(target.get(f"/projects/{theirs}", api_key=key), 404,
                 context="GET /projects/{id} of another organization, by a key with projects:read")


@requirement("BSK-SCP-009")
def test_another_organizations_project_is_404_to_delete_and_stays(user, other_user, resources, target):
    theirs = resources.create_project(other_user)["id"]
    expect_error(user.delete(f"/projects/{theirs}"), 404,
                 context="DELETE /projects/{id} of another organization, by bearer")
    key = resources.create_key(user, scopes=["projects:write"])["key"]
    expect_error(target.delete(f"/projects/{theirs}", api_key=key), 404,
                 context="DELETE /projects/{id} of another organization, by a key with projects:write")
    expect_status(other_user.get(f"/projects/{theirs}"), 200,
                  context="GET /projects/{id} by its own organization after the refused deletes")


def _status_and_error(response: httpx.Response) -> tuple[int, object]:
    return response.status_code, _json_member(response, "error")


@requirement("BSK-SCP-010")
def test_another_organizations_objects_answer_as_a_missing_id(user, other_user, resources, target):
    project = resources.create_project(other_user)["id"]
    their_key = resources.create_key(other_user, scopes=["organization:read"])["id"]
    reader = resources.create_key(user, scopes=["projects:read"])["key"]
    writer = resources.create_key(user, scopes=["projects:write"])["key"]
    probes = [
        ("GET", "/projects/{id}", project, {"bearer": user.access_token}),
        ("GET", "/projects/{id}", project, {"api_key": reader}),
        ("GET", "/api-keys/{id}", their_key, {"bearer": user.access_token}),
        ("DELETE", "/projects/{id}", project, {"bearer": user.access_token}),
        ("DELETE", "/projects/{id}", project, {"api_key": writer}),
        ("DELETE", "/api-keys/{id}", their_key, {"bearer": user.access_token}),
    ]
    for method, template, real, auth in probes:
        how = "by bearer" if "bearer" in auth else "by key"
        missing = lookalike_id(real)
        with target.evidence.note("another organization's object"):
            theirs = target.request(method, template.replace("{id}", real), **auth)
        with target.evidence.note("a missing ID of the same shape"):
            absent = target.request(method, template.replace("{id}", missing), **auth)
        context = f"{method} {template} {how}: another organization's object vs a missing ID"
        expect(_status_and_error(theirs) == _status_and_error(absent),
               f"the same status and error code as for a missing ID ({describe(absent)})", describe(theirs), context)


@requirement("BSK-SCP-011")
def test_another_organizations_key_is_404_to_get(user, other_user, resources):
    theirs = resources.create_key(other_user, scopes=["organization:read"])
    expect_error(user.get(f"/api-keys/{theirs['id']}"), 404, context="GET /api-keys/{id} of another organization")


@requirement("BSK-SCP-012")
def test_another_organizations_key_is_404_to_delete_and_keeps_working(user, other_user, resources, target):
    theirs = resources.create_key(other_user, scopes=["organization:read"])
    expect_error(user.delete(f"/api-keys/{theirs['id']}"), 404, context="DELETE /api-keys/{id} of another organization")
    expect_status(target.get("/me", api_key=theirs["key"]), 200,
                  context="GET /me with the key after another organization's DELETE")
    expect_status(other_user.get(f"/api-keys/{theirs['id']}"), 200,
                  context="GET /api-keys/{id} by its own organization after another organization's DELETE")


@requirement("BSK-SCP-013")
def test_project_list_holds_only_the_callers_organization(user, other_user, resources, target):
    organization = organization_of(user)
    mine = resources.create_project(user)["id"]
    theirs = resources.create_project(other_user)["id"]
    key = resources.create_key(user, scopes=["projects:read"])["key"]
    for how, response in (("by bearer", user.get("/projects")), ("by key", target.get("/projects", api_key=key))):
        context = f"GET /projects {how}"
        expect_status(response, 200, context=context)
        items = [p for p in _json_data(response) if isinstance(p, dict)]
        ids = {p.get("id") for p in items}
        expect(mine in ids, "the caller's own new project listed", f"{len(items)} items without it", context)
        expect(theirs not in ids, "no project of another organization", "the other organization's project", context)
        foreign = [p.get("organizationId") for p in items if p.get("organizationId") != organization]
        expect(not foreign, f"organizationId {organization!r} on every item", f"{len(foreign)} item(s) of others",
               context)


@requirement("BSK-SCP-014")
def test_key_list_holds_only_the_callers_organization(user, other_user, resources):
    organization = organization_of(user)
    mine = resources.create_key(user, scopes=["organization:read"])["id"]
    theirs = resources.create_key(other_user, scopes=["organization:read"])["id"]
    response = user.get("/api-keys")
    context = "GET /api-keys"
    expect_status(response, 200, context=context)
    items = [k for k in _json_data(response) if isinstance(k, dict)]
    ids = {k.get("id") for k in items}
    expect(mine in ids, "the caller's own new key listed", f"{len(items)} items without it", context)
    expect(theirs not in ids, "no key of another organization", "the other organization's key", context)
    foreign = [k for k in items if k.get("organizationId") != organization]
    expect(not foreign, f"organizationId {organization!r} on every item", f"{len(foreign)} item(s) of others", context)
