"""Helpers to run the harness the way a user does: `python -m pytest`, a process of its own
(forked from the fork server where that is the same run: tests/fork_runs.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from bsk_conformance import reports
from tests.fork_runs import harness_process
from tests.harness_command import CHECKOUT_SUITES, INSTALLED_SUITES, harness_command

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "fixtures" / "reference-profile.toml"


@dataclass
class HarnessRun:
    exit_code: int
    output: str
    report_dir: Path

    @cached_property
    def result(self) -> dict:
        """conformance.json, validated against its schema: the run itself no
        longer validates what it writes, so every real run a test reads does."""
        result: dict = json.loads((self.report_dir / "conformance.json").read_text())
        reports.validate(result)
        return result

    def status(self, rid: str) -> str:
        return next(r["status"] for r in self.result["requirements"] if r["id"] == rid)


def assert_partial_conformant(result: dict) -> None:
    """A run of selected requirements whose checks all held: partial, never
    conformant, and conformant as far as it went."""
    assert result["verdict"] == "partial", result["verdict"]
    completeness = result["completeness"]
    assert completeness["verdictOfRun"] == "conformant", completeness
    assert 0 < completeness["requirementsRun"] < completeness["requirementsTotal"], completeness


@pytest.fixture
def run_harness(tmp_path):
    """`run_harness(*args)` runs `pytest suites *args` in a process of its own."""

    def run(*args: str, cwd: Path = ROOT, timeout: float = 600, env: dict[str, str] | None = None) -> HarnessRun:
        report_dir = tmp_path / f"report-{len(list(tmp_path.iterdir()))}"
        suites = CHECKOUT_SUITES if cwd == ROOT else INSTALLED_SUITES
        command = harness_command(*args, suites=suites, report_dir=report_dir)
        exit_code, output = harness_process(command, cwd, timeout, env)
        return HarnessRun(exit_code, output, report_dir)

    return run
