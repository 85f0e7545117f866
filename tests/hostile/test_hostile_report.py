"""Markup and script in every field a target controls, through a real run, into
the HTML report, rendered in headless Chromium: nothing runs, nothing is injected."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import ROOT, assert_ended_well, run_harness

sys.path.insert(0, str(ROOT / "tests" / "reports"))
from cdp import CHROMIUM, Browser  # noqa: E402


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install -y chromium)")
def test_markup_from_the_target_is_shown_as_text_and_never_runs(hostile, tmp_path: Path) -> None:
    # reason phrase, a header value, Location, JSON keys and values: all markup
    proxy = hostile({("GET", "/organization"): "markup"})
    # the fixed checks alone: each GETs /organization once (the model run would add its own)
    run = run_harness(proxy.url, tmp_path / "report", "--requirement", "BSK-EP-002", "-m", "not model_run", bound=120)
    assert_ended_well(run)
    assert run.exit_code == 1 and proxy.hits == {"markup": 2}
    html = tmp_path / "report" / "conformance.html"
    raw = html.read_text()
    assert "<b id=" not in raw and "<script>window" not in raw and "<img src=x" not in raw
    with Browser(width=1280, height=900) as browser:
        browser.open_page(html.as_uri())
        # the markup reached the report, as text
        assert browser.evaluate("document.body.textContent.indexOf('<script>window.__pwned=1</script>') >= 0")
        assert browser.evaluate("document.body.textContent.indexOf('x-markup') >= 0")
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.evaluate("document.querySelectorAll('#injected, img, iframe, object, embed').length") == 0
        assert browser.evaluate("document.scripts.length") == 1  # the report's own, allowed by the CSP hash
        assert browser.evaluate("document.querySelector('meta[http-equiv=Content-Security-Policy]') !== null")
        assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
        assert browser.console_errors() == []
