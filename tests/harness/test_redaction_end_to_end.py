"""Redaction on a full run: no secret the run used reaches a report.

The run happens in this process (pytest.main) so the test can ask the run's
own redactor which secrets it met: every password, token, key and TOTP
secret. Then each is searched for, verbatim, in every report file.
"""

from __future__ import annotations

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
