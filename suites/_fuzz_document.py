"""The OpenAPI document schema fuzzing works from, and the surgery done on it.

The document is the target's `/openapi.json` when it serves one, else the
harness's own description of the contract (`fixtures/contract-openapi.json`).
Only the contract's operations are fuzzed (`CONTRACT_OPERATIONS`): whatever
else a target documents (`/_test/clock` above all, which would move time
under every other check) is left alone. The stateful run needs the links
login → create a key → use the key, which `with_chain_links` adds where the
document lacks them.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from typing import Any

_TEMPLATE = re.compile(r"\{[^}/]*\}")
_METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def contract_document() -> dict[str, Any]:
    """The harness's OpenAPI description of the contract."""
    text = importlib.resources.files("bsk_conformance.fixtures").joinpath("contract-openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def operation_key(method: str, path: str) -> tuple[str, str]:
    """("GET", "/projects/{}"): path templates compared without their names."""
    return method.upper(), _TEMPLATE.sub("{}", path.rstrip("/") or "/")


CONTRACT_OPERATIONS = frozenset(
    operation_key(method, path)
    for path, item in contract_document()["paths"].items()
    for method in item
    if method in _METHODS
)


def document_for(target) -> tuple[dict[str, Any], str]:
    """A private copy of the document to fuzz with, and where it came from."""
    if target.capabilities.openapi is not None:
        return copy.deepcopy(target.capabilities.openapi), "the target's /openapi.json"
    return contract_document(), "the harness's OpenAPI description of the contract"


# The links the stateful run needs, added to the fuzzer's copy of the document
# when it lacks them: login → create a key with the token → use the key.
CHAIN_LINKS = (
    (
        ("POST", "/auth/login"),
        "200",
        "BskCreateApiKey",
        ("POST", "/api-keys"),
        {"header.Authorization": "Bearer {$response.body#/accessToken}"},
    ),
    (("POST", "/api-keys"), "201", "BskUseKey", ("GET", "/me"), {"header.X-API-Key": "$response.body#/key"}),
)


def find_operation(document: dict[str, Any], key: tuple[str, str]) -> tuple[str, str] | None:
    """The document's (path, method) for an operation key, if it has one."""
    for path, item in document.get("paths", {}).items():
        for method in item:
            if operation_key(method, path) == key:
                return path, method
    return None


def with_chain_links(document: dict[str, Any]) -> dict[str, Any]:
    """The document with CHAIN_LINKS added where missing (a private copy)."""
    document = copy.deepcopy(document)
    for source, status, name, destination, parameters in CHAIN_LINKS:
        found, goal = find_operation(document, source), find_operation(document, destination)
        if found is None or goal is None:
            continue
        responses = document["paths"][found[0]][found[1]].setdefault("responses", {})
        response = responses.get(status)
        if not isinstance(response, dict):
            continue
        if "$ref" in response:  # links go on the response itself: inline a local reference
            response = copy.deepcopy(_resolve(document, response["$ref"]))
            responses[status] = response
        links = response.setdefault("links", {})
        pointer = "#/paths/" + goal[0].replace("~", "~0").replace("/", "~1") + "/" + goal[1]
        if not any(link.get("operationRef") == pointer for link in links.values() if isinstance(link, dict)):
            links[name] = {"operationRef": pointer, "parameters": parameters}
    return document


def _resolve(document: dict[str, Any], reference: str) -> dict[str, Any]:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
