"""Runs the harness against the reference server or a variant, as the
command line `python -m pytest ...` in a process of its own, and reads its
JSON. The process is forked from a server that has imported what every run
imports (tests/fork_runs.py: a third of the project's test time went
on those imports); `BSK_FRESH_HARNESS_PROCESS=1` starts a fresh interpreter
for each run instead.

Two legs: in-process (`--reference-factory`: the harness builds the server
itself and may move its clock, read its database and log), and remote (the
variant served over HTTP by this process, the harness given only `--target`
and `--target-profile`, as a vendor runs it)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bsk_conformance.harness.requirements import load_catalogue
from tests.faulty.latitude import Latitude
from tests.faulty.variant import Variant
from tests.fork_runs import harness_process
from tests.harness_command import harness_command

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    exit_code: int
    result: dict | None
    output: str

    def statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in (self.result or {}).get("requirements", [])}

    def with_status(self, *wanted: str) -> set[str]:
        return {rid for rid, status in self.statuses().items() if status in wanted}


def areas_for(variant: Variant | Latitude) -> list[str]:
    if isinstance(variant, Latitude):
        return list(variant.areas or ())
    catalogue = load_catalogue()
    ids = [*variant.trips, *variant.blast, *variant.remote_blast]
    return sorted({catalogue[rid].area for rid in ids if rid in catalogue})


LEGS = ("in-process", "remote")
MODEL_RUN = "model_run"  # the marker of the model-based run's checks (suites/test_model_run.py)


def markers_for(variant: Variant | Latitude, *, model_only: bool = False) -> str | None:
    """The -m expression of a variant's run. A faulty variant's leaves the model-based run out
    unless it asks (its checks judge many areas' requirements: the declared radius is the fixed
    checks'); a latitude variant's keeps it, since the model must allow every latitude too.
    `model_only`: the model-based run's checks alone, whatever the variant's areas."""
    if model_only:
        return MODEL_RUN
    areas = None if variant.full else " or ".join(areas_for(variant))
    if isinstance(variant, Latitude) or variant.model_run:
        return areas
    return f"({areas}) and not {MODEL_RUN}" if areas else f"not {MODEL_RUN}"


def run_harness(
    variant: Variant | Latitude | None = None,
    *extra: str,
    timeout: float = 600,
    leg: str = "in-process",
    model_only: bool = False,
) -> Run:
    """Run the suites against `variant` (None: the honest server) in `leg`; `model_only`:
    only the model-based run's checks (`-m model_run`)."""
    if leg not in LEGS:
        raise ValueError(f"leg must be one of {LEGS}, not {leg!r}")
    if leg == "remote":
        from tests.faulty.remote import PROFILE, served

        try:
            with served(variant.factory if variant is not None else None) as url:
                return _run(variant, ["--target", url, "--target-profile", str(PROFILE), *extra], timeout,
                            remote=True, model_only=model_only)
        except Exception as exc:  # a variant that cannot even be served is a row of the matrix, not its end
            return Run(-1, None, f"the remote run failed (serving or running): {type(exc).__name__}: {exc}")
    return _run(variant, list(extra), timeout, remote=False, model_only=model_only)


def _run(
    variant: Variant | Latitude | None, extra: list[str], timeout: float, *, remote: bool, model_only: bool = False
) -> Run:
    with tempfile.TemporaryDirectory(prefix="bsk-faulty-") as report_dir:
        command = harness_command(*extra, report_dir=report_dir)
        if variant is not None and not remote:
            command += ["--reference-factory", f"tests.faulty.registry:{variant.name}"]
        markers = markers_for(variant, model_only=model_only) if variant is not None else (
            MODEL_RUN if model_only else None)
        if markers:
            command += ["-m", markers]
        exit_code, output = harness_process(command, ROOT, timeout)
        report = Path(report_dir) / "conformance.json"
        result = json.loads(report.read_text()) if report.exists() else None
    return Run(exit_code, result, output)

