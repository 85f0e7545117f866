"""``bsk-reference-server`` / ``python -m reference_server``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bsk_conformance.reference_server.cli import main

COMMAND = [sys.executable, "-m", "bsk_conformance.reference_server"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [["--port", "abc"], ["--port", "70000"], ["--port"], ["--environment", "prod"], ["--bogus"],
     ["--database", "/no/such/directory/bsk.sqlite"], ["extra"]],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bsk-reference-server: error: ")


def test_the_real_process_exits_2_with_one_line() -> None:
    done = run("--port", "abc")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "bsk-reference-server: error: argument --port: not a port number: 'abc' (see --help)\n"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0 and "--environment" in capsys.readouterr().out


def test_a_port_in_use_is_one_line_and_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["--port", str(port)])
    assert code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"bsk-reference-server: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_it_serves_and_says_where_without_passwords(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--database", str(tmp_path / "db.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        url = banner[0].split()[-1]
        assert banner[0].startswith("BSK reference server listening on http://127.0.0.1:")
        assert "environment: test" in banner[1] and "bsk_test_" in banner[1]
        assert str(tmp_path / "db.sqlite") in banner[2]
        profile = banner[3].split("profile:")[1].strip()
        assert Path(profile).is_file() and profile.endswith("reference-profile.toml")
        assert "correct horse" not in "".join(banner)
        login = {"email": "alice@acme.test", "password": "correct horse battery staple"}
        token = httpx.post(f"{url}/auth/login", json=login).json()["accessToken"]
        httpx.get(f"{url}/me?access_token={token}")  # query strings must not reach any log
        assert httpx.get(f"{url}/_test/clock").status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert "correct horse" not in out + err and token not in out + err
    assert "access_token" not in out + err
