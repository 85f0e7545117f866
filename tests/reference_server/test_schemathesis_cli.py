"""schemathesis's own CLI, every check on, against the reference server, as a user runs it.

    st --config-file fixtures/schemathesis.toml run <url>/openapi.json -H "Authorization: Bearer …" --checks all

once with a user's bearer token and once with an all-scopes key: no failure,
no error, every documented operation tested. The config file answers the
three contract rules that refuse schema-valid requests (see its comments);
everything else is schemathesis's defaults. test_fuzz.py drives schemathesis
in-process with more credentials; this runs the CLI end to end (its phases,
OPTIONS probes, stateful links) over a real socket.

The verdict is read from the CLI's exit code and its JSON run report.
"""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bsk_conformance.reference_server import Settings, app, create_app
from bsk_conformance.reference_server.background import BackgroundServer

from .conftest import ALL_SCOPES

FIXTURES = importlib.resources.files("bsk_conformance.fixtures")
CONFIG = str(FIXTURES.joinpath("schemathesis.toml"))
DOCUMENT = json.loads(FIXTURES.joinpath("contract-openapi.json").read_text("utf-8"))
OPERATIONS = sum(1 for item in DOCUMENT["paths"].values() for method in item if method in {"get", "post", "delete"})
#: Per operation and phase. 10 keeps both runs near 30 s on two busy cores
#: (60, as a user might run it, takes about a minute each and passes too).
EXAMPLES = 10
SEED = 20261129  # a fixed seed: a failure here reproduces with the same command
CLI_TIMEOUT = 300  # seconds; a hung run fails instead of blocking the suite


def first_account() -> dict[str, str]:
    accounts = tomllib.loads(FIXTURES.joinpath("accounts.toml").read_text("utf-8"))["accounts"]
    return {"email": accounts[0]["email"], "password": accounts[0]["password"]}


def schemathesis_run(url: str, header: str, workdir: Path, *extra: str, config: bool = True) -> dict[str, Any]:
    """Run the CLI; its JSON run report, with the exit code and output summary added."""
    report = workdir / "report.json"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color",
        *(["--config-file", CONFIG] if config else []),
        "run", f"{url}/openapi.json", "-H", header, "--checks", "all",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--generation-database", "none",
        "--report", "json", "--report-json-path", str(report), *extra,
    ]  # fmt: skip
    # cwd: nothing the CLI writes lands in the repository, and no schemathesis.toml there is read.
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    summary = [line.strip() for line in done.stdout.splitlines() if line.strip()][-12:]
    if not report.is_file():
        pytest.fail(f"schemathesis wrote no report (exit {done.returncode}): {done.stderr.strip() or summary}")
    result: dict[str, Any] = json.loads(report.read_text("utf-8"))
    result["process_exit"] = done.returncode
    result["summary"] = " | ".join(summary)
    return result


def assert_clean(result: dict[str, Any]) -> None:
    assert result["process_exit"] == 0 and result["exit_code"] == 0, result["summary"]
    assert result["failures"] == [] and result["errors"] == [], result["summary"]
    assert result["operations"]["tested"] == OPERATIONS, result["operations"]
    assert result["test_cases"]["generated"] > 0 and result["test_cases"]["with_failures"] == 0


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str, str]]:
    """A live server on a free loopback port; its URL, a user's access token and an all-scopes key."""
    with BackgroundServer(create_app(Settings())) as live:
        with httpx.Client(base_url=live.url, timeout=10) as client:
            login = client.post("/auth/login", json=first_account())
            assert login.status_code == 200, login.text
            token = login.json()["accessToken"]
            body = {"name": "schemathesis cli", "scopes": ALL_SCOPES, "rateLimit": 10_000}
            created = client.post("/api-keys", headers={"Authorization": f"Bearer {token}"}, json=body)
            assert created.status_code == 201, created.text
            yield live.url, token, created.json()["key"]


def test_every_check_passes_with_a_bearer_token(server: tuple[str, str, str], tmp_path: Path) -> None:
    url, token, _ = server
    assert_clean(schemathesis_run(url, f"Authorization: Bearer {token}", tmp_path))


def test_every_check_passes_with_an_all_scopes_key(server: tuple[str, str, str], tmp_path: Path) -> None:
    url, _, key = server
    assert_clean(schemathesis_run(url, f"X-API-Key: {key}", tmp_path))


def test_a_405_naming_one_route_of_a_path_fails_the_run(
    server: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run above can fail: with the Allow of one route only (as before
    issue 16), OPTIONS /api-keys answers `Allow: POST` and ST205 says so."""
    url, token, _ = server
    monkeypatch.setattr(app, "allowed_methods", lambda routers, scope, prefix="": "POST")
    only = ("--include-name", "GET /api-keys", "--phases", "coverage", "--max-failures", "1")
    result = schemathesis_run(url, f"Authorization: Bearer {token}", tmp_path, *only)
    assert result["exit_code"] == 1 and {f["code"] for f in result["failures"]} == {"ST205"}, result["summary"]


def test_without_the_config_a_past_expiry_fails_the_run(server: tuple[str, str, str], tmp_path: Path) -> None:
    """What the config file is for: contract §3's 400 for a past expiresAt is,
    to schemathesis's defaults, a schema-valid request rejected (ST202)."""
    url, token, _ = server
    only = ("--include-name", "POST /api-keys", "--phases", "coverage", "--max-failures", "1")
    result = schemathesis_run(url, f"Authorization: Bearer {token}", tmp_path, *only, config=False)
    assert result["exit_code"] == 1 and {f["code"] for f in result["failures"]} == {"ST202"}, result["summary"]
