"""write_reports: three files, written whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from synthetic_results import make_result

from bsk_conformance import reports
import bsk_conformance.reports.html_report
def test_writes_three_files_into_a_new_directory(result: dict[str, Any], tmp_path: Path) -> None:
    report_dir = tmp_path / "nested" / "conformance-report"
    paths = reports.write_reports(result, report_dir)
    assert paths == {
        "json": report_dir / "conformance.json",
        "html": report_dir / "conformance.html",
        "junit": report_dir / "junit.xml",
    }
    assert sorted(p.name for p in report_dir.iterdir()) == ["conformance.html", "conformance.json", "junit.xml"]
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == result
    assert paths["html"].read_text(encoding="utf-8").startswith("<!doctype html>")
    assert paths["junit"].read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in paths.values())


def test_the_json_keeps_the_harness_field_order_and_non_ascii(result: dict[str, Any], tmp_path: Path) -> None:
    result["requirements"][0]["title"] = "Login — «returns» the pair"
    text = reports.write_reports(result, tmp_path)["json"].read_text(encoding="utf-8")
    assert list(json.loads(text)) == list(result)
    assert "Login — «returns» the pair" in text


def test_a_crash_while_rendering_leaves_the_previous_reports_intact(
    result: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = reports.write_reports(result, tmp_path)
    before = {kind: path.read_bytes() for kind, path in first.items()}

    def boom(_: Any) -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(reports, "render_html", boom)
    changed = make_result(target="http://other.test")
    with pytest.raises(RuntimeError):
        reports.write_reports(changed, tmp_path)
    assert {kind: path.read_bytes() for kind, path in first.items()} == before
    assert sorted(os.listdir(tmp_path)) == ["conformance.html", "conformance.json", "junit.xml"]


def test_a_failed_write_leaves_no_temporary_file(
    result: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        reports.write_reports(result, tmp_path)
    assert os.listdir(tmp_path) == []


def test_rewriting_replaces_the_files(result: dict[str, Any], tmp_path: Path) -> None:
    reports.write_reports(result, tmp_path)
    paths = reports.write_reports(make_result(target="http://second.test"), tmp_path)
    assert json.loads(paths["json"].read_text())["target"] == "http://second.test"
    assert "http://second.test" in paths["html"].read_text()


def test_validation_can_be_left_to_the_caller(tmp_path: Path) -> None:
    odd = make_result()
    odd["experimental"] = True  # not in schema v1
    with pytest.raises(reports.InvalidResult):
        reports.write_reports(odd, tmp_path)
    paths = reports.write_reports(odd, tmp_path, check=False)
    assert json.loads(paths["json"].read_text())["experimental"] is True
