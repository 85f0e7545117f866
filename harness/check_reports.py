"""pytest's own report of a check, told in the run's words: what a phase's
report carries (the requirement, its level, how the phase ended), how a
failure reads (the rule first, then the check's own line), and which outcome
pytest's terminal counts it under.

The report's record (harness/results.py) stays the truth; this module only
makes pytest's terminal, `--lf`, `--sw` and `-x` agree with it:

- a broken SHOULD or MAY is *warned*: pytest counts it as its own outcome and
  takes it for a pass (not rerun by `--lf`, no stop for `--sw` or `-x`),
  because a warning never fails certification. With `--strict` it stays a
  failure, as it fails the run's exit code.
- a check the harness could not judge is *not verified*, not skipped.
- a check that ended in error during its call (the target's transport, a
  precondition, a harness problem) is an error, not a failure of the rule.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import Code, ExceptionInfo, Traceback

from bsk_conformance.harness.state import Requirement

# attributes set on pytest's TestReport; plain data, so xdist carries them from a worker
REQUIREMENT_ATTR = "bsk_requirement"
NAME_ATTR = "bsk_check_name"  # suites/<module>::<check>, the reports' name
LEVEL_ATTR = "bsk_level"
OUTCOME_ATTR = "bsk_outcome"

#: the run's outcome of a check stopped by a signal while it ran (plugin.py's in-flight record)
INTERRUPTED = "interrupted"

_HARNESS = Path(__file__).resolve().parent

# (category, letter, word, colour): the category is the word pytest's summary line counts
WARNED = ("warned", "W", "WARNED", "yellow")
NOT_VERIFIED = ("not verified", "N", "NOT VERIFIED", "yellow")
ERROR = ("error", "E", "ERROR", "red")
STOPPED = ("error", "E", "INTERRUPTED", "red")


def annotate(
    report: pytest.TestReport, name: str, requirement: Requirement, outcome: str, *, strict: bool
) -> None:
    """Tie a phase's report to its requirement and the run's outcome of the phase.

    A warned call is reported to pytest as passed (see the module's docstring);
    its longrepr stays, for the terminal's section of warned checks."""
    setattr(report, REQUIREMENT_ATTR, requirement.id)
    setattr(report, NAME_ATTR, name)
    setattr(report, LEVEL_ATTR, requirement.level)
    setattr(report, OUTCOME_ATTR, outcome)
    if is_warned(report) and not strict:
        report.outcome = "passed"


def mark_interrupted(report: pytest.TestReport, name: str, requirement_id: str) -> None:
    setattr(report, REQUIREMENT_ATTR, requirement_id)
    setattr(report, NAME_ATTR, name)
    setattr(report, OUTCOME_ATTR, INTERRUPTED)


def is_warned(report: pytest.BaseReport) -> bool:
    """A call that broke a SHOULD or MAY (whether or not --strict made it a failure)."""
    return (
        getattr(report, OUTCOME_ATTR, None) == "failed"
        and getattr(report, LEVEL_ATTR, "MUST") != "MUST"
        and getattr(report, "when", None) == "call"
    )


def teststatus(report: pytest.BaseReport, *, strict: bool) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    """pytest_report_teststatus's answer for a check's report, or None to leave it to pytest."""
    outcome = getattr(report, OUTCOME_ATTR, None)
    if outcome is None:
        return None  # not a check: pytest's own words
    status = None
    if is_warned(report) and not strict:
        status = WARNED
    elif outcome == "not_verified" and report.skipped:
        status = NOT_VERIFIED
    elif outcome == INTERRUPTED:
        status = STOPPED
    elif outcome == "error" and report.failed and report.when == "call":
        status = ERROR
    if status is None:
        return None
    category, letter, word, colour = status
    return category, letter, (word, {colour: True})


def restate_failure(
    item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport, requirement: Requirement, message: str
) -> None:
    """A failed check's longrepr: one line naming the rule and what was seen,
    then the traceback without the harness's frames (the check's own line is
    the last one shown). `--tb=long` and `--full-trace` keep every frame: they
    are for someone debugging the harness."""
    excinfo = call.excinfo
    if excinfo is None or report.longrepr is None:
        return
    config = item.config
    style = config.getoption("tbstyle", "auto")
    if style not in ("long", "no") and not config.getoption("fulltrace", False):
        report.longrepr = excinfo.getrepr(
            funcargs=True,
            showlocals=bool(config.getoption("showlocals", False)),
            style="long" if style == "auto" else style,
            tbfilter=lambda info: _check_frames(item, info),
            truncate_locals=config.get_verbosity() <= 1,
        )
    report.longrepr = f"{headline(requirement, message)}\n\n{report.longrepr}"


def headline(requirement: Requirement, message: str) -> str:
    """``BSK-JWT-015 (SHOULD, §8): <the expected/observed sentence>``, one line."""
    first = message.strip().splitlines()[0] if message.strip() else "the rule was broken"
    return f"{requirement.id} ({requirement.level}, §{requirement.section}): {first}"


def _check_frames(item: pytest.Item, excinfo: ExceptionInfo[BaseException]) -> Traceback:
    """The frames from the check's function on, less pytest's hidden ones and
    the harness's (which leaves the check's own line last, or a suite helper's)."""
    traceback = excinfo.traceback
    function = getattr(item, "obj", None)
    if function is not None:
        code = Code.from_function(inspect.unwrap(function))
        traceback = traceback.cut(path=code.path, firstlineno=code.firstlineno)
    traceback = traceback.filter(excinfo)
    shown = Traceback(entry for entry in traceback if not _in_harness(entry.path))
    return shown if len(shown) else traceback


def _in_harness(path: Any) -> bool:
    try:
        return _HARNESS in Path(str(path)).resolve().parents
    except (OSError, ValueError):
        return False
