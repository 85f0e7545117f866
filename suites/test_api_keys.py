"""Contract §1, §3, §4, §8 — API keys.

   "the full key is shown only once, at creation"
   "API key: bsk_test_ or bsk_live_ (by the deployment's environment), then at
    least 32 characters of [A-Za-z0-9] from a CSPRNG. prefix in metadata is the
    environment prefix plus at most the first 8 secret characters. A key of the
    other environment's prefix is rejected with 401 invalid_api_key."
   "Unknown, malformed, revoked and expired keys: 401 invalid_api_key."

Metadata may show at most 8 characters of a secret (inside `prefix`), so any
9 consecutive secret characters anywhere but the creation answer are a leak;
and a metadata value holding a piece of its key's secret is a leak however
short, down to a "last four" hint, once the same field does so for two keys
(suites/_keys.py, SHORTEST_PIECE, says why two).
Keys go through `resources`, so they are revoked even when a check fails.
"""

from __future__ import annotations

import math

import pytest

from bsk_conformance.harness.api import (
    DISPLAYED_SECRET_CHARS,
    SCOPES,
    expect,
    expect_error,
    expect_fields,
    expect_json_object,
    expect_status,
    fail,
    format_rfc3339,
    not_verified,
    parse_rfc3339,
    requirement,
)

from ._keys import (
    KEY_SHAPE,
    alnum_runs,
    confirmed_pieces,
    describe_pieces,
    documented_prefix,
    metadata_pieces,
    random_secret,
    shows_secret,
    split_key,
)
from ._observed import observed

METADATA_FIELDS = {"id": str, "name": str, "prefix": str, "scopes": list, "rateLimit": int,
                   "organizationId": str, "createdAt": str}
SAMPLE_SIZE = 8


def _metadata_without_secret(response, key: str, target, context: str) -> dict:
    """The response is key metadata (or a list of it) that shows nothing of the key beyond prefix."""
    expect_status(response, 200, context=context)
    body = expect_json_object(response, context)
    shown = shows_secret(response.text, key, target.profile)
    expect(shown is None, "no part of the key beyond its prefix", f"the answer holds {shown}", context)
    return body


def _two_keys(user, resources) -> list[tuple[dict, set[str]]]:
    """Two keys, each with the runs the client sent creating it (its name and
    scopes: echoing them is not showing the key)."""
    made = []
    for _ in range(2):
        name, scopes = resources.unique_name("key"), ["organization:read"]
        made.append((resources.create_key(user, scopes=scopes, name=name), alnum_runs(" ".join([name, *scopes]))))
    return made


def _expect_no_pieces(pieces: dict[str, dict[str, int]], context: str) -> None:
    """No field holds a piece of its own key's secret, for both keys (§3: nothing of the secret beyond prefix)."""
    confirmed = confirmed_pieces(pieces)
    expect(not confirmed, "no metadata value (prefix aside) holding a piece of its key's secret, however short",
           describe_pieces(confirmed), context)


def _timestamp(value: object) -> float:
    try:
        return parse_rfc3339(value)
    except ValueError:
        fail("createdAt as an RFC 3339 date-time", repr(value), "created key")


def _use(target, key: str, path: str = "/me"):
    return target.get(path, api_key=key)


# -- shown once ------------------------------------------------------------


@requirement("BSK-KEY-001")
def test_creation_answers_201_with_the_key_and_its_metadata(user, resources):
    name, scopes = resources.unique_name("key"), ["organization:read", "projects:read"]
    response = resources.create_key_response(user, name=name, scopes=scopes, rateLimit=120)
    context = "POST /api-keys"
    expect_status(response, 201, context=context)
    body = expect_json_object(response, context)
    expect_fields(body, {**METADATA_FIELDS, "key": str}, "created key")
    expect("expiresAt" in body and body["expiresAt"] is None, "expiresAt null (no expiry was asked)",
           repr(body.get("expiresAt", "no expiresAt field")), "created key")
    expect(body["name"] == name, f"name {name!r}", repr(body["name"]), "created key")
    expect(sorted(body["scopes"]) == sorted(scopes), f"scopes {sorted(scopes)}", body["scopes"], "created key")
    expect(body["rateLimit"] == 120, "rateLimit 120", body["rateLimit"], "created key")
    _timestamp(body["createdAt"])


