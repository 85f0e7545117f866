"""The recovery journal's file (harness/journal.py) and what the journaling
transport writes into it (harness/journal_watch.py)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from bsk_conformance.harness.journal import Journal, JournalError, journal_name, normalise_target, state_dir
from bsk_conformance.harness.journal_watch import JournalingTransport, JournalWatch
from tests.harness.conftest import ROOT

URL = "http://127.0.0.1:8000/v1"
EMAILS = ["bob@globex.test", "Alice@acme.test"]


def journal(directory: Path) -> Journal:
    return Journal(directory, URL, EMAILS)


def test_an_entry_is_written_0600_in_a_0700_directory_and_the_file_goes_with_the_last_entry(tmp_path):
    directory = tmp_path / "state" / "deep"
    made = journal(directory)
    entry_id = made.add("api-key", "alice@acme.test", state="pending", name="k-1")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    document = json.loads(made.path.read_text())
    assert (document["format"], document["version"]) == ("bsk-conformance-journal", 1)
    assert (document["target"], document["accounts"]) == (URL, ["alice@acme.test", "bob@globex.test"])
    # another process's view of the same target and accounts reads the same entry
    [seen] = journal(directory).entries()
    assert (seen["id"], seen["kind"], seen["name"], seen["owner"]) == (entry_id, "api-key", "k-1", made.owner)
    made.update(entry_id, state="created", objectId="42")
    assert journal(directory).entries()[0]["objectId"] == "42"
    made.remove(entry_id)
    assert not made.path.exists()
    made.close()
    assert sorted(p.name for p in directory.iterdir()) == []  # no lock file, no temporary file left


def test_a_failed_write_leaves_the_previous_journal_whole(tmp_path, monkeypatch):
    made = journal(tmp_path)
    made.add("project", "alice@acme.test", state="pending", name="p-1")
    before = made.path.read_bytes()

    def power_cut(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(JournalError, match=str(made.path)):
        made.add("project", "alice@acme.test", state="pending", name="p-2")
    assert made.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"format": "bsk-conformance-jour', "not valid JSON"),
        ('["an", "array"]', "not a bsk-conformance recovery journal"),
        ('{"format": "bsk-conformance-journal", "version": 9}', "version 9"),
        (json.dumps({"format": "bsk-conformance-journal", "version": 1, "target": "https://other.test",
                     "accounts": ["alice@acme.test", "bob@globex.test"], "entries": []}), "another target"),
        (json.dumps({"format": "bsk-conformance-journal", "version": 1, "target": URL,
                     "accounts": ["eve@evil.test"], "entries": []}), "another account set"),
        (json.dumps({"format": "bsk-conformance-journal", "version": 1, "target": URL,
                     "accounts": ["alice@acme.test", "bob@globex.test"], "entries": [{"kind": "x"}]}),
         "an entry it cannot read"),
    ],
)
def test_a_corrupt_or_foreign_journal_is_one_line_naming_the_file_and_is_kept(tmp_path, content, said):
    made = journal(tmp_path)
    made.path.write_text(content)
    for step in (made.check, made.entries, made.adopt_orphans, lambda: made.add("api-key", None)):
        with pytest.raises(JournalError) as raised:
            step()
        message = str(raised.value)
        assert message.startswith(str(made.path)) and said in message and "\n" not in message
    assert made.path.read_text() == content


OWNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bsk_conformance.harness.journal import Journal
    journal = Journal(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
    journal.add("api-key", "alice@acme.test", state="created", objectId="7")
    print("ready", flush=True)
    sys.stdin.read()  # alive until the test kills it
    """
)


def test_a_live_owners_entries_are_left_alone_and_a_dead_owners_are_taken_over(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path), URL, *EMAILS],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        recoverer = journal(tmp_path)
        assert recoverer.adopt_orphans() == ([], 1)
        assert recoverer.entries()[0]["owner"] != recoverer.owner
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    orphans, live = recoverer.adopt_orphans()
    assert live == 0 and [(e["objectId"], e["owner"]) for e in orphans] == [("7", recoverer.owner)]
    # taken over: another recoverer now sees them as the (live) recoverer's
    assert journal(tmp_path).adopt_orphans() == ([], 1)
    recoverer.close()
    assert len(journal(tmp_path).adopt_orphans()[0]) == 1


