"""The pytest plugin: its hooks, and nothing else.

Registered through the `pytest11` entry point `bsk_conformance`. It stays out
of the way of ordinary tests: nothing starts, and no report is written,
unless conformance checks (tests marked `requirement`) run.

What the hooks call lives in modules named for it: the options
(harness/options.py), the run state (harness/state.py), opening the target
(harness/service.py), which items are checks (harness/collection.py), check
records and the result (harness/results.py), the fixtures (harness/fixtures.py).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest

# First, before the harness's own modules are imported: neither they nor the
# dependencies it brings (schemathesis, hypothesis) go through pytest's
# assertion rewriting (harness/rewrite_scope.py says why).
from bsk_conformance.harness.rewrite_scope import unmark_dependencies

unmark_dependencies()

from bsk_conformance import CONTRACT_VERSION, __version__, reports
from bsk_conformance.harness.check_reports import annotate, mark_interrupted, restate_failure
from bsk_conformance.harness.collection import check_name, intended_args, print_catalogue, requirement_of
from bsk_conformance.harness.disturbances import load_disturbances
from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.interruption import (
    WORKER_INTERRUPTION,
    CleanupAbandoned,
    RunInterrupted,
    fold_worker_interruption,
    guard_of,
    note_maxfail,
)
from bsk_conformance.harness.limits import Limits
from bsk_conformance.harness.options import (
    add_options,
    check_har_path,
    check_options,
    connection_options,
    har_path,
    remote_profile,
    usage_error,
)
from bsk_conformance.harness.real_time import (
    OVERLAPPING_WAITS,
    WaitsError,
    fitted_run_timeout,
    load_waits,
    may_wait,
    plan,
    waits_apart,
)
from bsk_conformance.harness.requirements import CatalogueError, load_catalogue
from bsk_conformance.harness.results import (
    build_result,
    certified_fingerprint,
    fold_phase,
    git_commit,
    phase_outcome,
    redact_report,
)
from bsk_conformance.harness.service import clock_name, open_target
from bsk_conformance.harness.state import (
    CHECK_PROPERTY,
    RUN_KEY,
    RUN_STARTED,
    RunOptions,
    RunState,
    bucket_key,
    phases_key,
    run_state,
    state_key,
)
from bsk_conformance.harness.verdicts import EXIT_INCOMPLETE, NotVerified, run_exit_code

pytest_plugins = [
    "bsk_conformance.harness.interruption_hooks",
    "bsk_conformance.harness.fixtures",
    "bsk_conformance.harness.deployments",
    "bsk_conformance.harness.phases",
    "bsk_conformance.harness.terminal_outcomes",
]

#: config.stash: the line saying --run-timeout was raised to fit the budget, or None
run_timeout_note_key = pytest.StashKey[str | None]()
#: config.stash: the requirements of the selected checks, in the order they run
run_order_key = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): ties a conformance check to a requirement of the catalogue")
    # here, not in suites/conftest.py: tests/ import suites/test_model_run.py (its NOT_YET_JUDGED)
    # where that conftest is not loaded, and its module-level mark would warn
    config.addinivalue_line("markers", "model_run: a check judged by the model-based run (suites/test_model_run.py)")
    for level in ("must", "should", "may"):
        config.addinivalue_line("markers", f"{level}: checks of {level.upper()} requirements")
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        usage_error(f"the requirement catalogue is invalid:\n{exc}")
    for area in catalogue.areas():
        config.addinivalue_line("markers", f"{area}: checks of the {area} area of the contract")

    options = RunOptions.of(config.option)
    check_options(options, catalogue)
    har = har_path(options, Path(config.invocation_params.dir))
    if har is not None and not hasattr(config, "workerinput"):
        check_har_path(har)

    workerinput = getattr(config, "workerinput", None)
    run_key = bytes.fromhex(workerinput[RUN_KEY]) if workerinput and RUN_KEY in workerinput else secrets.token_bytes(32)
    redactor = Redactor(run_key)
    run_timeout, raised = options.run_timeout, None
    if may_wait(options.clock, remote=bool(options.target)):
        run_timeout, raised = fitted_run_timeout(options.run_timeout, options.real_time_budget)
    config.stash[run_timeout_note_key] = raised
    limits = Limits(
        cleanup_timeout=options.cleanup_timeout,
        request_timeout=options.request_timeout,
        max_response_bytes=options.max_response_bytes,
        unresponsive_after=options.unresponsive_after,
        run_timeout=run_timeout,
    )
    state = RunState(
        catalogue, options, redactor, EvidenceLog(redactor), is_controller=workerinput is None, limits=limits
    )
    if workerinput and RUN_STARTED in workerinput:
        state.started = float(workerinput[RUN_STARTED])
    config.stash[state_key] = state
    if state.is_controller:
        config.pluginmanager.register(_CheckCollector(state), "bsk-conformance-collector")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(state), "bsk-conformance-xdist")
    intended = intended_args(config)
    if intended is not None:
        config.args = intended
        config.args_source = pytest.Config.ArgsSource.ARGS

    if options.reference_factory:
        # a report must never pass a variant off as the reference server
        state.target_label = f"in-process server built by {options.reference_factory}"
    if options.target:
        state.profile = profile = remote_profile(options)
        state.target_label = options.target
        state.environment = profile.environment
        state.connection = connection_options(options, profile.headers)


class _XdistHooks:
    """Hooks of pytest-xdist, registered only where xdist is installed: pluggy
    refuses a plugin that implements a hook nobody declared, so defining them
    on the module would crash every install without the optional xdist."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def pytest_configure_node(self, node: Any) -> None:
        """Every worker redacts with the controller's run key, so a secret has
        one fingerprint across the whole report."""
        node.workerinput[RUN_KEY] = self._state.redactor.run_key.hex()
        node.workerinput[RUN_STARTED] = self._state.started

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A worker stopped by a signal says so, and how far its cleanup got."""
        fold_worker_interruption(self._state, getattr(node, "workeroutput", {}).get(WORKER_INTERRUPTION))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Preflight a remote target once, on the controller, before any check;
    then, for a run that waits in real time, what it plans to wait."""
    config = session.config
    state = run_state(config)
    if state is None or not state.is_controller or state.options.list_requirements:
        return
    _preflight(config, state)
    _say_run_timeout_raised(config, state)
    if _distributed(config):
        # an xdist controller collects nothing: the plan follows the catalogue's order
        _announce_real_time_plan(config, state, [r.id for r in state.catalogue.active()])


