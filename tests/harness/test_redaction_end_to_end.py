"""Redaction on a full run: no secret the run used reaches a report.

The run happens in this process (pytest.main) so the test can ask the run's
own redactor which secrets it met: every password, token, key and TOTP
secret. Then each is searched for, verbatim, in every report file.
"""

from __future__ import annotations

import html
import os
import re

import pytest

from bsk_conformance.harness.state import state_key
from tests.harness.conftest import ROOT


class _SecretsSeen:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.secrets = session.config.stash[state_key].redactor.known()


def test_no_secret_of_a_full_run_is_in_any_report(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    seen = _SecretsSeen()
    report_dir = tmp_path / "report"
    exit_code = pytest.main(["suites", "-q", "-p", "no:cacheprovider", "--report-dir", str(report_dir)], plugins=[seen])
    assert exit_code == 0

    kinds = set(seen.secrets.values())
    assert {"password", "totp-secret", "api-key" if "api-key" in kinds else "password"} <= kinds
    assert any(kind in kinds for kind in ("access-token", "bearer", "jwt")), kinds
    assert "refresh-token" in kinds

    reports = {path.name: path.read_text(encoding="utf-8") for path in report_dir.iterdir() if path.is_file()}
    assert "conformance.json" in reports
    for name, text in reports.items():
        for secret, kind in seen.secrets.items():
            if kind == "totp-code":
                continue  # six digits can occur by chance; checked by shape below
            assert secret not in text, f"a {kind} is in {name}"
        assert not re.search(r'"(twoFactorCode|code)"\s*:\s*\\?"\d{6}', text), f"a TOTP code is in {name}"
        assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", text), f"a JWT is in {name}"
        assert not re.search(r"bsk_(test|live)_[A-Za-z0-9]{20,}", text), f"an API key is in {name}"


def test_secrets_never_reach_the_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    seen = _SecretsSeen()
    pytest.main(["suites", "-v", "-p", "no:cacheprovider", "--report-dir", str(tmp_path)], plugins=[seen])
    out = capsys.readouterr().out
    for secret, kind in seen.secrets.items():
        if kind != "totp-code":
            assert secret not in out, f"a {kind} reached the terminal"


def test_a_failure_quoting_a_token_pair_leaks_no_piece_of_it(run_harness, tmp_path):
    """Issue 23's leak: BSK-REF-004 fails against a server whose rotation
    restarts the refresh lifetime, and the failure quotes the HTTP 200 answer,
    `{"accessToken": "eyJ…", "refreshToken": "rt_…"}`, 300 characters of it.
    No six characters in a row of any token the server issued may reach the
    terminal or any file of the report (the JWT's `eyJ` and `rt_` aside)."""
    issued = tmp_path / "issued.txt"
    env = {**os.environ, "BSK_TEST_ISSUED_TOKENS": str(issued)}
    run = run_harness(
        "-k", "test_rotation_does_not_extend_the_refresh_lifetime",
        "--reference-factory", "tests.harness.broken_apps:refresh_lifetime_restarts_and_tokens_noted",
        env=env,
    )
    # a SHOULD (contract v1.1): broken, it warns, and the run stays conformant
    assert run.exit_code == 0, run.output[-3000:]
    assert run.status("BSK-REF-004") == "warning"
    message = next(r for r in run.result["requirements"] if r["id"] == "BSK-REF-004")["checks"][0]["message"]
    assert "observed HTTP 200 {" in message and "«access-token:" in message, message  # the quote is there, redacted
    tokens = issued.read_text(encoding="utf-8").split()
    assert len(tokens) >= 6  # a login and two rotations, at least: each a pair
    outputs = {"terminal": run.output}
    outputs.update({p.name: p.read_text(encoding="utf-8") for p in run.report_dir.iterdir() if p.is_file()})
    assert {"conformance.json", "conformance.html", "junit.xml"} <= set(outputs)
    pieces = {token[i : i + 6] for token in tokens for i in range(len(token) - 5)}
    for name, text in outputs.items():
        text = html.unescape(text)
        found = sorted(piece for piece in pieces if piece in text)
        assert not found, f"{name} holds pieces of issued tokens: {found[:5]}"