def test_the_state_directory_option_wins_over_the_environment_over_the_default(tmp_path):
    env = {"BSK_CONFORMANCE_STATE_DIR": "/var/tmp/bsk"}
    assert state_dir("given", env, tmp_path) == tmp_path / "given"
    assert state_dir(None, env, tmp_path) == Path("/var/tmp/bsk")
    assert state_dir(None, {}, tmp_path) == tmp_path / ".bsk-conformance"


def test_one_journal_per_target_and_account_set_whatever_their_spelling():
    assert normalise_target("HTTP://LocalHost:80/v1/") == "http://localhost/v1"
    assert journal_name("http://localhost/v1", ["b@x.test", "a@x.test"]) == journal_name(
        "HTTP://LocalHost:80/v1/", ["A@x.test ", "b@x.test"]
    )
    assert journal_name("http://localhost/v1", ["a@x.test"]) != journal_name("http://localhost/v2", ["a@x.test"])
    assert journal_name("http://localhost/v1", ["a@x.test"]) != journal_name("http://localhost/v1", ["b@x.test"])


# -- what the journaling transport writes -------------------------------------------


class FakeTarget:
    """Answers as the contract does, for alice (tokens "A") and bob (tokens "B")."""

    def __init__(self) -> None:
        self.fail_creates = False
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("reset")
        path = request.url.path.removeprefix("/v1")
        bearer = request.headers.get("authorization", "")
        if path == "/auth/login":
            who = "A" if json.loads(request.content)["email"] == "alice@acme.test" else "B"
            return httpx.Response(200, json={"accessToken": f"access-{who}", "refreshToken": f"refresh-{who}"})
        if request.method == "POST" and path == "/api-keys":
            if self.fail_creates:
                return httpx.Response(400, json={"error": "invalid_request", "message": "no"})
            return httpx.Response(201, json={"id": "k1", "key": "bsk_test_" + "s" * 32})
        if request.method == "POST" and path == "/projects":
            return httpx.Response(201, json={"id": "p1", "name": "p"})
        if request.method == "DELETE":
            return httpx.Response(204 if bearer.endswith("-A") else 404)
        return httpx.Response(404)


@pytest.fixture
def wired(tmp_path):
    fake = FakeTarget()
    made = journal(tmp_path)
    transport = JournalingTransport(httpx.MockTransport(fake), JournalWatch(made, URL))
    client = httpx.Client(base_url=URL + "/", transport=transport)
    for who in ("alice@acme.test", "bob@globex.test"):
        client.post("auth/login", json={"email": who, "password": "pw"})
    yield client, fake, made
    client.close()


def test_a_created_key_is_journaled_with_its_account_and_id_and_goes_with_its_own_delete(wired):
    client, _, made = wired
    client.post("api-keys", json={"name": "k", "scopes": []}, headers={"Authorization": "Bearer access-A"})
    [entry] = made.entries()
    assert (entry["account"], entry["state"], entry["objectId"]) == ("alice@acme.test", "created", "k1")
    assert entry["name"] == "k"
    assert "key" not in entry and "bsk_test_" not in made.path.read_text()
    # another organization's 404 says nothing about the key: kept
    client.delete("api-keys/k1", headers={"Authorization": "Bearer access-B"})
    assert len(made.entries()) == 1
    client.delete("api-keys/k1", headers={"Authorization": "Bearer access-A"})
    assert made.entries() == []


def test_a_refused_create_leaves_nothing_and_an_unanswered_one_stays_pending(wired):
    client, fake, made = wired
    fake.fail_creates = True
    client.post("api-keys", json={"name": "k", "scopes": []}, headers={"Authorization": "Bearer access-A"})
    assert made.entries() == []
    fake.down = True
    with pytest.raises(httpx.ConnectError):
        client.post("api-keys", json={"name": "x" * 5000, "scopes": []}, headers={"Authorization": "Bearer access-A"})
    [entry] = made.entries()
    assert entry["state"] == "pending" and "name" not in entry and len(entry["nameSha256"]) == 64


def test_a_project_created_with_a_key_is_journaled_to_the_keys_account(wired):
    client, _, made = wired
    created = client.post("api-keys", json={"name": "k", "scopes": []}, headers={"Authorization": "Bearer access-B"})
    client.post("projects", json={"name": "p"}, headers={"X-API-Key": created.json()["key"]})
    project = next(e for e in made.entries() if e["kind"] == "project")
    assert (project["account"], project["objectId"], project["name"]) == ("bob@globex.test", "p1", "p")
    client.delete("projects/p1", headers={"Authorization": "Bearer access-A"})  # 204 from anyone: gone
    assert [e["kind"] for e in made.entries()] == ["api-key"]
