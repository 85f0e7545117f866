"""Contract §3, §5 — Defaults, shown in behaviour.

   "POST /api-keys {name, scopes, rateLimit?, expiresAt?} … rateLimit default 60
    (requests/minute, 1..10000); expiresAt null = never"
   "Each key admits at most rateLimit requests in any 60-second window; the
    next gets 429 {"error":"rate_limited"}"

A default the metadata states correctly can still be a different default in
what the key does (a gateway limiter of 100 behind metadata of 60, a "never"
stored as thirty days). So each default is shown the way an explicit value
is: by using the key. Defaults the older checks already show in behaviour stay
with them: empty scopes grant nothing scoped (BSK-SCP-001..007), a bearer
token carries every scope (BSK-SCP-006), a key without scopes is 400
(BSK-KEY-018).
"""

from __future__ import annotations

from bsk_conformance.harness.api import (
    advance_to,
    expect_error,
    expect_json_object,
    expect_status,
    requirement,
)

DEFAULT_RATE_LIMIT = 60  # requests per 60-second window (§3)
READ = ["projects:read"]
# Far past any lifetime a vendor might quietly give a key ("30 days", "a year", "five years")
TEN_YEARS = 3650 * 86_400


@requirement("BSK-DEF-001")
def test_a_key_created_without_rate_limit_admits_exactly_60_then_429(user, resources, target):
    key = resources.create_key(user, scopes=READ)["key"]
    for n in range(1, DEFAULT_RATE_LIMIT + 1):
        expect_status(target.get("/projects", api_key=key), 200,
                      context=f"GET /projects, request {n} of a key created without rateLimit (default 60)")
    expect_error(target.get("/projects", api_key=key), 429, "rate_limited",
                 f"GET /projects, request {DEFAULT_RATE_LIMIT + 1} of a key created without rateLimit (default 60)")


@requirement("BSK-DEF-002")
def test_a_key_created_with_expires_at_null_or_absent_works_ten_years_on(user, resources, target, clock):
    absent = resources.create_key(user, scopes=READ)
    response = resources.create_key_response(user, name=resources.unique_name("key"), scopes=READ, expiresAt=None)
    expect_status(response, 201, context="POST /api-keys with expiresAt null")
    null = expect_json_object(response, "POST /api-keys with expiresAt null")
    target.secret(null.get("key"), "api-key")
    keys = {"without expiresAt": absent.get("key"), "with expiresAt null": null.get("key")}
    for what, key in keys.items():
        expect_status(target.get("/me", api_key=key), 200, context=f"GET /me with a key created {what}")
    advance_to(clock, clock.now() + TEN_YEARS)
    for what, key in keys.items():
        expect_status(target.get("/me", api_key=key), 200,
                      context=f"GET /me ten years on, with a key created {what} (null = never expires)")