def _preflight(config: pytest.Config, state: RunState) -> None:
    if not state.options.target:
        return
    if config.option.collectonly:
        return  # a listing of the checks: nothing is sent to the target
    service = open_target(config)
    tls = service.target.tls if service.target is not None else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"bsk-conformance: target {state.target_label} ({state.environment}), clock: {state.clock_mode}"
        )
        if tls is not None:
            reporter.write_line(f"bsk-conformance: {tls.version}, server certificate SHA-256 {tls.certificate_sha256}")
        for note in service.preflight_notes:
            reporter.write_line(f"bsk-conformance: note: {note}")


def _waits_in_real_time(state: RunState) -> bool:
    """Whether this run's clock is real (a remote target's is known once preflight has run)."""
    options = state.options
    return options.clock == "real" or (options.clock == "auto" and state.clock_mode == "real")


def _distributed(config: pytest.Config) -> bool:
    """An xdist controller (as xdist decides: not for a listing, --collect-only)."""
    distributing = getattr(config.option, "dist", "no") != "no" and not config.option.collectonly
    return distributing and not hasattr(config, "workerinput")


def _say_run_timeout_raised(config: pytest.Config, state: RunState) -> None:
    raised = config.stash.get(run_timeout_note_key, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if raised is not None and reporter is not None and _waits_in_real_time(state):
        reporter.write_line(f"bsk-conformance: {raised}")


def _announce_real_time_plan(config: pytest.Config, state: RunState, run_order: list[str]) -> None:
    """The planned waiting of the requirements in `run_order`: said before the
    first check of a run whose clock is real."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not _waits_in_real_time(state):
        return
    selected = [rid for rid in run_order if not state.options.requirement or rid in state.options.requirement]
    try:
        waits = load_waits(state.catalogue)
    except WaitsError as exc:
        usage_error(str(exc))
    workers, overlapping, apart = 1, frozenset[str](), frozenset[str]()
    budget = state.options.real_time_budget
    if _distributed(config) and state.options.clock == "real":
        # harness/phases.py: on a real clock the checks that only wait run in the
        # parallel phase, and the long ones each on a worker of its own
        workers = config.option.numprocesses if isinstance(config.option.numprocesses, int) else 1
        declared = load_disturbances(state.catalogue)
        overlapping = frozenset(rid for rid, kinds in declared.items() if kinds == OVERLAPPING_WAITS)
        apart = waits_apart(waits, declared, budget)
    for line in plan(selected, waits, budget, workers, overlapping, apart).lines():
        reporter.write_line(f"bsk-conformance: {line}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The real-time plan in the order the checks will run (collection order)."""
    state = run_state(session.config)
    run_order = session.config.stash.get(run_order_key, None)
    if state is None or not state.is_controller or run_order is None or _distributed(session.config):
        return
    _announce_real_time_plan(session.config, state, run_order)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[state_key]
    catalogue = state.catalogue
    coverage: dict[str, list[str]] = {rid: [] for rid in catalogue.requirements}
    selected, deselected = [], []
    wanted = set(state.options.requirement)
    for item in items:
        requirement = requirement_of(item, catalogue)
        if requirement is None:
            selected.append(item)
            continue
        item.add_marker(requirement.level.lower())
        item.add_marker(requirement.area)
        coverage[requirement.id].append(check_name(item))
        if wanted and requirement.id not in wanted:
            deselected.append(item)
        else:
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    run_order = (requirement_of(item, catalogue) for item in items)
    config.stash[run_order_key] = list(dict.fromkeys(r.id for r in run_order if r is not None))
    if state.options.list_requirements:
        print_catalogue(config, catalogue, coverage)
        # a listing runs nothing: every item is deselected, and the session
        # ends with exit 0 (not pytest's 5 for "no tests ran")
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    state = item.config.stash[state_key]
    if item.get_closest_marker("requirement") is None:
        return (yield)
    item.stash[phases_key] = []
    guard = guard_of(item.config)
    if guard is not None:
        guard.current_check = check_name(item)
    try:
        with state.evidence.collecting() as bucket:
            item.stash[bucket_key] = bucket
            return (yield)
    except (RunInterrupted, CleanupAbandoned) as stop:
        # the run stops (session.shouldstop is set): a check stopped in its
        # setup or call still gets its record, an error naming the signal; its
        # fixtures are undone with the session's, under the cleanup deadline
        if not isinstance(stop, RunInterrupted) or stop.in_flight:
            _record_interrupted(item, state, str(stop.args[0] if stop.args else "a signal"))
        return True
    finally:
        if guard is not None:
            guard.current_check = None


def _record_interrupted(item: pytest.Item, state: RunState, cause: str) -> None:
    """The record of a check the signal stopped, delivered as its teardown
    report (xdist carries it from a worker like any other)."""
    message = f"interrupted by {cause} while the check ran: the rule was neither shown kept nor broken"
    phases = [*item.stash[phases_key], {"when": "call", "outcome": "error", "message": message, "duration": 0.0}]
    rid = item.get_closest_marker("requirement").args[0]
    record = fold_phase(check_name(item), rid, phases, list(item.stash.get(bucket_key, [])))
    report = pytest.TestReport(
        nodeid=item.nodeid,
        location=item.location,
        keywords={},
        outcome="failed",
        longrepr=message,
        when="teardown",
        user_properties=[(CHECK_PROPERTY, record)],
    )
    mark_interrupted(report, check_name(item), rid)
    item.ihook.pytest_runtest_logreport(report=report)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Past the run deadline, or once the target is judged unresponsive, a
    check still gets its record, not verified with the reason, and ends
    before its fixtures reach the target."""
    if phases_key not in item.stash:
        return
    reason = item.config.stash[state_key].limits.run_expired()
    if reason is not None:
        raise NotVerified(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if phases_key not in item.stash:
        return report
    state = item.config.stash[state_key]
    phase = phase_outcome(call, state.redactor)
    item.stash[phases_key].append(phase)
    rid = item.get_closest_marker("requirement").args[0]
    requirement = state.catalogue[rid]
    if phase["outcome"] == "failed" and report.failed:
        restate_failure(item, call, report, requirement, phase["message"] or "")
    annotate(report, check_name(item), requirement, phase["outcome"], strict=_strict(item.config))
    redact_report(report, state.redactor)
    if call.when == "teardown":
        record = fold_phase(check_name(item), rid, item.stash[phases_key], list(item.stash[bucket_key]))
        report.user_properties.append((CHECK_PROPERTY, record))
    return report


class _CheckCollector:
    """Gathers check records on the controller; xdist replays every worker's
    reports here, so one report holds the whole run."""

    def __init__(self, state: RunState) -> None:
        self._state = state
        self.last_failed: str | None = None  # the check an -x/--maxfail stop came after

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.last_failed = report.nodeid
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == CHECK_PROPERTY:
                self._state.checks.append(value)
                if value["outcome"] == "failed":
                    self.last_failed = value["nodeid"]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = run_state(config)
    if state is None:
        return
    options = state.options
    if options.list_requirements:
        session.exitstatus = 0
        return
    if state.service is not None:
        state.service.close()
    if not state.is_controller:
        return
    if not state.checks and (state.interruption is None or guard_of(config) is None):
        return  # no check ran, and no conformance run was stopped: nothing to report
    collector = config.pluginmanager.get_plugin("bsk-conformance-collector")
    note_maxfail(session, state, getattr(collector, "last_failed", None))
    # no target opened in this process: the in-process servers of the xdist
    # workers got their clock by the same rule
    clock = state.clock_mode or clock_name(options.clock, in_process=True, clock_control=True)
    result = build_result(
        state.catalogue,
        state.checks,
        harness_version=__version__,
        contract_version=CONTRACT_VERSION,
        target=state.target_label,
        environment=state.environment,
        clock=clock,
        started=state.started,
        duration=time.time() - state.started,
        profile_digest=state.profile_digest,
        git_commit=git_commit(),
        preflight_notes=state.preflight_notes,
        in_process=not options.target,
        target_fingerprint=certified_fingerprint(state.service, state.target_fingerprint),
        interruption=state.interruption,
    )
    state.result = result
    report_dir = Path(options.report_dir)
    if not report_dir.is_absolute():
        report_dir = Path(config.invocation_params.dir) / report_dir
    har = har_path(options, Path(config.invocation_params.dir)) or report_dir / reports.HAR_FILE_NAME
    try:
        # No schema validation here (check=False): it cost ~0.6-1.1 s of every
        # run for a dict that build_result always shapes the same way. The
        # schema is enforced by the tests on real runs' reports
        # (tests/harness/conftest.py, tests/reports/test_report_real_run.py)
        # and by `bsk-conformance validate` on any report a user holds.
        state.report_paths = reports.write_reports(result, report_dir, har=har, strict=_strict(config), check=False)
    except Exception as exc:  # a verdict nobody can read is no verdict: say so and fail the run
        state.report_error = f"could not write the reports to {report_dir}: {type(exc).__name__}: {exc}"
        session.exitstatus = EXIT_INCOMPLETE
        return
    session.exitstatus = run_exit_code(result, strict=_strict(config))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = run_state(config)
    if state is None or state.result is None:
        return
    terminalreporter.section("bsk-conformance")
    if state.report_error:
        terminalreporter.write_line(f"bsk-conformance: {state.report_error}", red=True)
    for line in reports.terminal_summary(state.result, state.report_paths, strict=_strict(config)):
        terminalreporter.write_line(line)


def _strict(config: pytest.Config) -> bool:
    """pytest's own --strict: warnings (broken SHOULD/MAY) fail the run, in every output."""
    return bool(getattr(config.option, "strict", False))
