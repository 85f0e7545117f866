"""Contract §1, §4 — Secrets in URLs, in answers, at rest and in logs.

   "Tokens or keys in the query string (?access_token=, ?api_key=) never
    authenticate: the request is treated as unauthenticated (401)."
   "security recommendations: never tokens in URLs (headers only); refresh tokens stored securely"
   "only the prefix is stored (plus a one-way hash to verify); the full key cannot be retrieved after creation"

What the harness sent is never shown back: each check below presents a secret
somewhere a careless server might repeat it (an error message quoting the
body, a challenge quoting the token) and reads the raw answer for it.

Storage and logs can only be read when the harness runs the bundled server
itself: those checks ask for the `server` fixture, which makes them not
verified against a remote target.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bsk_conformance.harness.api import DISPLAYED_SECRET_CHARS, SCOPES, Account, expect, expect_error, requirement

from ._wire import JSON, echoes

PROBES = ("/me", "/projects")


# -- secrets in the query string ----------------------------------------------------------------


@requirement("BSK-SEC-001")
@pytest.mark.parametrize("path", PROBES)
def test_access_token_in_the_query_string_does_not_authenticate(path, user, target):
    context = f"GET {path}?access_token=<a valid access token>, no Authorization header"
    with target.evidence.note(context):
        response = target.get(path, params={"access_token": user.access_token})
    expect_error(response, 401, context=context)


@requirement("BSK-SEC-002")
@pytest.mark.parametrize("path", PROBES)
def test_api_key_in_the_query_string_does_not_authenticate(path, user, resources, target):
    key = resources.create_key(user, scopes=SCOPES)["key"]
    context = f"GET {path}?api_key=<a valid key with every scope>, no X-API-Key header"
    with target.evidence.note(context):
        response = target.get(path, params={"api_key": key})
    expect_error(response, 401, context=context)


# -- secrets echoed -----------------------------------------------------------------------------


def _query_token(target, user, resources):
    return target.get("/me", params={"access_token": user.access_token}), [user.access_token]


def _query_key(target, user, resources):
    key = resources.create_key(user, scopes=[])["key"]
    return target.get("/me", params={"api_key": key}), [key]


def _refresh_token_as_bearer(target, user, resources):
    return target.get("/me", bearer=user.refresh_token), [user.refresh_token]


def _access_token_as_refresh_token(target, user, resources):
    return target.refresh(user.access_token), [user.access_token]


def _altered_key(target, user, resources):
    key = resources.create_key(user, scopes=[])["key"]
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    target.secret(altered, "api-key")
    return target.get("/me", api_key=altered), [altered, key]


def _malformed_login(target, user, resources):
    password = user.account.password
    body = {"email": [user.account.email], "password": password}
    return target.post("/auth/login", json=body), [password]


def _unknown_email_login(target, user, resources):
    password = user.account.password
    tried = Account("nobody-echo@bsk-conformance.invalid", password)
    return target.login(tried), [password]


def _malformed_logout(target, user, resources):
    body = {"refreshToken": [user.refresh_token]}
    return target.post("/auth/logout", json=body, bearer=user.access_token), [user.refresh_token, user.access_token]


ECHO_PROBES = {
    "access-token-in-query": ("GET /me?access_token=<token>", _query_token),
    "api-key-in-query": ("GET /me?api_key=<key>", _query_key),
    "refresh-token-as-bearer": ("GET /me with a refresh token as the bearer token", _refresh_token_as_bearer),
    "access-token-as-refresh-token": ("POST /auth/refresh with an access token", _access_token_as_refresh_token),
    "altered-key": ("GET /me with a key whose last character was changed", _altered_key),
    "malformed-login": ("POST /auth/login with the real password and a mistyped email", _malformed_login),
    "unknown-email-login": ("POST /auth/login with a real password and an unknown email", _unknown_email_login),
    "malformed-logout": ("POST /auth/logout with the refresh token inside a list", _malformed_logout),
}


@requirement("BSK-SEC-003")
@pytest.mark.parametrize("probe", sorted(ECHO_PROBES))
def test_no_secret_the_harness_sent_is_echoed(probe, user, resources, target):
    context, send = ECHO_PROBES[probe]
    with target.evidence.note(context):
        response, sent = send(target, user, resources)
    shown = echoes(response, sent)
    expect(
        not shown,
        "an answer that repeats none of the secrets the request carried",
        f"HTTP {response.status_code} showing {'; '.join(shown)}",
        context,
    )


# -- at rest and in logs: the bundled server, run in-process -------------------------------------


def _stored_bytes(database: Path) -> bytes:
    """The SQLite file and any journal beside it."""
    parts = []
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-journal", "-shm"))):
        if path.exists():
            parts.append(path.read_bytes())
    return b"".join(parts)


def _stored_forms(key: str, secret: str) -> dict[str, bytes]:
    """What finding in storage would mean the key is kept retrievably: the key, simple
    encodings of it, and any run of its secret longer than the displayed prefix."""
    raw = key.encode()
    forms = {
        "the whole key": raw,
        "the key in hex": raw.hex().encode(),
        "the key in base64": base64.b64encode(raw).rstrip(b"="),
        "the key in base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
    }
    width = DISPLAYED_SECRET_CHARS + 1
    for start in range(len(secret) - width + 1):
        forms[f"secret characters {start + 1}..{start + width}"] = secret[start : start + width].encode()
    return forms


@requirement("BSK-SEC-004")
def test_keys_are_stored_only_as_prefix_and_one_way_hash(server, user, resources, target):
    keys = [resources.create_key(user, scopes=scopes)["key"] for scopes in ([], ["projects:read"], SCOPES)]
    prefix = target.profile.key_prefix
    stored = _stored_bytes(Path(server.database))
    for key in keys:
        # the displayed prefix may be stored; blank it, so that the bytes stored next to
        # it (a hash, say) cannot pass for the secret characters that follow it
        stored = stored.replace(key[: len(prefix) + DISPLAYED_SECRET_CHARS].encode(), b"\0")
    for number, key in enumerate(keys, start=1):
        secret = key[len(prefix) :] if key.startswith(prefix) else key
        found = [what for what, form in _stored_forms(key, secret).items() if form in stored]
        expect(
            not found,
            "only the prefix (environment prefix + 8 characters) and a one-way hash",
            f"{', '.join(found[:3])}{' …' if len(found) > 3 else ''} in the database file",
            f"key {number} of {len(keys)} just created, at rest",
        )


MIN_LOGGED_SECRET = 12  # shorter registered strings (TOTP codes) could match a log line by chance


@requirement("BSK-SEC-005")
@pytest.mark.runs_last
def test_no_secret_of_the_run_reaches_the_server_log(server, user, resources, target):
    """Runs last, to judge every secret this process used. It first presents
    secrets where a careless server would log them."""
    key = resources.create_key(user, scopes=SCOPES)["key"]
    with target.evidence.note("requests a careless server would log"):
        target.get("/me", params={"access_token": user.access_token})
        target.get("/me", params={"api_key": key})
        target.get("/me", api_key=key)
        target.get("/me", bearer=user.refresh_token)
        target.refresh(user.access_token)
        target.post("/auth/login", content=b'{"email": "nobody@bsk-conformance.invalid", "password": ', headers=JSON)
        target.post("/auth/login", json={"email": [user.account.email], "password": user.account.password})
    lines = list(server.log.lines)
    known = target.evidence.redactor.known()
    logged = sorted(
        {
            kind
            for secret, kind in known.items()
            if len(secret) >= MIN_LOGGED_SECRET and any(secret in line for line in lines)
        }
    )
    expect(
        not logged,
        "no password, token, key or TOTP secret in the server's log",
        f"{len(lines)} log lines holding secrets of kind {', '.join(logged)}",
        "the server's log output",
    )
