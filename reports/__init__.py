"""Reports of a BSK conformance run: conformance.json, conformance.html, junit.xml
and the exchanges as HAR 1.2 (conformance.har).

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

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import diff
    from .json_report import InvalidResult, load, problems, schema_path, validate
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
    "HAR_FILE_NAME",
]

#: The file each format is written to, inside the report directory.
FILE_NAMES: dict[str, str] = {"json": "conformance.json", "html": "conformance.html", "junit": "junit.xml"}
#: The HAR's name in the report directory, where the harness writes it unless --har says otherwise.
HAR_FILE_NAME = "conformance.har"

# Loaded on first use: the harness imports `reports.verdict_rules` at pytest's
# start, which runs this file, and must not pay for jinja2 and the writers then.
_LAZY: dict[str, tuple[str, str | None]] = {
    "diff": (".diff", None),
    "InvalidResult": (".json_report", "InvalidResult"),
    "load": (".json_report", "load"),
    "problems": (".json_report", "problems"),
    "schema_path": (".json_report", "schema_path"),
    "validate": (".json_report", "validate"),
    "terminal_summary": (".terminal", "terminal_summary"),
    "render_html": (".html_report", "render_html"),
    "render_json": (".json_report", "render_json"),
    "render_junit": (".junit", "render_junit"),
    "render_har": (".har", "render_har"),
    "write_atomic": (".files", "write_atomic"),
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it as a module global."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def _get(name: str) -> Any:
    return globals()[name] if name in globals() else __getattr__(name)


def write_reports(
    result: Mapping[str, Any],
    report_dir: Path,
    *,
    check: bool = True,
    har: Path | None = None,
    strict: bool = False,
) -> dict[str, Path]:
    """Write conformance.json, conformance.html and junit.xml into ``report_dir``,
    and the exchanges as HAR 1.2 to ``har`` when it is given.

    The directory is created if missing. All files are rendered in memory
    first and then each is renamed into place, so a failure while rendering
    leaves the previous reports untouched, and no reader ever sees half a file.

    ``strict`` is the run's ``--strict``: junit.xml then files a broken SHOULD
    or MAY as a ``<failure>``, as the exit code counts it.
    ``check`` validates ``result`` against schema v1 first and raises
    :class:`InvalidResult` (writing nothing) when it does not conform.
    Returns ``{"json": path, "html": path, "junit": path}`` (and ``"har"``).
    The HAR is built from ``result``'s evidence, so it is redacted exactly as
    conformance.json is (reports/har.py); the harness's default path for it is
    ``report_dir / HAR_FILE_NAME``.
    """
    # Looked up as this module's attributes, so a test can replace a renderer.
    render_html, render_json, render_junit = _get("render_html"), _get("render_json"), _get("render_junit")
    write_atomic = _get("write_atomic")
    if check:
        _get("validate")(result)
    report_dir = Path(report_dir)
    rendered = {
        "json": render_json(result),
        "html": render_html(result),
        "junit": render_junit(result, strict=strict),
    }
    paths = {kind: report_dir / name for kind, name in FILE_NAMES.items()}
    if har is not None:
        rendered["har"] = _get("render_har")(result)
        paths["har"] = Path(har)
    # JSON last: it is the record that a CI step or diff reads, so once it is
    # in place, the files beside it are from the same run.
    for kind in ("html", "junit", "har", "json"):
        if kind in rendered:
            write_atomic(paths[kind], rendered[kind])
    return paths
