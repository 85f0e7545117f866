"""Projects and organization isolation (contract §3, §8)."""

from __future__ import annotations

import pytest

from bsk_conformance.reference_server.clock import format_timestamp

from .conftest import BOB, T0, Api


def test_create_list_get_delete(api: Api) -> None:
    headers = api.bearer()
    created = api.http.post("/projects", headers=headers, json={"name": "Apollo"})
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "Apollo" and project["organizationId"] == "org_acme"
    assert project["createdAt"] == format_timestamp(T0)
    assert api.http.get("/projects", headers=headers).json() == {"data": [project]}
    assert api.http.get(f"/projects/{project['id']}", headers=headers).json() == project
    deleted = api.http.delete(f"/projects/{project['id']}", headers=headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.http.get(f"/projects/{project['id']}", headers=headers).status_code == 404


def test_a_key_with_the_scopes_manages_projects(api: Api) -> None:
    key = {"X-API-Key": api.create_key(scopes=["projects:read", "projects:write"])["key"]}
    project = api.http.post("/projects", headers=key, json={"name": "via key"}).json()
    assert api.http.get(f"/projects/{project['id']}", headers=key).status_code == 200
    assert api.http.delete(f"/projects/{project['id']}", headers=key).status_code == 204


class TestIsolation:
    @pytest.fixture
    def bobs_project(self, api: Api) -> str:
        return api.http.post("/projects", headers=api.bearer(BOB), json={"name": "Globex secret"}).json()["id"]

    @pytest.mark.parametrize("method", ["GET", "DELETE"])
    def test_another_organizations_project_is_404_to_a_user(self, api: Api, bobs_project: str, method: str) -> None:
        response = api.http.request(method, f"/projects/{bobs_project}", headers=api.bearer())
        assert response.status_code == 404 and response.json()["error"] == "not_found"

    @pytest.mark.parametrize("method", ["GET", "DELETE"])
    def test_another_organizations_project_is_404_to_a_key(self, api: Api, bobs_project: str, method: str) -> None:
        key = {"X-API-Key": api.create_key()["key"]}
        assert api.http.request(method, f"/projects/{bobs_project}", headers=key).status_code == 404

    def test_the_404_is_the_same_as_for_a_missing_project(self, api: Api, bobs_project: str) -> None:
        headers = api.bearer()
        foreign = api.http.get(f"/projects/{bobs_project}", headers=headers)
        missing = api.http.get("/projects/prj_does_not_exist", headers=headers)
        assert foreign.json() == missing.json()

    def test_lists_hold_only_the_callers_organization(self, api: Api, bobs_project: str) -> None:
        assert api.http.get("/projects", headers=api.bearer()).json() == {"data": []}

    def test_the_project_survives_the_attempts(self, api: Api, bobs_project: str) -> None:
        api.http.delete(f"/projects/{bobs_project}", headers=api.bearer())
        assert api.http.get(f"/projects/{bobs_project}", headers=api.bearer(BOB)).status_code == 200


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, {"name": ["x"]}, {"name": "x" * 201}])
def test_invalid_project_bodies_are_400(api: Api, body: dict[str, object]) -> None:
    response = api.http.post("/projects", headers=api.bearer(), json=body)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_organization(api: Api) -> None:
    assert api.http.get("/organization", headers=api.bearer(BOB)).json() == {"id": "org_globex", "name": "Globex"}
