"""Stopping a run on SIGINT or SIGTERM (or pytest's -x/--maxfail) without
losing what it did, and without leaving the target changed.

The first SIGINT or SIGTERM:
- is recorded as the run's interruption (conformance.json's `interruption`);
- stops the check in flight at once when it is in its setup or call (a
  `RunInterrupted` raised in the main thread, which a blocked exchange wait
  gives way to): its record says it ended in error, interrupted, with the
  signal named; a check in its teardown finishes that teardown, which is
  undoing what it changed;
- starts no further check (`session.shouldstop`: pytest's own way to end the
  loop, so pytest reports the run as interrupted, exit 2);
- puts every later exchange under the cleanup deadline (`--cleanup-timeout`,
  harness/limits.py), with a timer as a backstop for waits that are not
  exchanges; the fixtures' teardown then undoes keys, projects and 2FA, and
  the reports are written.
A second signal (or the backstop) abandons the cleanup at once: no further
exchange is sent, and what was not undone stays in the recovery journal for
the next run (or `bsk-conformance cleanup`). A third is not caught.

Under xdist the controller forwards the signal to every worker, which each
stop as above and send their records; the controller keeps collecting them
until every worker has cleaned up, then writes the one report. A worker ends
with `shouldstop`, not pytest's interrupted status, so xdist does not take it
for a crashed worker and start another.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bsk_conformance.harness.state import RunState

# a signal arriving in the middle of a wait that is not an exchange (a real
# clock's sleep to the next TOTP step) is caught by the backstop this long
# after the cleanup deadline
_BACKSTOP_GRACE = 5.0
SIGNALS = ("SIGINT", "SIGTERM")
# in an xdist worker, signals closer together than this are one (SignalGuard._handle)
_SAME_SIGNAL = 0.5


class RunInterrupted(KeyboardInterrupt):
    """Raised in the main thread by the first signal, while a check's setup or
    call runs (in_flight) or when a check was about to start (not in flight).

    A KeyboardInterrupt, so that nothing that lets Ctrl-C through catches it."""

    def __init__(self, cause: str, *, in_flight: bool) -> None:
        super().__init__(cause)
        self.cause = cause
        self.in_flight = in_flight


class CleanupAbandoned(KeyboardInterrupt):
    """A second signal, or the cleanup deadline's backstop: stop undoing now."""


def interrupted_message(cause: str, check: str | None) -> str:
    """One line: what stopped the run, and in which check."""
    what = {"maxfail": "stopped by -x/--maxfail"}.get(cause, f"interrupted by {cause}")
    return f"{what} during {check}" if check else what


