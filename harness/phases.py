"""Phased runs: what each check disturbs (harness/disturbances.py) decides
where it may run, and every check's exchanges are counted.

Under pytest-xdist (`-n N`, the default `--dist load`) the run has two phases:

1. parallel: the checks whose requirement declares no disturbance run across
   all workers at once (they touch nothing beyond their own keys and projects);
2. serial: once every other worker has finished, one worker runs the rest one
   at a time, in collection order: the checks that move the clock, lock an
   account or turn 2FA on and off, then the `runs_last` checks that judge the
   whole run (the key-leak scan, which reads the other workers' findings
   from the run's share directory).

A profile with an account whose 2FA is always on (`totpSecret`) puts every
check in the serial phase: each login of that account spends a TOTP step,
and a worker cannot know which steps another one spent.

The xdist hooks live on a class registered only when xdist is loaded: pluggy
refuses a plugin that implements a hook nobody declared.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bsk_conformance.harness.collection import check_name
from bsk_conformance.harness.disturbances import (
    APART,
    FIRST,
    GUARD,
    LAST,
    PARALLEL,
    SERIAL,
    WAITING,
    DisturbanceError,
    load_disturbances,
)
from bsk_conformance.harness.real_time import OVERLAPPING_WAITS, load_waits, waits_apart, waits_spread
from bsk_conformance.harness.state import CHECK_PROPERTY, declared_key, run_state
from bsk_conformance.harness.verdicts import EXIT_USAGE

PHASE_DIR = "bsk_phase_dir"  # workerinput key: the run's share directory
VIOLATIONS_PROPERTY = "bsk_undeclared"

_sent_key = pytest.StashKey[int]()
_apart_key = pytest.StashKey[bool]()  # item.stash: the check runs apart (phase APART)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    state = run_state(config)
    if state is None:
        return
    try:
        config.stash[declared_key] = load_disturbances(state.catalogue)
    except DisturbanceError as exc:
        pytest.exit(f"bsk-conformance: {exc}", returncode=EXIT_USAGE)
    _violations.clear()
    config.addinivalue_line(
        "markers",
        "disturbs_like(ID): the check may do what requirement ID declares in fixtures/disturbances.toml "
        "(a check of another requirement that shares that requirement's run: the model-based run)",
    )
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_PhaseHooks(config), "bsk-conformance-phases")


def share_dir(config: pytest.Config) -> Path | None:
    """A directory every process of this run sees (None in a serial run):
    workers leave what the controller or the serial phase needs there."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and PHASE_DIR in workerinput:
        return Path(workerinput[PHASE_DIR])
    return None


def declared_for(item: pytest.Item, rid: str, declared: dict[str, frozenset[str]]) -> frozenset[str]:
    """What the check may disturb: its requirement's declaration, and that of
    the requirement named by its `disturbs_like` marker (the checks of one
    shared run, each of its own requirement, that any of them may start)."""
    kinds = declared.get(rid, frozenset())
    like = item.get_closest_marker("disturbs_like")
    return kinds | declared.get(like.args[0], frozenset()) if like is not None else kinds


def phase_of(
    item: pytest.Item,
    declared: dict[str, frozenset[str]],
    real_clock: bool = False,
    apart: frozenset[str] = frozenset(),
    waiting: frozenset[str] = frozenset(),
) -> str:
    if item.get_closest_marker("runs_last") is not None:
        return LAST
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return PARALLEL  # not a conformance check (the project's own tests)
    kinds = declared_for(item, marker.args[0], declared)
    # On a real clock (--clock real) moving time is waiting, and real time
    # passes for every check alike: a wait disturbs nobody. Checks whose only
    # disturbance is the clock then run in the parallel phase, and their waits
    # overlap across the workers instead of adding up (docs/parallel-runs.md).
    if kinds and not (real_clock and kinds == OVERLAPPING_WAITS):
        return SERIAL
    # A long real wait gets a worker of its own, and the serial phase does not
    # wait for it: it holds its own token, and after its wait it only uses it
    # (Guard.logged_in enforces that no login follows the wait).
    if real_clock and marker.args[0] in apart:
        return APART
    if real_clock and marker.args[0] in waiting:
        return WAITING
    return FIRST if item.get_closest_marker("runs_first") is not None else PARALLEL


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker: leave the phase of each collected item for the
    controller's scheduler, before xdist reports the collection (tryfirst),
    so the file is there when the scheduler reads it."""
    config = session.config
    where = share_dir(config)
    if where is None or declared_key not in config.stash:
        return
    declared = config.stash[declared_key]
    state = run_state(config)
    profile = state.profile if state is not None else None  # read once, at configure
    all_serial = profile is not None and any(a.totp_secret for a in profile.accounts)
    real_clock = state is not None and state.options.clock == "real"
    apart = waiting = frozenset()
    if real_clock:
        waits, budget = load_waits(state.catalogue), state.options.real_time_budget
        apart, waiting = waits_apart(waits, declared, budget), waits_spread(waits, declared, budget)
    phases = {item.nodeid: phase_of(item, declared, real_clock, apart, waiting) for item in session.items}
    if all_serial:
        phases = {nodeid: LAST if phase == LAST else SERIAL for nodeid, phase in phases.items()}
    for item in session.items:
        if phases[item.nodeid] == APART:
            item.stash[_apart_key] = True
    target = where / f"phases-{config.workerinput['workerid']}.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(phases), encoding="utf-8")
    partial.replace(target)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Judge the check's disturbances against its declaration while it runs."""
    state = run_state(item.config)
    marker = item.get_closest_marker("requirement")
    if state is None or marker is None or declared_key not in item.config.stash:
        return (yield)
    rid = marker.args[0]
    item.stash[_sent_key] = state.evidence.sent
    apart = _apart_key in item.stash
    with GUARD.running(check_name(item), rid, declared_for(item, rid, item.config.stash[declared_key]), apart):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """At the check's end: its exchange count into its record, and what it
    disturbed without declaring it into the report (xdist carries both)."""
    report = yield
    if call.when != "teardown" or _sent_key not in item.stash:
        return report
    sent = run_state(item.config).evidence.sent - item.stash[_sent_key]
    for name, value in report.user_properties:
        if name == CHECK_PROPERTY:
            value["exchanges"] = sent
    if GUARD.violations:
        report.user_properties.append((VIOLATIONS_PROPERTY, list(GUARD.violations)))
        GUARD.violations.clear()
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == VIOLATIONS_PROPERTY:
            _violations.extend(v for v in value if v not in _violations)


_violations: list[str] = []  # on the controller: every process's, replayed by xdist


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    """A check that disturbed what it did not declare makes the run a harness
    error, whatever the verdict: the next parallel run would not be safe."""
    result = yield
    config = session.config
    if _violations and getattr(config, "workerinput", None) is None:
        session.exitstatus = EXIT_USAGE
    return result


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for message in _violations:
        terminalreporter.write_line(f"bsk-conformance: harness error: {message}", red=True)


class _PhaseHooks:
    """pytest-xdist's hooks for the phased scheduler (only where xdist is loaded)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._dir: Path | None = None

    def pytest_configure_node(self, node: Any) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="bsk-phases-"))
        node.workerinput[PHASE_DIR] = str(self._dir)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") != "load":
            return None  # the user chose another distribution: xdist's own, without phases
        from bsk_conformance.harness.phase_scheduler import PhasedScheduling

        return PhasedScheduling(config, log, lambda: self._dir)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