@requirement("BSK-KEY-002")
def test_get_by_id_never_shows_the_key(user, resources, target):
    context = "GET /api-keys/{id} of a key just created"
    pieces = {}
    for created, sent in _two_keys(user, resources):
        body = _metadata_without_secret(user.get(f"/api-keys/{created['id']}"), created["key"], target, context)
        expect("key" not in body, 'no "key" field', f"fields {sorted(body)}", context)
        expect(body.get("id") == created["id"], "the key's own metadata", f"id {body.get('id')!r}", context)
        pieces[created["key"]] = metadata_pieces(body, created["key"], target.profile, sent)
    _expect_no_pieces(pieces, f"{context}, two keys")


@requirement("BSK-KEY-003")
def test_list_never_shows_the_key(user, resources, target):
    made = _two_keys(user, resources)
    context = "GET /api-keys after creating two keys"
    response = user.get("/api-keys")
    for created, _ in made:
        body = _metadata_without_secret(response, created["key"], target, context)
    items = body.get("data")
    expect(isinstance(items, list) and all(isinstance(i, dict) for i in items), '"data": a list of key metadata',
           target.evidence.redactor.quote(repr(items), 200), context)
    with_key = [i.get("id") for i in items if "key" in i]
    expect(not with_key, 'no item with a "key" field', f"{len(with_key)} item(s) with one", context)
    pieces = {}
    for created, sent in made:
        own = [i for i in items if i.get("id") == created["id"]]
        expect(bool(own), "each key just created among the items", f"{len(items)} items without one of them", context)
        pieces[created["key"]] = metadata_pieces(own[0], created["key"], target.profile, sent)
    _expect_no_pieces(pieces, context)


@requirement("BSK-KEY-004")
@pytest.mark.runs_last
def test_no_later_response_of_the_run_shows_an_issued_key(whole_run_key_leaks, user, resources, target):
    """Judges the whole run: every response after a key's creation, in every
    check, must not hold that key nor 9+ consecutive characters of its secret,
    and no metadata field may hold a piece of its own key's secret for two keys.

    It runs last (suites/conftest.py) and first makes traffic of its own (get,
    list, use, revoke, use again; two keys, so metadata is judged by value)
    so it has something to judge even when run alone. Under pytest-xdist each
    worker scans its own traffic; this check runs in the serial phase, after
    every other worker has finished, and judges their findings with its own
    (a key issued in one worker and shown in another is seen by neither)."""
    key_leak_scanner = whole_run_key_leaks
    created = resources.create_key(user, scopes=["organization:read", "projects:read"])
    second = resources.create_key(user, scopes=["organization:read"])
    user.get(f"/api-keys/{created['id']}")
    user.get(f"/api-keys/{second['id']}")
    user.get("/api-keys")
    _use(target, created["key"])
    _use(target, created["key"], "/organization")
    revoke = user.delete(f"/api-keys/{created['id']}")
    if revoke.status_code == 204:
        resources.forget_key(created["id"])
    _use(target, created["key"])
    if key_leak_scanner.problems:
        raise RuntimeError(f"the key-leak scanner failed: {key_leak_scanner.problems[0]}")
    expect(key_leak_scanner.issued > 0, "at least one key issued and watched", "none", "key-leak scanner")
    expect(not key_leak_scanner.leaks,
           "no response after a key's creation holding the key or more than 8 characters of its secret, "
           "and no metadata field holding a piece of its key's secret",
           f"{len(key_leak_scanner.leaks)} did: {key_leak_scanner.describe()}",
           f"{key_leak_scanner.responses_scanned} responses scanned, {key_leak_scanner.issued} keys issued")


# -- the shape of a key ------------------------------------------------------


@requirement("BSK-KEY-005")
def test_key_is_a_documented_prefix_and_32_or_more_alphanumerics(user, resources):
    key = resources.create_key(user, scopes=["organization:read"])["key"]
    prefix, secret = split_key(key, user.target.profile)
    expect(KEY_SHAPE.match(key) is not None, r"a key matching ^bsk_(test|live)_[A-Za-z0-9]{32,}$",
           f"a key of {len(key)} characters starting {prefix or key[:4]!r}, with a secret of {len(secret)}",
           "created key")


@requirement("BSK-KEY-006")
def test_key_prefix_is_the_deployments_environment(user, resources, target):
    key = resources.create_key(user, scopes=["organization:read"])["key"]
    wanted = target.profile.key_prefix
    expect(key.startswith(wanted), f"a key starting {wanted!r} (environment {target.profile.environment!r})",
           f"a key starting {key[:len(wanted)]!r}", "created key")


