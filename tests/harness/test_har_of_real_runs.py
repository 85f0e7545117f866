"""conformance.har of real runs: valid HAR 1.2, the report's exchanges, and no secret.

Each run is a fresh `pytest suites` process, as a user starts it, against a
target that echoes secrets back (the faulty variant whose 400 message quotes
the request body, BSK-SEC-003): in-process, and served on loopback as a remote
target. The remote server records every secret that crosses its socket, from
its side of the wire (passwords, TOTP codes and secrets, access and refresh
tokens, API keys), so the HAR is scanned for secrets the harness's own
redactor might not know of.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.faulty.registry import all_variants
from tests.faulty.remote import PROFILE, served
from tests.harness.conftest import HarnessRun

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from har_schema import har_problems  # noqa: E402  (a plain module beside the report tests)

ECHO_VARIANT = "secrets_error_message_quotes_the_body"
# the areas where every kind of secret is sent, and the echoing check
AREAS = "secrets or tokens or refresh or two_factor or api_keys"
# JSON fields whose value is a secret, on either side of the wire (contract §3)
SECRET_FIELDS = {"password", "twoFactorCode", "code", "accessToken", "refreshToken", "key", "secret", "otpauthUri"}
# secret shapes, whoever issued them: a JWT (a forged one too) and an API key's secret part
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
KEY = re.compile(r"bsk_(test|live)_[A-Za-z0-9]{20,}")
SHORTEST_SCANNED = 8  # shorter values (a 6-digit code, a guessed "x") can occur by chance


class SecretRecorder:
    """ASGI middleware: every secret a request or a response carried, as the
    server saw it, and the ones a response repeated from its request."""

    def __init__(self, app: Any) -> None:
        self.app = app  # `.app`: the harness's helpers look through wrappers for the server's parts
        self.secrets: dict[str, str] = {}  # secret -> the field or header it came in
        self.echoed: set[str] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_body, response_body = bytearray(), bytearray()

        async def receiving() -> dict[str, Any]:
            message = await receive()
            request_body.extend(message.get("body", b""))
            return message

        async def sending(message: dict[str, Any]) -> None:
            response_body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receiving, sending)
        sent = self._request_secrets(scope, bytes(request_body))
        self._learn(sent)
        self._learn(_json_secrets(bytes(response_body)))
        answer = response_body.decode("utf-8", "replace")
        self.echoed |= {secret for secret in sent if len(secret) >= SHORTEST_SCANNED and secret in answer}

    def _request_secrets(self, scope: dict[str, Any], body: bytes) -> dict[str, str]:
        found = _json_secrets(body)
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name == "authorization":
                found[value.partition(" ")[2].strip()] = name
            elif name == "x-api-key":
                found[value] = name
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if name in ("access_token", "api_key"):
                found[value] = name
        return found

    def _learn(self, found: dict[str, str]) -> None:
        self.secrets.update({secret: where for secret, where in found.items() if secret})


def _json_secrets(body: bytes) -> dict[str, str]:
    try:
        document = json.loads(body) if body and len(body) <= 65536 else None
    except ValueError:
        return {}
    found: dict[str, str] = {}

    def walk(value: Any, name: str | None) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, key)
        elif isinstance(value, list):
            for item in value:
                walk(item, name)
        elif name in SECRET_FIELDS and isinstance(value, str):
            found[value] = name

    walk(document, None)
    return found


def _har(path: Path) -> dict[str, Any]:
    assert path.is_file(), f"no HAR at {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def _assert_the_reports_exchanges(har: dict[str, Any], result: dict[str, Any]) -> None:
    assert har_problems(har) == []
    checks = [c for r in result["requirements"] for c in r["checks"] if c.get("evidence")]
    assert len(har["log"]["entries"]) == sum(len(c["evidence"]) for c in checks) > 0
    assert {page["id"] for page in har["log"]["pages"]} == {c["nodeid"] for c in checks}
    assert har["log"]["creator"] == {"name": "bsk-conformance", "version": result["harnessVersion"]}


def _assert_no_secret_shape(text: str) -> None:
    assert not JWT.search(text), f"a JWT is in the HAR: {JWT.search(text).group(0)[:12]}…"
    assert not KEY.search(text), "an API key is in the HAR"
    assert not re.search(r'\\"(twoFactorCode|code)\\"\s*:\s*\\"\d{6}', text), "a TOTP code is in the HAR"


def _assert_echo_caught(run: HarnessRun) -> None:
    """The target did echo secrets, or the scan proves nothing (a SHOULD: a
    warning, and the run exits 0 without --strict)."""
    assert run.exit_code == 0, run.output[-3000:]
    assert run.status("BSK-SEC-003") == "warning", run.output[-3000:]


def test_the_har_of_an_in_process_run_goes_where_har_says(run_harness, tmp_path: Path) -> None:
    har_path = tmp_path / "elsewhere" / "traffic.har"
    har_path.parent.mkdir()
    run = run_harness(
        "--reference-factory", f"tests.faulty.registry:{ECHO_VARIANT}", "-m", AREAS, "--har", str(har_path)
    )
    _assert_echo_caught(run)
    assert not (run.report_dir / "conformance.har").exists()
    assert f"HAR report: {har_path}" in run.output
    har = _har(har_path)
    _assert_the_reports_exchanges(har, run.result)
    text = har_path.read_text(encoding="utf-8")
    for account in tomllib.loads(PROFILE.read_text(encoding="utf-8"))["accounts"]:
        assert account["password"] not in text, "a profile password is in the HAR"
    _assert_no_secret_shape(text)
    assert "«password:" in text and "«refresh-token:" in text  # redacted, not left out


def test_the_har_of_a_remote_run_holds_no_secret_the_target_saw(run_harness) -> None:
    recorders: list[SecretRecorder] = []

    def factory(settings: Any, clock: Any) -> Any:
        recorders.append(SecretRecorder(all_variants()[ECHO_VARIANT].factory(settings, clock)))
        return recorders[-1]

    with served(factory) as url:
        run = run_harness("--target", url, "--target-profile", str(PROFILE), "-m", AREAS)
    _assert_echo_caught(run)
    (recorder,) = recorders
    kinds = set(recorder.secrets.values())
    assert {"password", "accessToken", "refreshToken", "key", "secret", "authorization", "x-api-key"} <= kinds
    assert recorder.echoed, "the target repeated no secret: the scan below would prove nothing"

    har_path = run.report_dir / "conformance.har"
    har = _har(har_path)
    _assert_the_reports_exchanges(har, run.result)
    assert all(entry["request"]["url"].startswith(url) for entry in har["log"]["entries"])
    text = har_path.read_text(encoding="utf-8")
    scanned = [s for s in recorder.secrets if len(s) >= SHORTEST_SCANNED]
    for secret in scanned:
        for form in {secret, json.dumps(secret)[1:-1]}:
            assert form not in text, f"a {recorder.secrets[secret]} the target saw is in the HAR"
    _assert_no_secret_shape(text)
    assert len(scanned) > 20


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/traffic.har", "--har: the directory {tmp}/missing does not exist"),
        (".", "--har: {tmp} is a directory; give a file name"),
        ("a-file/traffic.har", "--har: {tmp}/a-file is not a directory"),
    ],
)
def test_a_har_path_that_cannot_be_written_is_one_usage_line(run_harness, tmp_path: Path, where, message) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "a-file").write_text("")
    run = run_harness("--har", str(base / where))
    _assert_one_usage_line(run, message.format(tmp=base))


def test_a_har_directory_without_write_permission_is_one_usage_line(run_harness, tmp_path: Path) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    # root writes anywhere its permissions say no; a read-only mount stops it too
    candidates = [read_only, Path("/sys"), Path("/proc/sys")]
    unwritable = next((d for d in candidates if d.is_dir() and not _writable(d)), None)
    if unwritable is None:
        pytest.skip("no directory here refuses a write (root, and no read-only mount)")
    run = run_harness("--har", str(unwritable / "traffic.har"))
    _assert_one_usage_line(run, f"--har: cannot write in {unwritable}: ")


def _assert_one_usage_line(run: HarnessRun, message: str) -> None:
    assert run.exit_code == 3, run.output
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], run.output
    assert "Traceback" not in run.output and not run.report_dir.exists()


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False
