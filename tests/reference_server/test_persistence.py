"""``--database``: what survives a restart, and what never reaches the disk."""

from __future__ import annotations

from pathlib import Path

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import ALICE, ALL_SCOPES, T0, Api, TestClient, code_at


def server(database: Path, clock: FrozenClock) -> Api:
    return Api(create_app(Settings(database=database), clock=clock), clock)


def test_the_database_file_holds_no_issued_secret(tmp_path: Path) -> None:
    database = tmp_path / "bsk.sqlite"
    clock = FrozenClock(T0)
    api = server(database, clock)
    keys = [api.create_key(name=f"k{i}")["key"] for i in range(5)]
    tokens = api.tokens()
    api.http.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    api.parts.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file and any journal
    for secret in [*keys, *(key[9:] for key in keys), tokens["refreshToken"], tokens["accessToken"]]:
        assert secret.encode() not in raw
    assert ALICE["password"].encode() not in raw
    assert b"$argon2id$" in raw  # the passwords are there, as Argon2id hashes


def test_a_restart_keeps_keys_revocations_sessions_and_2fa(tmp_path: Path) -> None:
    database = tmp_path / "bsk.sqlite"
    clock = FrozenClock(T0)
    before = server(database, clock)
    kept = before.create_key(scopes=ALL_SCOPES)
    revoked = before.create_key()
    before.http.delete(f"/api-keys/{revoked['id']}", headers=before.bearer())
    project = before.http.post("/projects", headers=before.bearer(), json={"name": "p"}).json()
    pair = before.tokens()
    totp = before.enable_2fa()
    before.parts.store.close()

    after = server(database, clock)
    with after.http:
        assert after.http.get("/me", headers={"X-API-Key": kept["key"]}).status_code == 200
        assert after.http.get("/me", headers={"X-API-Key": revoked["key"]}).status_code == 401
        # The signing key persisted, so tokens issued before the restart still verify...
        bearer = {"Authorization": f"Bearer {pair['accessToken']}"}
        assert after.http.get(f"/projects/{project['id']}", headers=bearer).status_code == 200
        # ...refresh families too...
        assert after.http.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]}).status_code == 200
        # ...and 2FA stays on.
        assert after.login().json()["error"] == "two_factor_required"
        assert after.login(twoFactorCode=code_at(totp, clock.now())).status_code == 200
        assert [k["id"] for k in after.http.get("/api-keys", headers=bearer).json()["data"]] == [kept["id"]]


def test_without_a_database_nothing_survives(clock: FrozenClock) -> None:
    first = Api(create_app(Settings(), clock=clock), clock)
    key = first.create_key()["key"]
    second = Api(create_app(Settings(), clock=clock), clock)
    assert second.http.get("/me", headers={"X-API-Key": key}).status_code == 401


def test_seeding_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "bsk.sqlite"
    for _ in range(2):
        app = create_app(Settings(database=database), clock=FrozenClock(T0))
        with TestClient(app) as client:
            assert client.post("/auth/login", json=ALICE).status_code == 200
        app.state.parts.store.close()