@requirement("BSK-KEY-007")
def test_key_secrets_are_not_degenerate_over_a_sample(user, resources, target):
    # Bounds a CSPRNG meets with overwhelming probability. Eight secrets of at
    # least 32 characters are at least 256 uniform draws from 62 characters:
    # - fewer than 20 distinct characters: at most C(62,19) * (19/62)^256
    #   ~ 1e15 * 1e-131 = 1e-116;
    # - no digit at all: (52/62)^256 ~ 3e-20; no letter: (10/62)^256 ~ 1e-203;
    # - one secret a single repeated character: 62^-31 ~ 3e-56 each;
    # - two equal keys: 28 pairs * 62^-32 ~ 1e-56.
    keys = [resources.create_key(user, scopes=["organization:read"])["key"] for _ in range(SAMPLE_SIZE)]
    secrets = [split_key(key, target.profile)[1] for key in keys]
    context = f"a sample of {SAMPLE_SIZE} new keys"
    expect(len(set(keys)) == SAMPLE_SIZE, f"{SAMPLE_SIZE} different keys", f"{len(set(keys))} different", context)
    flat = [secret for secret in secrets if len(set(secret)) <= 1]
    expect(not flat, "no secret made of one repeated character", f"{len(flat)} such secret(s)", context)
    pooled = "".join(secrets)
    distinct = len(set(pooled))
    expect(distinct >= 20, "at least 20 distinct characters across the secrets", f"{distinct}", context)
    expect(any(c.isdigit() for c in pooled) and any(c.isalpha() for c in pooled),
           "both letters and digits across the secrets",
           "only digits" if pooled.isdigit() else "only letters", context)


@requirement("BSK-KEY-008")
def test_metadata_prefix_is_the_environment_prefix_and_at_most_8_secret_characters(user, resources, target):
    created = resources.create_key(user, scopes=["organization:read"])
    key = created["key"]
    environment_prefix = documented_prefix(key, target.profile)
    listed = expect_json_object(user.get("/api-keys"), "GET /api-keys").get("data") or []
    fetched = expect_json_object(user.get(f"/api-keys/{created['id']}"), "GET /api-keys/{id}")
    answers = [("creation answer", created), ("GET /api-keys/{id}", fetched)]
    answers += [("GET /api-keys", item) for item in listed
                if isinstance(item, dict) and item.get("id") == created["id"]]
    for where, metadata in answers:
        prefix = metadata.get("prefix")
        context = f"prefix in the {where}"
        expect(isinstance(prefix, str), "a string prefix", repr(prefix), context)
        expect(prefix.startswith(environment_prefix), f"a prefix starting {environment_prefix!r}",
               f"one starting {prefix[:len(environment_prefix)]!r}", context)
        shown = len(prefix) - len(environment_prefix)
        expect(shown <= DISPLAYED_SECRET_CHARS, f"at most {DISPLAYED_SECRET_CHARS} secret characters after it",
               f"{shown}", context)
        expect(key.startswith(prefix), "the first characters of the key", "characters that do not begin the key",
               context)


# -- keys that are refused ---------------------------------------------------


@requirement("BSK-KEY-009")
def test_key_with_the_other_environments_prefix_is_401_invalid_api_key(user, resources, target):
    key = resources.create_key(user, scopes=["organization:read"])["key"]
    own, other = target.profile.key_prefix, target.profile.other_key_prefix
    if not key.startswith(own):
        not_verified(f"the key issued does not start with {own!r} (see BSK-KEY-006), so there is no "
                     "same secret under the other environment's prefix to present")
    expect_status(_use(target, key), 200, context="GET /me with the genuine key")
    swapped = other + key[len(own):]
    target.secret(swapped, "api-key")
    with target.evidence.note(f"the key's secret under {other!r}"):
        response = _use(target, swapped)
    expect_error(response, 401, "invalid_api_key", f"GET /me with the key's secret under {other!r}")