class SignalGuard:
    """The run's SIGINT/SIGTERM handling, for one pytest process."""

    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self._config = config
        self._state = state
        self._previous: dict[int, Any] = {}
        self.session: pytest.Session | None = None
        self.current_check: str | None = None
        # True while a check's setup or call runs (or the preflight): a signal
        # then stops it at once; elsewhere the run stops at the next check
        self.interruptible = False
        self.forward: Callable[[int], None] | None = None  # the xdist controller's: to every worker
        # once the cleanup is over the reports are being written: a signal then is
        # not allowed to cost the run its reports
        self.reporting = False
        self._last_signal = 0.0
        self._is_worker = getattr(config, "workerinput", None) is not None

    # -- installing ---------------------------------------------------------

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for name in SIGNALS:
            number = getattr(signal, name)
            current = signal.getsignal(number)
            if current is signal.SIG_IGN:
                continue  # whoever started us asked for it to be ignored (nohup, a background job)
            self._previous[number] = current
            signal.signal(number, self._handle)

    def uninstall(self) -> None:
        for number, previous in self._previous.items():
            try:
                signal.signal(number, previous)
            except (ValueError, TypeError):
                pass
        self._previous.clear()
        self.disarm_backstop()

    # -- the handler ----------------------------------------------------------

    def _handle(self, number: int, frame: Any) -> None:
        cause = signal.Signals(number).name
        now, last = time.monotonic(), self._last_signal
        self._last_signal = now
        if self._is_worker and self._state.interruption is not None and now - last < _SAME_SIGNAL:
            # Ctrl-C reaches an xdist worker twice: from the terminal's process
            # group and forwarded by the controller; that is one signal, not two
            return
        if self._state.interruption is None:
            self.begin(cause, self.current_check if self.interruptible else None)
            if self.forward is not None:
                self.forward(number)
            self.say(
                f"{cause} received: no further check starts; undoing what the run changed on the target "
                f"(at most {self._state.options.cleanup_timeout:g} s), then writing the reports. "
                f"{cause} again abandons the cleanup."
            )
            if self.interruptible:
                raise RunInterrupted(cause, in_flight=self.current_check is not None)
            return
        if self.forward is not None:
            self.forward(number)
        if self.reporting:
            for previous in list(self._previous):
                signal.signal(previous, signal.SIG_DFL)  # one more ends the process
            return
        self.abandon(f"{cause} received again")

    def begin(self, cause: str, check: str | None) -> None:
        """Record the interruption and move the run into its cleanup."""
        state = self._state
        state.interruption = {
            "cause": cause,
            "message": interrupted_message(cause, check),
            "check": check,
            "cleanup": "complete",
        }
        if self.session is not None:
            self.session.shouldstop = state.interruption["message"]
        dsession = self._config.pluginmanager.getplugin("dsession")
        if dsession is not None:
            dsession.shouldstop = state.interruption["message"]
        state.limits.begin_cleanup(state.options.cleanup_timeout)
        self._arm_backstop(state.options.cleanup_timeout + _BACKSTOP_GRACE)

    def abandon(self, why: str) -> None:
        """Stop undoing: no further exchange; what is left stays in the journal."""
        state = self._state
        if state.interruption is not None:
            state.interruption["cleanup"] = "abandoned"
        state.limits.abandon(f"cleanup abandoned: {why}")
        # a third signal is not ours to catch: the default action ends the process
        for number in list(self._previous):
            signal.signal(number, signal.SIG_DFL)
        self.disarm_backstop()
        self.say(f"cleanup abandoned ({why}): what was not undone is kept for `bsk-conformance cleanup`")
        raise CleanupAbandoned(why)

    # -- the backstop ---------------------------------------------------------

    def _arm_backstop(self, seconds: float) -> None:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return
        if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
            return  # someone else's timer: leave it be
        signal.signal(signal.SIGALRM, self._backstop)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        self._previous.setdefault(signal.SIGALRM, signal.SIG_DFL)

    def disarm_backstop(self) -> None:
        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _backstop(self, number: int, frame: Any) -> None:
        if self.reporting:
            return
        self.abandon(f"the cleanup deadline (--cleanup-timeout {self._state.options.cleanup_timeout:g} s) passed")

    def say(self, line: str) -> None:
        worker = getattr(self._config, "workerinput", None)
        if worker is not None:
            return  # the controller says it once for the run
        try:
            sys.stderr.write(f"\nbsk-conformance: {line}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


guard_key = pytest.StashKey[SignalGuard]()


def guard_of(config: pytest.Config) -> SignalGuard | None:
    return config.stash.get(guard_key, None)


#: the workeroutput key a worker's interruption travels under to the controller
WORKER_INTERRUPTION = "bsk_interruption"
_CLEANUP_RANK = {"complete": 0, "incomplete": 1, "abandoned": 2}


def fold_worker_interruption(state: RunState, theirs: dict | None) -> None:
    """The controller's view: the run is interrupted if any worker was, and its
    cleanup is as bad as the worst worker's; the checks in flight are named."""
    if not theirs:
        return
    ours = state.interruption
    if ours is None:
        state.interruption = dict(theirs)
        return
    if _CLEANUP_RANK.get(theirs.get("cleanup", "complete"), 0) > _CLEANUP_RANK.get(ours["cleanup"], 0):
        ours["cleanup"] = theirs["cleanup"]
    if theirs.get("check"):
        checks = [c for c in (ours.get("check") or "").split(", ") if c]
        if theirs["check"] not in checks:
            checks.append(theirs["check"])
        ours["check"] = ", ".join(checks)
        ours["message"] = interrupted_message(ours["cause"], ours["check"])


def note_maxfail(session: pytest.Session, state: RunState, last_failed: str | None) -> None:
    """pytest's -x/--maxfail ended the run early: that is an interruption too."""
    if state.interruption is None and session.shouldfail:
        state.interruption = {
            "cause": "maxfail",
            "message": f"{interrupted_message('maxfail', None)} ({session.shouldfail})",
            "check": last_failed,
            "cleanup": "complete",
        }


def forward_to_workers(config: pytest.Config) -> Callable[[int], None]:
    """The xdist controller's forwarding: the same signal to every live worker
    (a signal sent to the controller alone, as `kill` and most CI runners do)."""

    def forward(number: int) -> None:
        dsession = config.pluginmanager.getplugin("dsession")
        for node in list(getattr(dsession, "_active_nodes", ()) or ()):
            pid = getattr(getattr(getattr(node.gateway, "_io", None), "popen", None), "pid", None)
            if pid is None:
                continue
            try:
                os.kill(pid, number)
            except OSError:
                pass  # already gone

    return forward
