"""Contract §2 — Wire format: Cache-Control on answers that hold secrets.

   "Token responses carry Cache-Control: no-store (RFC 6749 §5.1)."

The key-creation answer is the only response that shows a new API key
(§1: "the full key is shown only once, at creation"): BSK-WIRE-006, a SHOULD.
"""

from __future__ import annotations

import httpx
import pytest

from bsk_conformance.harness.api import Account, expect, expect_json_object, expect_status, requirement

from ._wire import cache_directives


def _expect_no_store(response: httpx.Response, context: str) -> None:
    directives = cache_directives(response)
    expect(
        "no-store" in directives,
        "Cache-Control: no-store",
        f"Cache-Control {response.headers.get_list('cache-control')!r}" if directives else "no Cache-Control",
        context,
    )


def _login(target, registry, account: Account) -> httpx.Response:
    code = registry.next_code(account) if registry.secret(account) else None
    return target.login(account, code)


@requirement("BSK-WIRE-005")
@pytest.mark.parametrize("operation", ["login", "refresh"])
def test_token_responses_carry_cache_control_no_store(operation, target, two_factor_registry, alice):
    response = _login(target, two_factor_registry, alice)
    expect_status(response, 200, context="POST /auth/login")
    tokens = expect_json_object(response, "login answer")
    if operation == "refresh":
        response = target.refresh(tokens.get("refreshToken", ""))
        expect_status(response, 200, context="POST /auth/refresh")
        tokens = expect_json_object(response, "refresh answer")
    try:
        _expect_no_store(response, f"POST /auth/{operation} answered tokens")
    finally:
        target.post(
            "/auth/logout", bearer=tokens.get("accessToken", ""), json={"refreshToken": tokens.get("refreshToken", "")}
        )


@requirement("BSK-WIRE-006")
def test_key_creation_carries_cache_control_no_store(target, reader, resources):
    response = resources.create_key_response(reader, name=resources.unique_name(), scopes=[])
    expect_status(response, 201, context="POST /api-keys")
    target.secret(expect_json_object(response, "POST /api-keys").get("key"), "api-key")
    _expect_no_store(response, "POST /api-keys answered a new key")