@requirement("BSK-KEY-010")
def test_unknown_key_is_401_invalid_api_key(user, resources, target):
    genuine = resources.create_key(user, scopes=["organization:read"])["key"]
    last = genuine[-1]
    altered = genuine[:-1] + ("A" if last != "A" else "B")
    candidates = {
        "a well-formed key never issued": target.profile.key_prefix + random_secret(40),
        "a real key with its last character changed": altered,
    }
    for what, key in candidates.items():
        target.secret(key, "api-key")
        with target.evidence.note(what):
            response = _use(target, key)
        expect_error(response, 401, "invalid_api_key", f"GET /me with {what}")


@requirement("BSK-KEY-011")
def test_malformed_key_is_401_invalid_api_key(target):
    # Every X-API-Key value the harness sends is registered as a secret and
    # redacted from every report, so none is a string that reports hold for
    # other reasons: not the bare prefix (the catalogue names it), not a word.
    prefix = target.profile.key_prefix
    candidates: dict[str, str | bytes] = {
        "a prefix and a 31-character secret (too short)": prefix + random_secret(31),
        "a random word with no prefix": "nokey" + random_secret(12),
        "a 4096-character key": prefix + "A" * 4096,
        "a key of punctuation": prefix + "!#$%&'*+-.^_`|~" * 3,
        "a key with non-ASCII (UTF-8) bytes": (prefix + "é" * 32).encode("utf-8"),
    }
    for what, key in candidates.items():
        with target.evidence.note(f"malformed key: {what}"):
            response = target.get("/me", headers={"X-API-Key": key})
        expect_error(response, 401, "invalid_api_key", f"GET /me with {what}")


@requirement("BSK-KEY-012")
def test_revoked_key_is_401_invalid_api_key(user, resources, target):
    created = resources.create_key(user, scopes=list(SCOPES))
    expect_status(_use(target, created["key"]), 200, context="GET /me with the key before revocation")
    expect_status(user.delete(f"/api-keys/{created['id']}"), 204, context="DELETE /api-keys/{id}")
    resources.forget_key(created["id"])
    for path in ("/me", "/organization", "/projects"):
        expect_error(_use(target, created["key"], path), 401, "invalid_api_key", f"GET {path} with a revoked key")


@requirement("BSK-KEY-013")
def test_revocation_takes_effect_on_the_very_next_request(user, resources, target):
    created = resources.create_key(user, scopes=["organization:read"])
    expect_status(_use(target, created["key"]), 200, context="GET /me with the key before revocation")
    response = user.delete(f"/api-keys/{created['id']}")
    expect_status(response, 204, context="DELETE /api-keys/{id}")
    resources.forget_key(created["id"])
    expect_error(_use(target, created["key"]), 401, "invalid_api_key", "GET /me right after DELETE /api-keys/{id}")


@requirement("BSK-KEY-014")
def test_key_is_refused_from_its_expires_at(user, resources, target, clock):
    lifetime = 60
    if not clock.can_advance(lifetime + 2 * clock.tolerance + 2):
        not_verified(f"needs the target's time moved by {lifetime} s past a key's expiresAt")
    # the target's own now, as observed (suites/_observed.py): a target whose
    # clock was moved ahead (by an earlier run) would refuse an expiry placed
    # by the harness's clock as past. Never from a createdAt the target wrote,
    # which may itself be off (BSK-OBS-003 judges it)
    _, seen = observed(target, clock, lambda: user.get("/me"))
    skew = max(0.0, seen.before - clock.now())
    now = lambda: clock.now() + skew  # noqa: E731
    expires = math.floor(now()) + lifetime
    created = resources.create_key(user, scopes=["organization:read"], expires_at=format_rfc3339(expires))
    clock.advance(max(0.0, expires - 1 - clock.tolerance - now()))
    expect_status(_use(target, created["key"]), 200, context="GET /me with a key 1 s before its expiresAt")
    clock.advance(max(0.0, expires + 1 + clock.tolerance - now()))
    expect_error(_use(target, created["key"]), 401, "invalid_api_key", "GET /me with a key 1 s past its expiresAt")


# -- what creation refuses and accepts -----------------------------------------


def _refused(resources, user, body: dict, what: str) -> None:
    response = resources.create_key_response(user, **body)
    expect_error(response, 400, "invalid_request", f"POST /api-keys with {what}")


@requirement("BSK-KEY-015")
def test_unknown_scope_is_400_invalid_request(user, resources):
    for scopes in (["projects:admin"], ["organization:read", "organization:write"]):
        _refused(resources, user, {"name": resources.unique_name("key"), "scopes": scopes}, f"scopes {scopes}")


