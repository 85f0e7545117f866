"""bsk-conformance matrix: its cells agree with the reports it was built from, its JSON twin follows its
schema, and it renders cleanly in headless Chromium, filters offline and stays readable with ten columns.

The main inputs are real runs (real_runs.py): the reference server and five
faulty variants, shared by the test session.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cdp import CHROMIUM, Browser
from real_runs import REFERENCE, VARIANTS
from synthetic_results import (
    HOSTILE,
    finish,
    make_interrupted_result,
    make_partial_result,
    make_result,
    with_status,
    without,
)

from bsk_conformance import reports
from bsk_conformance.reports import cli, matrix
from bsk_conformance.reports.html_report import VERDICT_LABELS, anchor

NAMES = (REFERENCE, *VARIANTS)
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser tests",
)


class MatrixPage(HTMLParser):
    """The grid as the page shows it: column headers, and per row its ID and each cell's status and link."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []  # verdict chip text per column
        self.rows: list[dict[str, Any]] = []
        self.scripts = 0
        self._in_impl_header = False
        self._in_chip = False
        self._chip_depth = 0  # spans inside the chip (its NON- and CONFORMANT parts)
        self._cell: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "script":
            self.scripts += 1
        if tag == "th" and "impl" in classes:
            self._in_impl_header = True
        if tag == "span" and self._in_chip:
            self._chip_depth += 1
        if tag == "span" and "vchip" in classes and self._in_impl_header:
            self._in_chip = True
            self.columns.append("")
        if tag == "tr" and "mrow" in classes:
            self.rows.append({"id": a["data-id"], "classes": classes, "cells": []})
        if tag == "td" and "cell" in classes:
            self._cell = {"status": a["data-status"], "href": None, "title": a.get("title")}
            self.rows[-1]["cells"].append(self._cell)
        if tag == "a" and self._cell is not None:
            self._cell["href"] = a["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_impl_header = False
        if tag == "span" and self._in_chip:
            if self._chip_depth:
                self._chip_depth -= 1
            else:
                self._in_chip = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_chip:
            self.columns[-1] += data


def parse_page(path: Path) -> MatrixPage:
    page = MatrixPage()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def runs(real_runs: Any) -> dict[str, Path]:
    return real_runs(*NAMES)


@pytest.fixture(scope="module")
def built(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matrix of the six real runs, in a folder of its own (so every detail link is relative)."""
    out = tmp_path_factory.mktemp("site") / "matrix.html"
    assert cli.main(["matrix", *(str(runs[name] / "conformance.json") for name in NAMES), "-o", str(out)]) == 0
    return out


def chip(result: dict[str, Any]) -> str:
    """What a column's verdict chip must say: the verdict, and for a run that is not whole how much ran or
    what stopped it."""
    label = VERDICT_LABELS[result["verdict"]]
    if result["verdict"] == "partial":
        ran = sum(r["status"] != "skipped" for r in result["requirements"])
        return f"{label} ({ran}/{len(result['requirements'])})"
    if result["verdict"] == "interrupted":
        return f"{label} ({result['interruption']['cause']})"
    return label


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_cell_agrees_with_the_input_reports(runs: dict[str, Path], built: Path) -> None:
    data = _load(built.with_suffix(".json"))
    page = parse_page(built)
    assert [impl["name"] for impl in data["implementations"]] == list(NAMES)
    assert len(page.columns) == len(NAMES) and page.scripts == 0
    page_rows = {row["id"]: row for row in page.rows}
    assert [row["id"] for row in data["requirements"]] == [row["id"] for row in page.rows]

    for index, name in enumerate(NAMES):
        result = _load(runs[name] / "conformance.json")
        statuses = {r["id"]: r["status"] for r in result["requirements"]}
        # the JSON twin: the same status for every requirement of the run, and nothing it did not have
        column = {row["id"]: row["statuses"][index] for row in data["requirements"]}
        assert {rid: s for rid, s in column.items() if s is not None} == statuses
        # the page: the same, cell by cell, each linked to that run's own report at that requirement
        detail = runs[name] / "conformance.html"
        detail_page = detail.read_text(encoding="utf-8")
        for rid, status in statuses.items():
            cell = page_rows[rid]["cells"][index]
            assert cell["status"] == status, (name, rid)
            href = urllib.parse.unquote(cell["href"])
            target, fragment = href.split("#")
            assert (built.parent / target).resolve() == detail.resolve()
            assert fragment == anchor(rid) and f'id="{fragment}"' in detail_page
        # the header: the verdict and the counts of that run
        assert page.columns[index] == chip(result)
        assert data["implementations"][index]["summary"] == result["summary"]
        assert data["implementations"][index]["verdict"] == result["verdict"]

    for row in data["requirements"]:
        assert row["differs"] == (len(set(row["statuses"])) > 1)
        assert ("same" in page_rows[row["id"]]["classes"]) == (not row["differs"])
    assert data["differing"] == sum(row["differs"] for row in data["requirements"]) > 0


def test_the_json_twin_follows_its_own_schema(built: Path) -> None:
    schema = matrix.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(_load(built.with_suffix(".json")))
    assert matrix.schema_problems({"matrixVersion": 1}) != []


# -- synthetic inputs: names, absences, escaping, bad input -------------------------------------------------


def _write_run(folder: Path, result: dict[str, Any]) -> Path:
    reports.write_reports(finish(result), folder)
    return folder / "conformance.json"


def test_names_absent_requirements_and_hostile_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write_run(tmp_path / "vendor-a", make_result(target=HOSTILE))
    b = _write_run(tmp_path / "vendor-b", without(with_status(make_result(), "BSK-TOK-002", "passed"), "BSK-RL-001"))
    (tmp_path / "vendor-b" / "conformance.html").unlink()  # no detail page: cells are not links
    out = tmp_path / "out" / "matrix.html"
    code = cli.main(["matrix", f"Acme API={a}", str(b), str(b), "-o", str(out), "--json", str(tmp_path / "m.json")])
    assert code == 0, capsys.readouterr().err
    data = _load(tmp_path / "m.json")
    assert [i["name"] for i in data["implementations"]] == ["Acme API", "vendor-b (1)", "vendor-b (2)"]
    rows = {row["id"]: row for row in data["requirements"]}
    assert rows["BSK-RL-001"]["statuses"] == ["not_verified", None, None] and rows["BSK-RL-001"]["differs"]
    assert rows["BSK-TOK-002"]["statuses"] == ["failed", "passed", "passed"]
    assert data["implementations"][1]["detail"] is None
    page = parse_page(out)
    cells = {row["id"]: row["cells"] for row in page.rows}
    assert [c["status"] for c in cells["BSK-RL-001"]] == ["not_verified", "absent", "absent"]
    assert cells["BSK-TOK-002"][0]["href"] == "../vendor-a/conformance.html#req-BSK-TOK-002"
    assert cells["BSK-TOK-002"][1]["href"] is None
    assert "expected exp - iat = 900" in cells["BSK-TOK-002"][0]["title"]  # the reason, as a tooltip
    html = out.read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html and page.scripts == 0


def test_partial_and_interrupted_runs_are_shown_as_what_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _write_run(tmp_path / "whole", make_partial_result(run=5, total=5))
    partial = _write_run(tmp_path / "partial", make_partial_result(run=2, total=5))
    stopped = _write_run(tmp_path / "stopped", make_interrupted_result(cause=f"SIG{HOSTILE}"))
    out = tmp_path / "out" / "matrix.html"
    assert cli.main(["matrix", str(whole), str(partial), str(stopped), "-o", str(out)]) == 0, capsys.readouterr().err
    data = _load(out.with_suffix(".json"))
    assert matrix.schema_problems(data) == []
    impls = data["implementations"]
    assert [i["verdict"] for i in impls] == ["conformant", "partial", "interrupted"]
    assert [i["verdictDetail"] for i in impls] == ["conformant", "partial (2/5)", f"interrupted (SIG{HOSTILE})"]
    assert impls[1]["completeness"]["leftOut"] == ["BSK-OUT-000", "BSK-OUT-001", "BSK-OUT-002"]
    assert impls[2]["interruption"]["cleanup"] == "complete" and impls[0]["interruption"] is None
    page = parse_page(out)
    assert page.columns == ["CONFORMANT", "PARTIAL (2/5)", f"INTERRUPTED (SIG{HOSTILE})"]
    html = out.read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and page.scripts == 0
    assert "1 conformant, 1 partial, 1 interrupted" in html


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "no such file"),
        ("not json", "not valid JSON"),
        ("not schema v1", "not a valid conformance result (schema v1)"),
        ("same output twice", "need two different paths"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    setup: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write_run(tmp_path / "good", make_result())
    bad = tmp_path / "bad.json"
    if setup == "not json":
        bad.write_text("{nope", encoding="utf-8")
    elif setup == "not schema v1":
        bad.write_text(json.dumps({"schemaVersion": 1, "verdict": "great"}), encoding="utf-8")
    elif setup == "same output twice":
        bad = good
    argv = ["matrix", str(good), str(bad), "-o", str(tmp_path / "m.html")]
    if setup == "same output twice":
        argv += ["--json", str(tmp_path / "m.html")]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "m.html").exists()


# -- in a browser --------------------------------------------------------------------------------------------

SHOWN_ROWS = (
    "Array.from(document.querySelectorAll('tr.mrow')).filter(e => getComputedStyle(e).display !== 'none').length"
)


def _click(browser: Browser, selector: str) -> None:
    point = browser.evaluate(
        f"(function () {{ var el = document.querySelector('{selector}'); el.scrollIntoView({{block: 'center'}});"
        " var b = el.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent", {"type": kind, "x": point[0], "y": point[1], "button": "left", "clickCount": 1}
        )


@needs_chromium
@pytest.mark.parametrize("javascript", [True, False])
def test_the_six_run_matrix_renders_cleanly_and_filters_offline(built: Path, javascript: bool) -> None:
    data = _load(built.with_suffix(".json"))
    not_all_passed = sum(1 for r in data["requirements"] if set(r["statuses"]) != {"passed"})
    with Browser(width=1440, height=1000) as browser:
        browser.open_page(built.as_uri(), javascript=javascript)
        assert browser.evaluate("document.querySelectorAll('th.impl').length") == len(NAMES)
        assert browser.evaluate(SHOWN_ROWS) == len(data["requirements"])
        _click(browser, "label[for=r-differ]")
        assert browser.evaluate("document.getElementById('r-differ').checked") is True
        assert browser.evaluate(SHOWN_ROWS) == data["differing"]
        _click(browser, "label[for=r-attention]")
        assert browser.evaluate(SHOWN_ROWS) == not_all_passed
        _click(browser, "label[for=r-all]")
        assert browser.evaluate(SHOWN_ROWS) == len(data["requirements"])
        assert browser.evaluate("document.scripts.length") == 0
        assert browser.console_errors() == []


@needs_chromium
def test_ten_implementations_stay_readable_on_a_laptop_screen(tmp_path: Path) -> None:
    statuses = ["passed", "failed", "warning", "not_verified", "skipped", "error"]
    inputs = []
    for i in range(10):
        result = make_result(target=f"https://api.vendor-{i}.example/v1")
        result = with_status(result, "BSK-TOK-001", statuses[i % len(statuses)])
        inputs.append(f"Vendor {i} authentication API={_write_run(tmp_path / f'v{i}', result)}")
    out = tmp_path / "site" / "matrix.html"
    assert cli.main(["matrix", *inputs, "-o", str(out)]) == 0
    with Browser(width=1280, height=800) as browser:
        browser.open_page(out.as_uri())
        assert browser.console_errors() == []
        # nothing in a header or a cell is clipped: every text fits its box
        clipped = browser.evaluate(
            "Array.from(document.querySelectorAll('th.impl, td.cell, .impl-name'))"
            ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
        )
        assert clipped == 0
        # all ten columns fit beside the requirement column without scrolling sideways
        assert browser.evaluate(
            "(function () { var s = document.querySelector('.grid-scroll'); return s.scrollWidth <= s.clientWidth; })()"
        )
        # scrolled down, the header row stays in view; the ID column stays put when the grid scrolls
        offsets = browser.evaluate(
            """(function () {
                var s = document.querySelector('.grid-scroll');
                s.scrollTop = 10000; s.scrollLeft = 10000;
                var box = s.getBoundingClientRect();
                var head = document.querySelector('th.impl').getBoundingClientRect();
                var rows = document.querySelectorAll('th.req-head');
                var first = rows[rows.length - 1].getBoundingClientRect();
                return [Math.round(head.top - box.top), Math.round(first.left - box.left)];
            })()"""
        )
        assert offsets[0] <= 1 and offsets[1] <= 1
        assert os.path.getsize(out) < 1_000_000
