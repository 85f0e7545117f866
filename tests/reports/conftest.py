"""Fixtures for the report tests: synthetic schema-v1 results, no harness needed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The helpers beside this file are plain modules, importable whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_results import make_large_result, make_result  # noqa: E402


@pytest.fixture
def result() -> dict[str, Any]:
    """A small run with a requirement in every status: partial (one left out), non-conformant in what ran."""
    return make_result()


@pytest.fixture(scope="session")
def large_result() -> dict[str, Any]:
    """300 requirements, six 64 KiB hostile exchanges per check (about 150 MB of evidence)."""
    return make_large_result()


class RealRuns:
    """Real harness runs (real_runs.py), each made at most once per test session, on demand."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._done: dict[str, Path] = {}

    def __call__(self, *names: str) -> dict[str, Path]:
        from real_runs import run_all

        missing = tuple(name for name in names if name not in self._done)
        if missing:
            self._done.update(run_all(self._base, missing))
        return {name: self._done[name] for name in names}


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> RealRuns:
    """``real_runs("reference", "<variant>", ...)`` -> report directories of real runs, shared by the session."""
    return RealRuns(tmp_path_factory.mktemp("real-runs"))
