"""targetFingerprint (issue 15): shown beside the target in the terminal and
HTML headers; a value the target chose (issue 14's Server header) cannot
write escape sequences or markup."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from bsk_conformance import reports
from bsk_conformance.reports.html_report import render_html

SHA = ":".join(["AB"] * 32)


def test_the_terminal_header_shows_the_tls_version_and_certificate(result: dict[str, Any]) -> None:
    result["targetFingerprint"] = {"tlsVersion": "TLSv1.3", "tlsCertificateSha256": SHA}
    lines = reports.terminal_summary(result, {})
    assert lines[1] == f"  target:    TLS version TLSv1.3, Server certificate SHA-256 {SHA}"
    jsonschema.Draft202012Validator(json.loads(reports.schema_path().read_text())).validate(result)


def test_no_fingerprint_no_line(result: dict[str, Any]) -> None:
    assert not any(line.startswith("  target:") for line in reports.terminal_summary(result, {}))


def test_a_hostile_value_is_spelled_out_not_obeyed(result: dict[str, Any]) -> None:
    result["targetFingerprint"] = {"serverHeader": "nginx\x1b[2J<script>x</script>\nSet: 1"}
    line = reports.terminal_summary(result, {})[1]
    assert "\x1b" not in line and "\\x1b" in line and "\n" not in line
    html = render_html(result).decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "Server header" in html


def test_facts_the_target_did_not_offer_are_not_shown() -> None:
    from bsk_conformance.reports import model

    result = {"targetFingerprint": {"jwksSha256": "ab" * 32, "tlsVersion": None, "tlsCertificateSha256": None}}
    assert model.fingerprint_items(result) == [("JWKS SHA-256", "ab" * 32)]
