"""Building the distribution the way a user or a release does, once per test session.

Both archives are built from a clean copy of the checkout: setuptools reuses
build/ in the source tree, where a module deleted since the last build would
slip into the wheel. What the build printed is kept, so a test can hold it to
"no setuptools warning".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the checkout's folders that ship, each under the one import name (pyproject's package-dir)
PACKAGE_FOLDERS = ("bsk_conformance", "harness", "suites", "reports", "fixtures", "reference_server")


@dataclass(frozen=True)
class Built:
    path: Path  # the wheel or the sdist
    output: str  # what the build printed (stdout and stderr)


def clean_copy(base: Path) -> Path:
    source = base / "source"
    if not source.exists():
        shutil.copytree(
            ROOT, source,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "conformance-report"
            ),
        )
    return source


def build_wheel(base: Path) -> Built:
    """`pip wheel --no-deps`, as the installed-path test and a user do; verbose
    enough that the build backend's warnings are in the output."""
    dist = base / "wheel"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(clean_copy(base))],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = dist.glob("bsk_conformance-*.whl")
    return Built(wheel, built.stdout + built.stderr)


def build_sdist(base: Path) -> Built:
    """`python -m build --sdist`, as a release does (the `build` package: the test extra)."""
    dist = base / "sdist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(dist), str(clean_copy(base))],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (sdist,) = dist.glob("bsk_conformance-*.tar.gz")
    return Built(sdist, built.stdout + built.stderr)
