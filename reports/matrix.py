"""``bsk-conformance matrix``: several implementations side by side, from their conformance.json files.

Requirements are rows and implementations columns; each cell is that
implementation's status for that requirement, linked to the requirement in
the implementation's own ``conformance.html`` when one lies beside its JSON.
It reads the reports that exist and never re-runs a check.

Two outputs, written atomically:

* ``matrix.html``: one self-contained page in the report's style, under the
  same Content-Security-Policy (no network, only our inline style, by hash; it
  has no script at all). Its filters ("only rows where implementations
  differ", "only rows not passed everywhere") are radio buttons and CSS, so
  they work offline and with JavaScript off. The header row and the ID column
  stay in view while the grid scrolls, so ten or more columns stay readable.
* ``matrix.json``: the same data for machines, following
  ``reports/schema/matrix-v1.schema.json``.
"""

from __future__ import annotations

import functools
import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bsk_conformance import __version__

from . import model, vocabulary
from .files import write_atomic
from .html_report import VERDICT_LABELS, _csp_hash, _environment, _segments, _static, _text, anchor

FORMAT = 1
SCHEMA_FILE = "matrix-v1.schema.json"
DETAIL_FILE = "conformance.html"
#: Short cell words, so that ten columns fit a laptop screen.
CELL_LABELS = {
    "passed": "passed",
    "failed": "FAILED",
    "warning": "warning",
    "not_verified": "not verified",
    "skipped": "skipped",
    "error": "error",
}


class MatrixError(Exception):
    """The matrix cannot be built or written; the message is one line."""


@dataclass(frozen=True)
class Entry:
    """One implementation: its column label (None: derived), where its JSON is, and the result."""

    name: str | None
    path: Path
    result: Mapping[str, Any]


def parse_spec(spec: str) -> tuple[str | None, Path]:
    """``NAME=path.json`` or ``path.json``. An existing file's name, or a ``=`` after a slash, is a path."""
    if Path(spec).is_file():
        return None, Path(spec)
    name, sep, rest = spec.partition("=")
    if sep and name and rest and "/" not in name and os.sep not in name:
        return name, Path(rest)
    return None, Path(spec)


def _default_name(path: Path) -> str:
    """A run's folder names it (CI artifacts are folders per target); otherwise the file's stem."""
    if path.name == "conformance.json" and path.parent.name:
        return path.parent.name
    return path.stem


def _names(entries: Sequence[Entry]) -> list[str]:
    names = [e.name if e.name else _default_name(e.path.resolve()) for e in entries]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return unique


def _detail_href(json_path: Path, output_dir: Path) -> str | None:
    """A link from the matrix page to the conformance.html beside ``json_path``, when there is one."""
    html = json_path.resolve().parent / DETAIL_FILE
    if not html.is_file():
        return None
    relative = os.path.relpath(html, output_dir.resolve())
    return urllib.parse.quote(Path(relative).as_posix())


def build_matrix(entries: Sequence[Entry], output_dir: Path) -> dict[str, Any]:
    """The matrix's JSON twin: implementations, then one row per requirement any of them has."""
    if not entries:
        raise MatrixError("no reports given")
    implementations = []
    rows: dict[str, dict[str, Any]] = {}
    for index, (entry, name) in enumerate(zip(entries, _names(entries), strict=True)):
        result = entry.result
        implementations.append(
            {
                "name": name,
                "source": str(entry.path),
                "detail": _detail_href(entry.path, output_dir),
                "target": result["target"],
                "environment": result["environment"],
                "verdict": result["verdict"],
                "verdictDetail": model.verdict_tag(result),
                "completeness": model.completeness(result),
                "interruption": result.get("interruption"),
                "summary": dict(result["summary"]),
                "harnessVersion": result["harnessVersion"],
                "contractVersion": result["contractVersion"],
                "catalogueDigest": result.get("catalogueDigest"),
                "startedAt": result["startedAt"],
                "targetFingerprint": result.get("targetFingerprint"),
            }
        )
        for requirement in result["requirements"]:
            row = rows.setdefault(
                requirement["id"],
                {
                    "id": requirement["id"],
                    "level": requirement["level"],
                    "section": requirement["section"],
                    "title": requirement["title"],
                    "statuses": [None] * len(entries),
                    "reasons": [None] * len(entries),
                },
            )
            row["statuses"][index] = requirement["status"]
            row["reasons"][index] = requirement.get("reason")
    ordered = sorted(rows.values(), key=lambda r: (vocabulary.section_key(r["section"]), r["id"]))
    for row in ordered:
        row["differs"] = len(set(row["statuses"])) > 1
    return {
        "matrixVersion": FORMAT,
        "generatedBy": f"bsk-conformance {__version__}",
        "implementations": implementations,
        "requirements": ordered,
        "differing": sum(1 for row in ordered if row["differs"]),
        "cataloguesAgree": len({i["catalogueDigest"] for i in implementations}) == 1,
    }


