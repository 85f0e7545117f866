"""Every option of the plugin works with a separate value and with `=`, in
any position, whatever the value names (issue 9).

pytest decides its rootdir and ini file before plugins' options are known,
so `--report-dir DIR` once read DIR as a test path: the checkout's `tests/`
was collected and run against the target. These runs collect only (nothing
is sent to a target) and compare with the suites' own checks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.docs.requirements_doc import collect_checks
from tests.harness_command import harness_command

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "fixtures" / "reference-profile.toml"


@pytest.fixture(scope="module")
def expected() -> set[str]:
    return {name for names in collect_checks().values() for name in names}


def _collected(*args: str, cwd: Path = ROOT) -> list[str]:
    done = subprocess.run(
        harness_command("--collect-only", *args, suites=()),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def _forms(name: str, value: str) -> list[list[str]]:
    return [[name, value], [f"{name}={value}"]]


VALUES = {
    "an existing directory, absolute": lambda tmp: str(tmp),
    "an existing directory, relative": lambda tmp: "docs",
    "the default report directory, existing": lambda tmp: "conformance-report",
    "nothing that exists": lambda tmp: "no-such-dir/out",
    "the filesystem root's child": lambda tmp: "/tmp",
}


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_report_dir(expected: set[str], tmp_path: Path, value: str, form: str, where: str) -> None:
    (ROOT / "conformance-report").mkdir(exist_ok=True)
    option = _forms("--report-dir", VALUES[value](tmp_path))[form == "equals"]
    args = [*option, "--color=no"] if where == "first" else ["--color=no", *option]
    collected = _collected(*args)
    assert len(collected) == len(expected)
    assert not [c for c in collected if c.startswith("tests/")]


@pytest.mark.parametrize("profile", ["absolute", "relative", "outside the checkout"])
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_target_profile(expected: set[str], tmp_path: Path, profile: str, form: str) -> None:
    path = {
        "absolute": str(PROFILE),
        "relative": "fixtures/reference-profile.toml",
        "outside the checkout": str(tmp_path / "profile.toml"),
    }[profile]
    (tmp_path / "profile.toml").write_bytes(PROFILE.read_bytes())
    args = [
        *_forms("--target", "http://127.0.0.1:9")[form == "equals"],
        *_forms("--target-profile", path)[form == "equals"],
    ]
    collected = _collected(*args)
    assert len(collected) == len(expected)


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_har(expected: set[str], tmp_path: Path, form: str) -> None:
    """An existing HAR (the last run's) is a file the early parse takes for a test path."""
    har = tmp_path / "conformance.har"
    har.write_text("{}")
    collected = _collected(*_forms("--har", str(har))[form == "equals"], "--color=no")
    assert len(collected) == len(expected)
    assert not [c for c in collected if c.startswith("tests/")]


def test_explicit_test_paths_are_collected_exactly(tmp_path: Path) -> None:
    collected = _collected("suites/test_token_lifetimes.py", "--report-dir", str(tmp_path))
    assert collected and all(c.startswith("suites/test_token_lifetimes.py::") for c in collected)


def test_the_plugin_loads_without_xdist(expected: set[str]) -> None:
    """pluggy refuses an unknown hook: xdist's pytest_configure_node, declared
    on the plugin module, crashed every run where xdist was absent."""
    assert len(_collected("-p", "no:xdist")) == len(expected)
