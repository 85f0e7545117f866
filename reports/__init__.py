"""Reports of a BSK conformance run: conformance.json, conformance.html and junit.xml.

The harness (``harness/``) builds the schema-v1 result dict described in
docs/architecture.md and calls:

    paths = reports.write_reports(result, report_dir)   # {"json", "html", "junit"} -> Path
    for line in reports.terminal_summary(result, paths):
        print(line)

``reports.validate(result)`` checks a result against the shipped JSON Schema
(``reports.schema_path()``), and ``reports.diff`` compares two runs for the
``bsk-conformance diff`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import diff
from .files import write_atomic
from .html_report import render_html
from .json_report import InvalidResult, load, problems, render_json, schema_path, validate
from .junit import render_junit
from .terminal import terminal_summary

__all__ = [
    "InvalidResult",
    "diff",
    "load",
    "problems",
    "schema_path",
    "terminal_summary",
    "validate",
    "write_reports",
    "FILE_NAMES",
]

#: The file each format is written to, inside the report directory.
FILE_NAMES: dict[str, str] = {"json": "conformance.json", "html": "conformance.html", "junit": "junit.xml"}


def write_reports(result: Mapping[str, Any], report_dir: Path, *, check: bool = True) -> dict[str, Path]:
    """Write conformance.json, conformance.html and junit.xml into ``report_dir``.

    The directory is created if missing. All three files are rendered in memory
    first and then each is renamed into place, so a failure while rendering
    leaves the previous reports untouched, and no reader ever sees half a file.

    ``check`` validates ``result`` against schema v1 first and raises
    :class:`InvalidResult` (writing nothing) when it does not conform.
    Returns ``{"json": path, "html": path, "junit": path}``.
    """
    if check:
        validate(result)
    report_dir = Path(report_dir)
    rendered = {
        "json": render_json(result),
        "html": render_html(result),
        "junit": render_junit(result),
    }
    paths = {kind: report_dir / name for kind, name in FILE_NAMES.items()}
    # JSON last: it is the record that a CI step or diff reads, so once it is
    # in place, the HTML and JUnit beside it are from the same run.
    for kind in ("html", "junit", "json"):
        write_atomic(paths[kind], rendered[kind])
    return paths
