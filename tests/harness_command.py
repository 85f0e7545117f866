"""The one home of the command that runs the harness as a user starts it: a
fresh `python -m pytest` process (tests and benches alike).

A child process is the point: the plugin, its options and the report writers
are exercised exactly as `pytest` on a command line does, with nothing left
over from the process that asks.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What to collect: the checkout's folder, or the installed package by name.
CHECKOUT_SUITES = ("suites",)
INSTALLED_SUITES = ("--pyargs", "bsk_conformance.suites")


def harness_command(
    *args: str, suites: tuple[str, ...] = CHECKOUT_SUITES, report_dir: Path | str | None = None
) -> list[str]:
    """`python -m pytest <suites> -q -p no:cacheprovider [--report-dir DIR] <args>`.

    `suites=()` collects what pytest itself decides (the ini file's
    testpaths, or paths among `args`); no cache provider, so a run leaves no
    `.pytest_cache` behind and does not reorder by last failures."""
    command = [sys.executable, "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider"]
    if report_dir is not None:
        command += ["--report-dir", str(report_dir)]
    return [*command, *args]
