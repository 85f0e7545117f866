"""curl commands: placeholders for redacted secrets, and quoting that a shell cannot misread."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from synthetic_results import exchange

from bsk_conformance.reports.curl import Placeholders, curl_command, quote_literal, shell_word, variable_for_kind, variables_note

BASH = shutil.which("bash")


@pytest.mark.parametrize(
    ("kind", "variable"),
    [
        ("access-token", "BSK_ACCESS_TOKEN"),
        ("refresh-token", "BSK_REFRESH_TOKEN"),
        ("api-key", "BSK_API_KEY"),
        ("password", "BSK_PASSWORD"),
        ("totp-code", "BSK_TOTP_CODE"),
        ("totp-secret", "BSK_TOTP_SECRET"),
        ("bearer", "BSK_ACCESS_TOKEN"),
        ("jwt", "BSK_JWT"),
        ("totp-uri", "BSK_TOTP_URI"),
        ("weird kind!$(x)", "BSK_WEIRD_KIND_X"),
    ],
)
def test_marker_kinds_map_to_environment_variables(kind: str, variable: str) -> None:
    assert variable_for_kind(kind) == variable


def test_distinct_secrets_of_one_kind_get_distinct_variables() -> None:
    p = Placeholders()
    assert p.variable("access-token", "aaaa1111") == "BSK_ACCESS_TOKEN"
    assert p.variable("access-token", "bbbb2222") == "BSK_ACCESS_TOKEN_2"
    assert p.variable("access-token", "aaaa1111") == "BSK_ACCESS_TOKEN"
    assert p.used() == ["BSK_ACCESS_TOKEN", "BSK_ACCESS_TOKEN_2"]
    assert variables_note(p).startswith("export BSK_ACCESS_TOKEN=… BSK_ACCESS_TOKEN_2=…")


def test_a_login_becomes_a_command_with_placeholders() -> None:
    ex = exchange(
        request_body='{"password": "«password:3f9a1c2e»", "twoFactorCode": "«totp-code:0a1b2c3d»"}',
        request_headers={"content-type": "application/json", "content-length": "99", "host": "127.0.0.1:8000"},
    )
    command = curl_command(ex)
    assert command.splitlines() == [
        "curl -sS -i \\",
        "  -X POST \\",
        "  --url http://127.0.0.1:8000/auth/login \\",
        "  -H 'content-type: application/json' \\",
        """  --data-binary '{"password": "'"${BSK_PASSWORD}"'", "twoFactorCode": "'"${BSK_TOTP_CODE}"'"}'""",
    ]


def test_get_and_head_need_no_method_flag() -> None:
    assert "-X" not in curl_command(exchange("GET", "/me", request_body=""))
    assert "--head" in curl_command(exchange("HEAD", "/me", request_body=""))


def test_a_truncated_request_is_flagged() -> None:
    assert curl_command(exchange(request_body="{", truncated=True)).startswith(
        "# the evidence of this exchange was truncated"
    )


def test_control_characters_use_ansi_c_quoting() -> None:
    assert quote_literal("a\x1b[31mb") == "$'a\\x1b[31mb'"
    assert quote_literal("it's\u202e") == "$'it\\'s\\u202e'"
    assert quote_literal("plain") == "plain"
    assert quote_literal("it's") == "'it'\"'\"'s'"


HOSTILE_PIECES = [
    "$(touch {canary})",
    "`touch {canary}`",
    "'; touch {canary}; echo '",
    '"; touch {canary}; echo "',
    "${{IFS}}touch${{IFS}}{canary}",
    "\\'\\\"\n\t\x1b[31m end",
    "line1\nline2 ; touch {canary}",
    "«not-a-marker",
    "$BSK_PASSWORD literally",
]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize("piece", HOSTILE_PIECES)
def test_the_shell_receives_exactly_the_recorded_bytes(piece: str, tmp_path: Path) -> None:
    """Run the command in bash with a fake curl that prints its arguments: nothing may expand
    but the placeholders, and every argument must arrive as recorded."""
    canary = tmp_path / "pwned"
    hostile = piece.format(canary=canary)
    ex = exchange(
        "POST",
        "/projects?name=" + hostile + "&token=«access-token:7d1e04aa»",
        request_headers={"x-note": hostile, "authorization": "Bearer «access-token:7d1e04aa»"},
        request_body='{"name": "' + hostile + '", "password": "«password:3f9a1c2e»"}',
    )
    command = curl_command(ex)
    fake_curl = tmp_path / "curl"
    fake_curl.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    fake_curl.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "BSK_ACCESS_TOKEN": "real-token",
        "BSK_PASSWORD": "real pass $(x)",
    }
    out = subprocess.run([BASH, "-c", command], env=env, capture_output=True, check=True).stdout
    args = out.decode().split("\0")[:-1]
    assert not canary.exists()
    assert args == [
        "-sS",
        "-i",
        "-X",
        "POST",
        "--url",
        "http://127.0.0.1:8000/projects?name=" + hostile + "&token=real-token",
        "-H",
        "x-note: " + hostile,
        "-H",
        "authorization: Bearer real-token",
        "--data-binary",
        '{"name": "' + hostile + '", "password": "real pass $(x)"}',
    ]


def test_shell_word_without_markers_is_one_quoted_literal() -> None:
    assert shell_word("", Placeholders()) == "''"
    assert shell_word("a b", Placeholders()) == "'a b'"
