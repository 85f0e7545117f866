"""API keys (contract §3, §4): creation, shown once, validation, isolation, revocation, expiry."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bsk_conformance.reference_server.clock import format_timestamp

from .conftest import ALL_SCOPES, BOB, T0, Api

KEY_SHAPE = re.compile(r"bsk_test_[A-Za-z0-9]{40}")
METADATA_FIELDS = {"id", "name", "prefix", "scopes", "rateLimit", "expiresAt", "organizationId", "createdAt"}


def with_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def assert_invalid_key(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_api_key"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="bsk"')


class TestCreation:
    def test_the_key_is_shown_once_at_creation(self, api: Api) -> None:
        response = api.http.post("/api-keys", headers=api.bearer(),
                                 json={"name": "ci", "scopes": ["projects:read"], "rateLimit": 10})
        assert response.status_code == 201
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json()
        assert set(body) == METADATA_FIELDS | {"key"}
        assert KEY_SHAPE.fullmatch(body["key"])
        assert body["prefix"] == body["key"][:17] and body["prefix"].startswith("bsk_test_")
        assert body["scopes"] == ["projects:read"] and body["rateLimit"] == 10
        assert body["expiresAt"] is None and body["organizationId"] == "org_acme"
        assert body["createdAt"] == format_timestamp(T0)

    def test_defaults(self, api: Api) -> None:
        body = api.create_key(scopes=[])
        assert body["rateLimit"] == 60 and body["scopes"] == [] and body["expiresAt"] is None

    def test_keys_differ(self, api: Api) -> None:
        keys = {api.create_key()["key"] for _ in range(5)}
        assert len(keys) == 5

    def test_metadata_never_holds_the_key(self, api: Api) -> None:
        created = api.create_key()
        headers = api.bearer()
        listed = api.http.get("/api-keys", headers=headers).json()["data"]
        fetched = api.http.get(f"/api-keys/{created['id']}", headers=headers).json()
        for metadata in [*listed, fetched]:
            assert set(metadata) == METADATA_FIELDS
            assert created["key"] not in str(metadata)
            assert created["key"][17:] not in str(metadata)
        assert [m["id"] for m in listed] == [created["id"]]

    def test_the_key_authenticates(self, api: Api) -> None:
        created = api.create_key(scopes=["organization:read"])
        body = api.http.get("/me", headers=with_key(created["key"])).json()
        assert body == {"type": "api_key", "keyId": created["id"], "organizationId": "org_acme",
                        "scopes": ["organization:read"]}
        assert api.http.get("/organization", headers=with_key(created["key"])).json() == {
            "id": "org_acme", "name": "Acme"}


class TestValidation:
    @pytest.mark.parametrize(
        "body",
        [
            {"scopes": []},
            {"name": "x"},
            {"name": "", "scopes": []},
            {"name": 7, "scopes": []},
            {"name": "x", "scopes": "projects:read"},
            {"name": "x", "scopes": ["projects:admin"]},
            {"name": "x", "scopes": [None]},
            {"name": "x", "scopes": [], "rateLimit": 0},
            {"name": "x", "scopes": [], "rateLimit": -5},
            {"name": "x", "scopes": [], "rateLimit": 10_001},
            {"name": "x", "scopes": [], "rateLimit": "60"},
            {"name": "x", "scopes": [], "rateLimit": 60.5},
            {"name": "x", "scopes": [], "rateLimit": True},
            {"name": "x", "scopes": [], "rateLimit": None},
            {"name": "x", "scopes": [], "expiresAt": "2020-01-01T00:00:00Z"},
            {"name": "x", "scopes": [], "expiresAt": format_timestamp(T0)},
            {"name": "x", "scopes": [], "expiresAt": "2030-01-01T00:00:00"},
            {"name": "x", "scopes": [], "expiresAt": "2030-01-01"},
            {"name": "x", "scopes": [], "expiresAt": "tomorrow"},
            {"name": "x", "scopes": [], "expiresAt": "2030-02-30T00:00:00Z"},
            {"name": "x", "scopes": [], "expiresAt": 1_900_000_000},
        ],
    )
    def test_invalid_requests_are_400(self, api: Api, body: dict[str, Any]) -> None:
        response = api.http.post("/api-keys", headers=api.bearer(), json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request" and response.json()["message"]

    @pytest.mark.parametrize("limit", [1, 10_000])
    def test_rate_limit_bounds_are_inclusive(self, api: Api, limit: int) -> None:
        assert api.create_key(rateLimit=limit)["rateLimit"] == limit

    def test_expiry_with_an_offset_is_normalised_to_utc(self, api: Api) -> None:
        body = api.create_key(expiresAt="2027-01-15T10:00:00+01:00")
        assert body["expiresAt"] == "2027-01-15T09:00:00Z"

    def test_duplicate_scopes_collapse(self, api: Api) -> None:
        assert api.create_key(scopes=["projects:read", "projects:read"])["scopes"] == ["projects:read"]


class TestUserOnly:
    @pytest.mark.parametrize(("method", "path"), [("GET", "/api-keys"), ("POST", "/api-keys"),
                                                  ("GET", "/api-keys/x"), ("DELETE", "/api-keys/x")])
    def test_an_api_key_gets_403(self, api: Api, method: str, path: str) -> None:
        key = api.create_key()["key"]
        response = api.http.request(method, path, headers=with_key(key), json={"name": "n", "scopes": []})
        assert response.status_code == 403 and response.json()["error"] == "user_token_required"
        assert response.headers["X-RateLimit-Limit"] == "60"


class TestIsolation:
    def test_another_organizations_key_is_404_to_get_and_delete(self, api: Api) -> None:
        bobs = api.create_key(BOB)
        alice = api.bearer()
        for method in ("GET", "DELETE"):
            response = api.http.request(method, f"/api-keys/{bobs['id']}", headers=alice)
            assert response.status_code == 404 and response.json()["error"] == "not_found"
        assert api.http.get("/me", headers=with_key(bobs["key"])).status_code == 200

    def test_lists_are_per_organization(self, api: Api) -> None:
        api.create_key(BOB)
        assert api.http.get("/api-keys", headers=api.bearer()).json() == {"data": []}

    def test_an_unknown_id_is_404(self, api: Api) -> None:
        assert api.http.get("/api-keys/key_nope", headers=api.bearer()).status_code == 404


class TestRevocation:
    def test_a_revoked_key_stops_working_at_once(self, api: Api) -> None:
        created = api.create_key()
        headers = api.bearer()
        assert api.http.get("/me", headers=with_key(created["key"])).status_code == 200
        response = api.http.delete(f"/api-keys/{created['id']}", headers=headers)
        assert response.status_code == 204 and response.content == b""
        assert_invalid_key(api.http.get("/me", headers=with_key(created["key"])))
        assert api.http.get(f"/api-keys/{created['id']}", headers=headers).status_code == 404
        assert api.http.get("/api-keys", headers=headers).json() == {"data": []}
        assert api.http.delete(f"/api-keys/{created['id']}", headers=headers).status_code == 404

    def test_rotation_revoke_old_create_new(self, api: Api) -> None:
        old = api.create_key()
        new = api.create_key()
        api.http.delete(f"/api-keys/{old['id']}", headers=api.bearer())
        assert_invalid_key(api.http.get("/me", headers=with_key(old["key"])))
        assert api.http.get("/me", headers=with_key(new["key"])).status_code == 200


class TestExpiry:
    def test_a_key_works_until_expires_at_and_not_from_it(self, api: Api) -> None:
        created = api.create_key(expiresAt=format_timestamp(T0 + 3600))
        api.clock.advance(3599)
        assert api.http.get("/me", headers=with_key(created["key"])).status_code == 200
        api.clock.advance(1)
        assert_invalid_key(api.http.get("/me", headers=with_key(created["key"])))

    def test_an_expired_key_keeps_its_metadata(self, api: Api) -> None:
        created = api.create_key(expiresAt=format_timestamp(T0 + 60))
        api.clock.advance(61)
        fetched = api.http.get(f"/api-keys/{created['id']}", headers=api.bearer()).json()
        assert fetched["expiresAt"] == format_timestamp(T0 + 60)


class TestRecognition:
    @pytest.mark.parametrize(
        "transform",
        [
            lambda key: key.replace("bsk_test_", "bsk_live_"),
            lambda key: key[:-1],
            lambda key: key + "A",
            lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
            lambda key: key.upper(),
            lambda key: key[9:],
            lambda key: "bsk_test_",
            lambda key: "",
            lambda key: key + "!",
            lambda key: " " + key,
        ],
        ids=["other-environment", "truncated", "extended", "altered", "upper", "no-prefix", "prefix-only",
             "empty", "punctuation", "leading-space"],
    )
    def test_anything_but_the_exact_key_is_invalid(self, api: Api, transform: Any) -> None:
        key = api.create_key()["key"]
        assert_invalid_key(api.http.get("/me", headers=with_key(transform(key))))

    def test_a_live_key_is_refused_in_test(self, api: Api) -> None:
        assert_invalid_key(api.http.get("/me", headers=with_key("bsk_live_" + "a" * 40)))


class TestScopes:
    @pytest.mark.parametrize(
        ("method", "path", "scope"),
        [("GET", "/organization", "organization:read"), ("GET", "/projects", "projects:read"),
         ("POST", "/projects", "projects:write"), ("GET", "/projects/prj_x", "projects:read"),
         ("DELETE", "/projects/prj_x", "projects:write")],
    )
    def test_a_key_without_the_scope_gets_403_naming_it(self, api: Api, method: str, path: str, scope: str) -> None:
        key = api.create_key(scopes=[s for s in ALL_SCOPES if s != scope])["key"]
        response = api.http.request(method, path, headers=with_key(key), json={"name": "p"})
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert response.json()["requiredScope"] == scope
        assert response.json()["message"]

    def test_a_key_with_no_scopes_can_still_ask_who_it_is(self, api: Api) -> None:
        key = api.create_key(scopes=[])["key"]
        assert api.http.get("/me", headers=with_key(key)).status_code == 200
        assert api.http.get("/projects", headers=with_key(key)).status_code == 403
