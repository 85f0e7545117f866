"""Real harness runs for the bundle and matrix tests: the reference server and five faulty variants.

Each run is a fresh ``pytest suites`` process, as a user starts it, against the
bundled server in-process (``--reference-factory tests.faulty.registry:<name>``
for a variant). A variant runs only the suites of the areas it can affect, as
tests/faulty/runner.py does, so the six runs cost about one full run more than
the reference alone; the rest of their requirements are honestly ``skipped``.
Two runs at a time at most (the machine is shared).
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.harness_command import harness_command

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "reference"
#: Five variants, each breaking one rule in a different area of the contract.
VARIANTS = (
    "wire_401_without_www_authenticate",
    "keys_start_with_bsk_only",
    "refresh_token_not_rotated",
    "jwks_publishes_another_key",
    "totp_code_accepted_twice",
)


def command(report_dir: Path, variant: str | None, *, full: bool = False) -> list[str]:
    argv = harness_command(report_dir=report_dir)
    if variant is not None:
        from tests.faulty.registry import all_variants
        from tests.faulty.runner import areas_for

        argv += ["--reference-factory", f"tests.faulty.registry:{variant}"]
        if not full:
            argv += ["-m", " or ".join(areas_for(all_variants()[variant]))]
    return argv


def run(report_dir: Path, variant: str | None, *, full: bool = False) -> Path:
    """Run the harness; returns the report directory (it holds conformance.json, .html and junit.xml)."""
    done = subprocess.run(
        command(report_dir, variant, full=full), cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    if not (report_dir / "conformance.json").is_file():
        raise RuntimeError(
            f"the run of {variant or REFERENCE} wrote no report:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return report_dir


def run_all(base: Path, names: tuple[str, ...] = (REFERENCE, *VARIANTS), *, full: bool = False) -> dict[str, Path]:
    """Every named run, two at a time, each into ``base/<name>/``; name -> report directory."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(run, base / name, None if name == REFERENCE else name, full=full) for name in names
        }
        return {name: future.result() for name, future in futures.items()}