@functools.cache
def load_schema() -> dict[str, Any]:
    path = resources.files("bsk_conformance.reports") / "schema" / SCHEMA_FILE
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def schema_problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the matrix schema (empty when it is valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    return [
        "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) + f": {error.message}"
        for error in validator.iter_errors(data)
    ]


def _column(impl: Mapping[str, Any], index: int) -> dict[str, Any]:
    counts = {status: impl["summary"][vocabulary.SUMMARY_KEYS[status]] for status in vocabulary.STATUSES}
    jwks = _text((impl.get("targetFingerprint") or {}).get("jwksSha256") or "not recorded", 80)
    return {
        "index": index,
        "name": _text(impl["name"], 80),
        "target": _text(impl["target"], 200),
        "verdict": impl["verdict"],
        "verdict_label": _verdict_label(impl),
        "counts": [(s, vocabulary.STATUS_LABELS[s], counts[s]) for s in vocabulary.STATUSES if counts[s]],
        "total": sum(counts.values()),
        "segments": _segments(counts),
        "detail": impl["detail"],
        "started": _text(impl["startedAt"], 40),
        "harness": _text(impl["harnessVersion"], 40),
        "contract": _text(impl["contractVersion"], 40),
        "catalogue": _text(impl["catalogueDigest"] or "not recorded", 80),
        "jwks": jwks,
        "jwks_short": jwks[:16] + "…" if len(jwks) > 20 else jwks,
        "source": _text(impl["source"], 300),
    }


def _verdict_label(impl: Mapping[str, Any]) -> str:
    """The column's verdict chip: ``NON-CONFORMANT``, ``PARTIAL (2/127)``, ``INTERRUPTED (SIGTERM)``.
    The cause comes from the report: capped here, escaped by the template."""
    verdict = str(impl["verdict"])
    label = VERDICT_LABELS.get(verdict, verdict)
    detail = str(impl.get("verdictDetail") or verdict)
    return label + _text(detail[len(verdict) :], 120) if detail.startswith(verdict) else label


def _cell(row: Mapping[str, Any], index: int, column: Mapping[str, Any]) -> dict[str, Any]:
    status = row["statuses"][index]
    if status is None:
        return {"status": "absent", "label": "—", "href": None, "title": f"{column['name']}: not in this run"}
    reason = _text(row["reasons"][index], 300)
    title = f"{column['name']}: {row['id']} {vocabulary.STATUS_LABELS.get(status, status)}" + (
        f" — {reason}" if reason else ""
    )
    href = f"{column['detail']}#{anchor(row['id'])}" if column["detail"] else None
    return {"status": status, "label": CELL_LABELS.get(status, status), "href": href, "title": title}


def build_context(matrix: Mapping[str, Any]) -> dict[str, Any]:
    """What the template shows, already capped and escaped where it must be."""
    columns = [_column(impl, i) for i, impl in enumerate(matrix["implementations"])]
    rows = []
    for row in matrix["requirements"]:
        present = [s for s in row["statuses"] if s is not None]
        rows.append(
            {
                "id": _text(row["id"], 100),
                "level": row["level"],
                "section": _text(row["section"], 20),
                "title": _text(row["title"], 300),
                "differs": row["differs"],
                "clean": bool(present) and len(present) == len(row["statuses"]) and set(present) == {"passed"},
                "cells": [_cell(row, i, column) for i, column in enumerate(columns)],
            }
        )
    css = _static("report.css") + "\n" + _static("matrix.css")
    verdicts = [c["verdict"] for c in columns]
    return {
        "columns": columns,
        "verdict_counts": [
            (v, label.lower(), verdicts.count(v)) for v, label in VERDICT_LABELS.items() if v in verdicts
        ],
        "rows": rows,
        "total": len(rows),
        "differing": matrix["differing"],
        "attention": sum(1 for r in rows if not r["clean"]),
        "catalogues_agree": matrix["cataloguesAgree"],
        "harness_version": __version__,
        # our own static stylesheet, not target data; hashed into the CSP
        "css": Markup(css),
        "csp": (
            f"default-src 'none'; style-src {_csp_hash(css)}; script-src 'none'; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        ),
    }


def render_matrix(matrix: Mapping[str, Any]) -> bytes:
    """matrix.html's bytes."""
    template = _environment().get_template("matrix.html.j2")
    return template.render(build_context(matrix)).encode("utf-8", errors="replace")


def render_json(matrix: Mapping[str, Any]) -> bytes:
    return (json.dumps(matrix, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_matrix(entries: Sequence[Entry], html_path: Path, json_path: Path) -> dict[str, Path]:
    """Build, check against the schema, render, and write both files; returns their paths."""
    if html_path.resolve() == json_path.resolve():
        raise MatrixError(f"{html_path}: the page and its JSON twin need two different paths")
    matrix = build_matrix(entries, html_path.parent)
    found = schema_problems(matrix)
    if found:  # a bug of ours, not of the input: every input was schema-valid
        raise MatrixError(f"the matrix does not follow its own schema: {found[0]}")
    html, data = render_matrix(matrix), render_json(matrix)
    try:
        write_atomic(json_path, data)
        write_atomic(html_path, html)
    except OSError as exc:
        raise MatrixError(f"{exc.filename or html_path}: cannot write it ({exc.strerror or exc})") from None
    return {"html": html_path, "json": json_path}
