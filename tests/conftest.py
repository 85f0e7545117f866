"""What every test shares: how the harness processes it starts find their bytecode,
and the tests that wait on real time first.

The tests start some 500 fresh harness processes (the detection matrix runs each
variant in each leg as a user runs it, a new pytest each time). With
PYTHONDONTWRITEBYTECODE=1, as on CI machines here, every one of them compiled, and
pytest rewrote, the same modules again: about 0.4 s of a 2.2 s run. The children
write their bytecode instead, to one cache outside the tree (PYTHONPYCACHEPREFIX:
nothing lands in the checkout), and share it. What a run judges does not depend on
it; the cold path users meet is measured in bench/ (conformance_run.py --cold-start).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

if os.environ.get("PYTHONDONTWRITEBYTECODE"):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / f"bsk-tests-pycache-{os.getuid()}")
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "waits_real_time: the test waits on real time (TOTP steps); it is collected first"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that wait on real time first, each group in its order: under
    `-n` (xdist hands items out in collection order) their minutes of waiting
    overlap the CPU-bound rest instead of ending the run on one worker."""
    items.sort(key=lambda item: item.get_closest_marker("waits_real_time") is None)
