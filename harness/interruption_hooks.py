"""The hooks of a run's SIGINT/SIGTERM handling (harness/interruption.py
says what happens on a signal): the guard installed for conformance runs
only, the phases in which a signal stops a check at once, and the cleanup of
a run stopped by a signal, before pytest's own teardown and the reports."""

from __future__ import annotations

import pytest

from bsk_conformance.harness.collection import is_conformance_run
from bsk_conformance.harness.interruption import (
    SIGNALS,
    WORKER_INTERRUPTION,
    CleanupAbandoned,
    RunInterrupted,
    SignalGuard,
    forward_to_workers,
    guard_key,
    guard_of,
)
from bsk_conformance.harness.recovery import recover, recovery_clock
from bsk_conformance.harness.state import run_state


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    state = run_state(config)
    if state is None or state.options.list_requirements or config.option.collectonly:
        return
    if not is_conformance_run(config):
        return  # another project's own tests: its Ctrl-C is pytest's, untouched
    guard = SignalGuard(config, state)
    config.stash[guard_key] = guard
    guard.install()


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    guard = guard_of(config)
    if guard is not None:
        guard.uninstall()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionstart(session: pytest.Session):
    """The preflight can be stopped too: it waits on the target."""
    guard = guard_of(session.config)
    if guard is None:
        return (yield)
    guard.session = session
    if session.config.pluginmanager.getplugin("dsession") is not None:
        guard.forward = forward_to_workers(session.config)
    guard.interruptible = True
    try:
        return (yield)
    finally:
        guard.interruptible = False


def _phase(item: pytest.Item):
    guard = guard_of(item.config)
    if guard is None:
        return (yield)
    guard.interruptible = True
    try:
        return (yield)
    finally:
        guard.interruptible = False


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item):
    guard = guard_of(item.config)
    state = run_state(item.config)
    if guard is not None and state is not None and state.interruption is not None:
        # the signal came between checks (or during collection): this one does not start
        raise RunInterrupted(state.interruption["cause"], in_flight=False)
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _phase(item))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run stopped by a signal undoes what it changed now, before pytest's
    own teardown (left with nothing to do) and the reports: here a failed or
    abandoned undo is recorded, and cannot cost the run its reports."""
    config = session.config
    state, guard = run_state(config), guard_of(config)
    if state is None or guard is None:
        return
    interruption = state.interruption
    if interruption is not None and interruption["cause"] in SIGNALS:
        problems = _tear_down(session)
        if interruption["cleanup"] != "abandoned":
            problems += _undo_what_is_journaled(state, guard)
        if problems and interruption["cleanup"] == "complete":
            interruption["cleanup"] = "incomplete"
        for problem in problems:
            guard.say(f"cleanup: {state.redactor.text(problem)}")
    guard.reporting = True
    guard.disarm_backstop()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None and interruption is not None:
        # the controller folds every worker's interruption into the run's; a
        # worker that ends "interrupted" (2) would be taken for a crashed one
        workeroutput[WORKER_INTERRUPTION] = dict(interruption)
        if workeroutput.get("exitstatus") == pytest.ExitCode.INTERRUPTED:
            workeroutput["exitstatus"] = int(pytest.ExitCode.TESTS_FAILED)
        workeroutput["shouldstop"] = workeroutput.get("shouldstop") or interruption["message"]


def _undo_what_is_journaled(state, guard: SignalGuard) -> list[str]:
    """What the teardown could not undo because the signal came between a
    change and its finalizer (a key created by the exchange in flight, 2FA
    turned on during a fixture's setup): the journal lists it, and it is
    undone now rather than by the next run."""
    service = state.service
    journal, target = getattr(service, "journal", None), getattr(service, "target", None)
    if journal is None or target is None:
        return []
    try:
        recovery = recover(target, journal, lambda: recovery_clock(target, state.options.clock), own=True)
    except CleanupAbandoned:
        return []
    except Exception as exc:  # the journal keeps it for the next run: said, never raised over the reports
        return [f"undoing what the journal lists: {type(exc).__name__}: {exc}"]
    for line in recovery.lines(journal):
        guard.say(state.redactor.text(line.removeprefix("bsk-conformance: ")))
    return [] if recovery.ok else [f"{recovery.kept} journal entries could not be undone; they are kept"]


def _tear_down(session: pytest.Session) -> list[str]:
    """Run every finalizer still pending (fixtures' undo steps); what failed, one line each."""
    setup_state = getattr(session, "_setupstate", None)
    if setup_state is None:
        return []
    try:
        setup_state.teardown_exact(None)
    except CleanupAbandoned:
        return []
    except BaseException as exc:  # finalizers that could not undo: said, never raised over the reports
        errors = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else [exc]
        return [f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}" for e in errors]
    return []
