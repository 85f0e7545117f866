"""The wire rules of contract §2: JSON errors, challenges, malformed input, query-string credentials."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bsk_conformance.reference_server import Parts, create_app
from bsk_conformance.reference_server.projects import Projects
from bsk_conformance.reference_server.routes.discovery import contract_openapi

from .conftest import ALICE, Api

AUTHENTICATED = [("GET", "/me"), ("POST", "/auth/logout"), ("POST", "/auth/2fa/setup"), ("POST", "/auth/2fa/enable"),
                 ("POST", "/auth/2fa/disable"), ("POST", "/api-keys"), ("GET", "/api-keys"), ("GET", "/api-keys/x"),
                 ("DELETE", "/api-keys/x"), ("GET", "/organization"), ("GET", "/projects"), ("POST", "/projects"),
                 ("GET", "/projects/x"), ("DELETE", "/projects/x")]

#: Each path of the OpenAPI document and the methods it documents (the server serves exactly these).
DOCUMENTED_METHODS = {
    path: {method.upper() for method in item if method in {"get", "post", "put", "patch", "delete"}}
    for path, item in contract_openapi()["paths"].items()
}


def assert_error_body(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"]


class TestUnauthenticated:
    @pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
    def test_no_credentials_is_401_with_a_challenge(self, api: Api, method: str, path: str) -> None:
        response = api.http.request(method, path)
        assert_error_body(response, 401, "authentication_required")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="bsk"'

    @pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
    def test_a_refused_token_names_invalid_token(self, api: Api, method: str, path: str) -> None:
        response = api.http.request(method, path, headers={"Authorization": "Bearer nope"})
        assert_error_body(response, 401, "invalid_token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="bsk", error="invalid_token"'

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
    def test_the_scheme_is_case_insensitive(self, api: Api, scheme: str) -> None:
        token = api.tokens()["accessToken"]
        assert api.http.get("/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200

    def test_other_schemes_are_not_credentials(self, api: Api) -> None:
        response = api.http.get("/me", headers={"Authorization": "Basic YWxpY2U6cHc="})
        assert_error_body(response, 401, "authentication_required")

    def test_every_401_has_a_challenge(self, api: Api) -> None:
        responses = [
            api.http.post("/auth/login", json={"email": "x", "password": "y"}),
            api.http.post("/auth/refresh", json={"refreshToken": "rt_x"}),
            api.http.get("/me", headers={"X-API-Key": "bsk_test_nope"}),
            api.http.get("/me"),
        ]
        assert all(r.status_code == 401 and r.headers["WWW-Authenticate"].startswith('Bearer realm="bsk"')
                   for r in responses)


class TestQueryStringCredentials:
    def test_an_access_token_in_the_query_never_authenticates(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        response = api.http.get("/me", params={"access_token": token})
        assert_error_body(response, 401, "authentication_required")

    def test_an_api_key_in_the_query_never_authenticates(self, api: Api) -> None:
        key = api.create_key()["key"]
        for name in ("api_key", "apiKey", "X-API-Key", "key"):
            assert api.http.get("/projects", params={name: key}).status_code == 401


class TestBothCredentials:
    def test_a_bearer_token_and_a_key_together_are_400(self, api: Api) -> None:
        key = api.create_key(rateLimit=1)["key"]
        headers = {**api.bearer(), "X-API-Key": key}
        assert_error_body(api.http.get("/me", headers=headers), 400, "invalid_request")
        # Refused before either credential is used: the key's budget is untouched.
        assert api.http.get("/me", headers={"X-API-Key": key}).status_code == 200


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "raw",
        [b"", b"   ", b"{", b"not json", b"[]", b"[1, 2]", b'"a string"', b"42", b"null", b"true",
         b'{"email": "a", "password": NaN}', b'{"email": "a", "password": Infinity}',
         b"\xff\xfe{}", b'{"email": "\xc3\x28", "password": "x"}', b"\xef\xbb\xbf{}",
         b'{"email": "\\ud800", "password": "x"}', b"[" * 100_000, b'{"email": 1' + b"0" * 5000 + b'}'],
    )
    def test_bad_json_is_400(self, api: Api, raw: bytes) -> None:
        response = api.http.post("/auth/login", content=raw, headers={"content-type": "application/json"})
        assert_error_body(response, 400, "invalid_request")

    def test_a_body_over_64_kib_is_400(self, api: Api) -> None:
        body = b'{"email": "a", "password": "' + b"x" * 70_000 + b'"}'
        assert_error_body(api.http.post("/auth/login", content=body), 400, "invalid_request")

    def test_a_streamed_body_over_64_kib_is_400(self, api: Api) -> None:
        def chunks() -> Any:
            yield b'{"email": "a", "password": "'
            for _ in range(80):
                yield b"x" * 1024
            yield b'"}'

        assert_error_body(api.http.post("/auth/login", content=chunks()), 400, "invalid_request")

    def test_extra_fields_are_ignored(self, api: Api) -> None:
        assert api.http.post("/auth/login", json={**ALICE, "requestId": "r-1", "nested": {"a": [1]}}).status_code == 200

    def test_the_content_type_is_not_required(self, api: Api) -> None:
        import json

        response = api.http.post("/auth/login", content=json.dumps(ALICE).encode(),
                                 headers={"content-type": "text/plain"})
        assert response.status_code == 200

    def test_messages_never_echo_values(self, api: Api) -> None:
        response = api.http.post("/auth/login", json={"email": "a", "password": ["hunter2-secret"]})
        assert "hunter2" not in response.text


class TestRouting:
    def test_an_unknown_path_is_a_json_404(self, api: Api) -> None:
        assert_error_body(api.http.get("/nope"), 404, "not_found")

    def test_a_trailing_slash_is_not_redirected(self, api: Api) -> None:
        assert api.http.get("/me/", follow_redirects=False).status_code == 404

    def test_a_wrong_method_is_a_json_405(self, api: Api) -> None:
        response = api.http.put("/me")
        assert_error_body(response, 405, "method_not_allowed")
        assert response.headers["Allow"] == "GET"

    @pytest.mark.parametrize("path", [*DOCUMENTED_METHODS, "/_test/clock"])
    def test_a_405_allows_every_method_of_its_path(self, api: Api, path: str) -> None:
        """RFC 9110 §15.5.6: Allow lists the resource's methods, not those of
        one of the routes that share its path (OPTIONS /api-keys once said POST)."""
        served = DOCUMENTED_METHODS.get(path, {"GET", "POST"})
        concrete = path.replace("{id}", "x")
        for method in {"OPTIONS", "PUT", "PATCH", "GET", "POST", "DELETE"} - served:
            response = api.http.request(method, concrete)
            assert_error_body(response, 405, "method_not_allowed")
            assert set(response.headers["Allow"].split(", ")) == served, (method, path)

    def test_no_generated_docs(self, api: Api) -> None:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert api.http.get(path).status_code == 404


class _ExplodingProjects(Projects):
    def list(self, organization_id: str) -> Any:
        raise RuntimeError("boom with a secret: bsk_test_SECRETSECRET")


def test_an_unexpected_failure_is_a_json_500_logged_without_secrets(
    settings: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import dataclasses

    from .conftest import TestClient

    parts = Parts.build(settings, clock)
    parts = dataclasses.replace(parts, projects=_ExplodingProjects(parts.store, parts.clock))
    with TestClient(create_app(parts=parts), raise_server_exceptions=False) as client:
        token = client.post("/auth/login", json=ALICE).json()["accessToken"]
        with caplog.at_level(logging.DEBUG):
            response = client.get("/projects?access_token=leak", headers={"Authorization": f"Bearer {token}"})
    assert_error_body(response, 500, "internal_error")
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "RuntimeError" in server_log and "/projects" in server_log
    for secret in ("SECRET", "leak", token):
        assert secret not in server_log
