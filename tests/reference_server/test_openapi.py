"""The OpenAPI description (fixtures/contract-openapi.json) and what the server serves."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.openapi_shared_responses import apply
from tests.openapi_shared_responses import main as shared_main

from .conftest import Api

DOCUMENT = Path(__file__).resolve().parents[2] / "fixtures" / "contract-openapi.json"

#: Contract §3, plus the JWKS of §4.
CONTRACT_OPERATIONS = {
    ("post", "/auth/login"), ("post", "/auth/refresh"), ("post", "/auth/logout"), ("get", "/me"),
    ("post", "/auth/2fa/setup"), ("post", "/auth/2fa/enable"), ("post", "/auth/2fa/disable"),
    ("post", "/api-keys"), ("get", "/api-keys"), ("get", "/api-keys/{id}"), ("delete", "/api-keys/{id}"),
    ("get", "/organization"), ("get", "/projects"), ("post", "/projects"), ("get", "/projects/{id}"),
    ("delete", "/projects/{id}"), ("get", "/.well-known/jwks.json"),
}
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text("utf-8"))
    return loaded


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m, p): op for p, item in document["paths"].items() for m, op in item.items() if m in METHODS}


def test_the_server_serves_the_fixture(api: Api, document: dict[str, Any]) -> None:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200 and response.json() == document


def test_it_is_openapi_3_1_with_both_security_schemes(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"] == {**schemes["apiKeyAuth"], "type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_every_contract_operation_and_nothing_else(document: dict[str, Any]) -> None:
    assert set(operations(document)) == CONTRACT_OPERATIONS
    assert not any(path.startswith("/_test") for path in document["paths"])  # a fuzzer must not move time


def test_every_error_status_is_described_with_the_error_schema(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for (method, path), operation in operations(document).items():
        assert operation["operationId"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                name = response["$ref"].rsplit("/", 1)[1]
                schema = responses[name]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_authenticated_operations_describe_401_and_429(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        if operation["security"]:
            assert {"400", "401", "429"} <= set(operation["responses"]), (method, path)


def test_links_for_stateful_runs(document: dict[str, Any]) -> None:
    login_links = document["paths"]["/auth/login"]["post"]["responses"]["200"]["links"]
    assert login_links["GetMe"]["operationId"] == "getMe"
    assert "$response.body#/accessToken" in login_links["GetMe"]["parameters"]["header.Authorization"]
    key_links = document["paths"]["/api-keys"]["post"]["responses"]["201"]["links"]
    assert key_links["GetApiKey"] == {**key_links["GetApiKey"], "operationId": "getApiKey",
                                      "parameters": {"path.id": "$response.body#/id"}}


def test_every_shared_answer_is_referenced_where_it_can_occur(document: dict[str, Any]) -> None:
    """Both credentials (400), a key out of budget (429), an oversized body (413):
    tests/openapi_shared_responses.py adds them; the document is its output."""
    assert apply(copy.deepcopy(document)) == document, "run python -m tests.openapi_shared_responses"
    assert shared_main(["--check"]) == 0


def test_the_shared_answers_script_restores_a_forgotten_one(document: dict[str, Any]) -> None:
    forgetful = copy.deepcopy(document)
    del forgetful["paths"]["/projects"]["post"]["responses"]["413"]
    del forgetful["paths"]["/me"]["get"]["responses"]["429"]
    assert apply(forgetful) == document


def test_the_shared_answers_script_never_overwrites_another_answer(document: dict[str, Any]) -> None:
    clashing = copy.deepcopy(document)
    clashing["paths"]["/projects"]["post"]["responses"]["413"] = {"$ref": "#/components/responses/BadRequest"}
    with pytest.raises(ValueError, match="POST /projects: 413"):
        apply(clashing)