@requirement("BSK-KEY-016")
def test_rate_limit_outside_1_to_10000_or_not_an_integer_is_400_invalid_request(user, resources):
    for limit in (0, -1, 10001, 1.5, "60"):
        body = {"name": resources.unique_name("key"), "scopes": ["organization:read"], "rateLimit": limit}
        _refused(resources, user, body, f"rateLimit {limit!r}")


@requirement("BSK-KEY-017")
def test_past_expires_at_is_400_invalid_request(user, resources, clock):
    past = format_rfc3339(clock.now() - 3600)
    body = {"name": resources.unique_name("key"), "scopes": ["organization:read"], "expiresAt": past}
    _refused(resources, user, body, "an expiresAt an hour ago")


@requirement("BSK-KEY-018")
def test_missing_or_mistyped_name_or_scopes_is_400_invalid_request(user, resources):
    name = resources.unique_name("key")
    bodies = {
        "no name": {"scopes": ["organization:read"]},
        "no scopes": {"name": name},
        "scopes a string": {"name": name, "scopes": "organization:read"},
        "name a number": {"name": 42, "scopes": ["organization:read"]},
    }
    for what, body in bodies.items():
        _refused(resources, user, body, what)


@requirement("BSK-KEY-019")
def test_key_with_empty_scopes_is_created_and_authenticates(user, resources, target):
    created = resources.create_key(user, scopes=[])
    expect(created.get("scopes") == [], "scopes []", repr(created.get("scopes")), "created key")
    response = _use(target, created["key"])
    expect_status(response, 200, context="GET /me with a key of no scopes")
    scopes = expect_json_object(response, "GET /me").get("scopes")
    expect(scopes == [], "scopes []", repr(scopes), "GET /me with a key of no scopes")


@requirement("BSK-KEY-020")
def test_rate_limit_defaults_to_60(user, resources):
    created = resources.create_key(user, scopes=["organization:read"])
    expect(created.get("rateLimit") == 60, "rateLimit 60", repr(created.get("rateLimit")),
           "a key created without rateLimit")
    fetched = expect_json_object(user.get(f"/api-keys/{created['id']}"), "GET /api-keys/{id}")
    expect(fetched.get("rateLimit") == 60, "rateLimit 60", repr(fetched.get("rateLimit")),
           "GET /api-keys/{id} of a key created without rateLimit")


@requirement("BSK-KEY-021")
def test_rate_limit_1_and_10000_are_accepted(user, resources):
    for limit in (1, 10_000):
        created = resources.create_key(user, scopes=["organization:read"], rate_limit=limit)
        expect(created.get("rateLimit") == limit, f"rateLimit {limit}", repr(created.get("rateLimit")),
               f"a key created with rateLimit {limit}")


# -- a key and its organization ------------------------------------------------


@requirement("BSK-KEY-022")
def test_key_belongs_to_its_creators_organization(user, resources, target):
    me = expect_json_object(user.get("/me"), "GET /me with the creator's bearer token")
    organization = me.get("organizationId")
    created = resources.create_key(user, scopes=["projects:read"])
    expect(created.get("organizationId") == organization, f"organizationId {organization!r}",
           repr(created.get("organizationId")), "created key")
    response = _use(target, created["key"])
    expect_status(response, 200, context="GET /me with the key")
    body = expect_json_object(response, "GET /me with the key")
    context = "GET /me with the key"
    expect(body.get("type") == "api_key", 'type "api_key"', repr(body.get("type")), context)
    expect(body.get("keyId") == created["id"], "keyId the key's id", repr(body.get("keyId")), context)
    expect(body.get("organizationId") == organization, f"the creator's organizationId {organization!r}",
           repr(body.get("organizationId")), context)
    expect(body.get("scopes") == ["projects:read"], 'scopes ["projects:read"]', repr(body.get("scopes")), context)


@requirement("BSK-KEY-023")
def test_api_key_cannot_create_keys(user, resources, target):
    key = resources.create_key(user, scopes=list(SCOPES))["key"]
    body = {"name": resources.unique_name("key"), "scopes": []}
    response = target.post("/api-keys", api_key=key, json=body)
    if response.status_code == 201:  # leave nothing behind
        made = response.json().get("id")
        if made:
            user.delete(f"/api-keys/{made}")
    expect_error(response, 403, context="POST /api-keys with an API key holding every scope")
