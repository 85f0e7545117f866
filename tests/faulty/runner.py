"""Runs the harness against the reference server or a faulty variant, in a
subprocess (a fresh pytest, exactly as a user runs it), and reads its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bsk_conformance.harness.requirements import load_catalogue
from tests.faulty.variant import Variant

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


def areas_for(variant: Variant) -> list[str]:
    catalogue = load_catalogue()
    ids = [*variant.trips, *variant.blast]
    return sorted({catalogue[rid].area for rid in ids if rid in catalogue})


def run_harness(variant: Variant | None = None, *extra: str, timeout: float = 600) -> Run:
    """Run the suites in-process against `variant` (None: the honest server)."""
    with tempfile.TemporaryDirectory(prefix="bsk-faulty-") as report_dir:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "-q",
            "-p",
            "no:cacheprovider",
            "--report-dir",
            report_dir,
            *extra,
        ]
        if variant is not None:
            command += ["--reference-factory", f"tests.faulty.registry:{variant.name}"]
            if not variant.full:
                command += ["-m", " or ".join(areas_for(variant))]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        report = Path(report_dir) / "conformance.json"
        result = json.loads(report.read_text()) if report.exists() else None
    return Run(completed.returncode, result, completed.stdout + completed.stderr)
