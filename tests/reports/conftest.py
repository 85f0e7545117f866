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
    """A small non-conformant run with a requirement in every status."""
    return make_result()


@pytest.fixture(scope="session")
def large_result() -> dict[str, Any]:
    """300 requirements, six 64 KiB hostile exchanges per check (about 150 MB of evidence)."""
    return make_large_result()
