"""Schema fuzzing leaves nothing behind on the target (suites/_fuzzer.py): the
keys and projects it creates, its own and those its generated requests made,
are deleted by the harness's `Resources.cleanup` when it is done.

The target is the reference server served over HTTP, and what is left is read
through the contract alone, as alice and bob (the profile's accounts) see it.
"""

from __future__ import annotations

import httpx

from tests.faulty.remote import PROFILE, served

ACCOUNTS = {"alice@acme.test": "correct horse battery staple", "bob@globex.test": "another long passphrase"}


def _left_behind(url: str) -> dict[str, list]:
    """Each profile account's organization's live keys and projects."""
    found: dict[str, list] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for email, password in ACCOUNTS.items():
            login = client.post("/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['accessToken']}"}
            for path in ("/api-keys", "/projects"):
                listed = client.get(path, headers=bearer)
                assert listed.status_code == 200, listed.text
                found[f"{email} {path}"] = sorted(item["id"] for item in listed.json()["data"])
    return found


def test_schema_fuzzing_deletes_every_key_and_project_it_made(run_harness, tmp_path):
    state_dir = tmp_path / "state"
    with served(None) as url:
        before = _left_behind(url)
        run = run_harness(
            # the default budget: at 5 the stateful run follows login -> create key -> use key to
            # a success only by luck (one linked creation in 30 steps), and BSK-FUZZ-004 flips
            # to not verified on any change to the order hypothesis draws in
            "--target", url, "--target-profile", str(PROFILE), "--fuzz-examples", "10", "-k", "schema_fuzz",
            "--state-dir", str(state_dir),
        )
        assert run.exit_code == 0, run.output[-3000:]  # partial (-k), and every fuzzing check held
        fuzzed = [r for r in run.result["requirements"] if r["id"].startswith("BSK-FUZZ-")]
        assert fuzzed and all(r["status"] == "passed" for r in fuzzed), fuzzed
        after = _left_behind(url)
    assert after == before
    assert sum(map(len, before.values())) == 0  # a fresh server: nothing was there to hide a leftover
