"""The hooks that make pytest's terminal tell the run's story: checks named
as the reports name them (harness/terminal_names.py), outcomes in the run's
words (harness/check_reports.py: `204 passed, 2 warned, 4 not verified`),
and the warned checks shown with their rule, as failures are.

`-r` letters: warned checks are listed with failures (`f`, the default, or
`W`); not verified ones with skips (`s`, so `-ra` and `-rA` too). pytest's
`N` already means "no summary", so it is not a letter here."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bsk_conformance.harness.check_reports import NAME_ATTR, REQUIREMENT_ATTR, teststatus
from bsk_conformance.harness.collection import check_name
from bsk_conformance.harness.terminal_names import CheckNames, listing

names_key = pytest.StashKey[CheckNames]()


def _strict(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "strict", False))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    names = CheckNames(config)
    names.install()
    config.stash[names_key] = names
    config.pluginmanager.register(_RequirementsFromReports(names), "bsk-conformance-check-names")


class _RequirementsFromReports:
    """The xdist controller collects nothing: it learns a check's requirement
    from the check's first report, before the terminal shows it."""

    def __init__(self, names: CheckNames) -> None:
        self._names = names

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        requirement, name = getattr(report, REQUIREMENT_ATTR, None), getattr(report, NAME_ATTR, None)
        if requirement and name:
            self._names.learn(report.nodeid, str(name), str(requirement))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    names = config.stash.get(names_key, None)
    if names is None:
        return
    for item in items:
        marker = item.get_closest_marker("requirement")
        if marker is not None and marker.args:
            names.learn(item.nodeid, check_name(item), str(marker.args[0]))


@pytest.hookimpl(wrapper=True)
def pytest_collection_finish(session: pytest.Session):
    """`--collect-only -q` lists checks by report name with their requirement,
    in place of pytest's list of nodeids."""
    config = session.config
    names = config.stash.get(names_key, None)
    quiet_listing = config.option.collectonly and config.get_verbosity() == -1
    if names is None or not quiet_listing or not any(names.knows(i.nodeid) for i in session.items):
        return (yield)
    items = session.items
    session.items = []  # pytest's reporter prints session.items: here, nothing
    try:
        result = yield
    finally:
        session.items = items
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for line in listing(names, items):
        if reporter is not None:
            reporter.write_line(line)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.BaseReport, config: pytest.Config) -> Any:
    return teststatus(report, strict=_strict(config))


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The warned checks' details (as pytest shows failures), then one line
    each for warned and not verified checks, before pytest's own short summary."""
    warned = list(terminalreporter.stats.get("warned", []))
    not_verified = list(terminalreporter.stats.get("not verified", []))
    names = config.stash.get(names_key, None)
    tbstyle = config.getoption("tbstyle", "auto")
    if warned and tbstyle not in ("no", "line"):
        terminalreporter.write_sep("=", "WARNED: SHOULD/MAY requirements not met (warnings, not failures)")
        for report in warned:
            terminalreporter.write_sep("_", report.head_line or report.nodeid)
            report.toterminal(terminalreporter._tw)
    chars = terminalreporter.reportchars
    lines = []
    if "f" in chars or "W" in chars:
        lines += [_short_line("WARNED", report, names, config) for report in warned]
    if "s" in chars:
        lines += [_short_line("NOT VERIFIED", report, names, config) for report in not_verified]
    if lines:
        # as pytest's short summary: one screen line each, unless on CI or -vv
        width = None if _on_ci() or config.get_verbosity() >= 2 else terminalreporter._tw.fullwidth
        terminalreporter.write_sep("=", "warned and not verified checks")
        for line in lines:
            terminalreporter.write_line(line if width is None or len(line) <= width else line[: width - 3] + "...")


def _on_ci() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("BUILD_NUMBER"))


def _short_line(word: str, report: pytest.BaseReport, names: CheckNames | None, config: pytest.Config) -> str:
    shown = names.name(report.nodeid, with_requirement=config.get_verbosity() > 0) if names is not None else None
    return f"{word} {shown or report.nodeid} - {_first_line(report)}"


def _first_line(report: pytest.BaseReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2]).removeprefix("Skipped: ")
    else:
        text = str(longrepr or "")
    text = text.strip()
    return text.splitlines()[0] if text else ""
