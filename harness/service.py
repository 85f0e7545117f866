"""Opening the target: the in-process server or a preflighted remote one,
with the clock strategy that fits it, once per pytest process.

`open_target` is the one way in: the plugin calls it before the first check
against a remote target (on the controller), the fixtures call it on first use
(in-process, and in every xdist worker). A target that cannot be opened ends
the run here, with one line and its exit code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bsk_conformance.harness.clock import (
    ClockStrategy,
    ControlClockStrategy,
    FrozenClockStrategy,
    OffClockStrategy,
    RealClockStrategy,
    target_offset,
)
from bsk_conformance.harness.inprocess import FactoryError, InProcessServer, resolve_factory, start
from bsk_conformance.harness.journal import Journal, JournalError, state_dir
from bsk_conformance.harness.journal_watch import JournalWatch
from bsk_conformance.harness.preflight import PreflightError, run_preflight
from bsk_conformance.harness.recovery import recover, recovery_clock
from bsk_conformance.harness.session import TwoFactorRegistry
from bsk_conformance.harness.state import RunState, state_key
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.transport import DIRECT, ConnectionSetupError
from bsk_conformance.harness.verdicts import EXIT_USAGE


def clock_name(mode: str, *, in_process: bool, clock_control: bool) -> str:
    """Which clock strategy a target gets for `--clock mode`: the one place it is chosen.

    auto: the in-process server's clock object is moved directly (frozen); a
    remote target's /_test/clock if it has one (control), else real waiting."""
    if mode != "auto":
        return mode
    if in_process:
        return "frozen"
    return "control" if clock_control else "real"


class TargetService:
    """The target as opened for one pytest process."""

    def __init__(
        self, state: RunState, invocation_dir: Path | None = None, announce: Callable[[str], None] = print
    ) -> None:
        self._state = state
        self._invocation_dir = invocation_dir or Path.cwd()
        self._announce = announce  # a line for the terminal, before any check
        self.journal: Journal | None = None
        self.server: InProcessServer | None = None
        self.target: Target | None = None
        self.clock: ClockStrategy | None = None
        self.preflight_notes: list[str] = []
        self.fingerprint: dict[str, Any] | None = None
        self.registry: TwoFactorRegistry | None = None

    def open(self) -> Target:
        options, state = self._state.options, self._state
        if options.target:
            assert state.profile is not None  # read at configure, with every --target
            directory = state_dir(options.state_dir, os.environ, self._invocation_dir)
            self.journal = Journal(directory, options.target, [a.email for a in state.profile.accounts])
            try:
                target = Target(
                    options.target,
                    state.profile,
                    state.evidence,
                    timeout=options.request_timeout,
                    connection=state.connection or DIRECT,
                    limits=state.limits,
                    journal=JournalWatch(self.journal, options.target),
                )
            except ConnectionSetupError as exc:
                raise PreflightError(str(exc), EXIT_USAGE) from None
            if state.is_controller:
                self._recover(target)
        else:
            try:
                factory = resolve_factory(options.reference_factory)
            except FactoryError as exc:
                raise PreflightError(str(exc), EXIT_USAGE) from None
            self.server = start(factory)
            target = Target(
                self.server.url,
                self.server.profile,
                state.evidence,
                timeout=options.request_timeout,
                in_process=True,
                limits=state.limits,
            )
        self.target = target
        report = run_preflight(target)
        self.preflight_notes = [n for n in report.notes if not target.in_process]
        self.fingerprint = report.fingerprint
        self.clock = self._clock_strategy(target)
        target.clock = self.clock
        self.registry = TwoFactorRegistry(target, self.clock)
        if not isinstance(self.clock, ControlClockStrategy):  # its now() is an exchange of its own
            target.evidence.totp_now = self.clock.now
        return target

    def _recover(self, target: Target) -> None:
        """Undo what an interrupted run left (the journal), before the
        preflight logs anyone in: an account left with 2FA on cannot log in
        without a code. Workers of this run never recover: their controller did."""
        assert self.journal is not None
        try:
            self.journal.check()
            recovery = recover(target, self.journal, lambda: recovery_clock(target, self._state.options.clock))
        except JournalError as exc:
            raise PreflightError(str(exc), EXIT_USAGE) from None
        for line in recovery.lines(self.journal):
            self._announce(target.evidence.redactor.text(line))  # names the target echoed, through the one redactor

    def _clock_strategy(self, target: Target) -> ClockStrategy:
        mode, budget = self._state.options.clock, self._state.options.real_time_budget
        name = clock_name(mode, in_process=self.server is not None, clock_control=target.capabilities.clock_control)
        # a test clock the run will not move may still be far from real time (moved by an
        # earlier run): real and off read the target's own time through it
        offset = target_offset(target.client) if target.capabilities.clock_control and not self.server else 0.0
        if name == "off":
            return OffClockStrategy(offset=offset)
        if name == "real":
            return RealClockStrategy(budget, offset=offset, started=self._state.started)
        if name == "frozen":
            assert self.server is not None
            return FrozenClockStrategy(self.server.clock)
        if not target.capabilities.clock_control:
            raise PreflightError(
                "--clock control: the target has no clock control (GET /_test/clock did not answer {now})",
                EXIT_USAGE,
            )
        return ControlClockStrategy(target.client)

    def close(self) -> None:
        if self.target is not None:
            self.target.close()
        if self.journal is not None:
            self.journal.close()  # what is still listed is the next run's to undo
        if self.server is not None:
            self.server.stop()
        self.target = self.server = None


def open_target(config: pytest.Config) -> TargetService:
    """The target of this process, opened on first call; a failure ends the run."""
    state = config.stash[state_key]
    if isinstance(state.service, TargetService):
        return state.service
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    announce = reporter.write_line if reporter is not None else print
    service = TargetService(state, Path(config.invocation_params.dir), announce)
    try:
        service.open()
    except PreflightError as exc:
        pytest.exit(f"bsk-conformance: preflight failed: {exc}", returncode=exc.exit_code)
    assert service.clock is not None and service.target is not None
    state.service = service
    state.clock_mode = service.clock.name
    state.preflight_notes = service.preflight_notes
    tls = service.target.tls
    state.target_fingerprint = tls.as_dict() if tls is not None else None
    return service
