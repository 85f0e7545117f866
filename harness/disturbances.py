"""What a check disturbs beyond its own keys and projects, declared as data
(`fixtures/disturbances.toml`, keyed by requirement ID) and enforced at run time.

A parallel run (harness/phases.py) lets checks that disturb nothing shared run
side by side; the others run afterwards, one at a time. That is only safe if
the declarations are right, so the places where such a disturbance passes
through the harness (the clock strategies, `POST /_test/clock` and the 2FA
switches on the wire, the `lockouts` fixture) call `touch(kind, what)`: a check
that touches what its requirement does not declare is recorded, and the run
ends as a harness error naming the check, the requirement and the kind.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Final

# The phase a check runs in follows from what it disturbs (harness/phases.py
# assigns it, harness/phase_scheduler.py keeps to it): nothing shared, in
# parallel; shared state, one at a time; a whole-run judgement, last. FIRST is
# PARALLEL started before the rest: a long check (schema fuzzing), so the
# parallel phase does not end waiting on it, and the checks that share one
# module-scoped run of it land on one worker and run it once.
PARALLEL, FIRST, SERIAL, LAST = "parallel", "first", "serial", "last"
# APART, on a real clock only: a check that waits long (an access token's 15
# minutes) and disturbs nothing but the clock gets a worker of its own as the
# run starts, when there are workers to spare; the rest of the run, the serial
# phase included, goes on beside it (harness/real_time.py WAITS_APART_FROM).
APART = "apart"
# WAITING, on a real clock only: a parallel check that waits a while (a
# rate-limit window, a key's expiry) and disturbs nothing but the clock. The
# waiting checks are handed out first, one per worker in turn, so that their
# waits overlap rather than queue on the worker that drew their module, and
# the parallel phase (which the serial one waits for) ends with the longest.
WAITING = "waiting"

#: The kinds of disturbance, with what a check of that kind does to shared state.
KINDS: Final = {
    "clock": "moves the target's clock (every token and window of every other check moves with it)",
    "login-throttle": "locks an account by failed logins (every login of that account is refused meanwhile)",
    "two-factor": "turns 2FA on or off for a shared account (its logins need a code meanwhile)",
}
DATA_FILE: Final = "disturbances.toml"


class DisturbanceError(ValueError):
    """The declarations are invalid: one line, said as a usage error."""


def parse_disturbances(text: str, known: Container[str], source: str = DATA_FILE) -> dict[str, frozenset[str]]:
    """`{requirement ID: kinds}` from the TOML text; DisturbanceError on an
    unknown requirement ID, an unknown kind, or a value that is not a list."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisturbanceError(f"{source}: not valid TOML: {exc}") from None
    declared: dict[str, frozenset[str]] = {}
    for rid, kinds in document.items():
        if rid not in known:
            raise DisturbanceError(f"{source}: {rid}: unknown requirement ID (not in the catalogue)")
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            raise DisturbanceError(f"{source}: {rid}: expected a non-empty list of kinds, got {kinds!r}")
        unknown = sorted(set(kinds) - KINDS.keys())
        if unknown:
            raise DisturbanceError(
                f"{source}: {rid}: unknown disturbance {', '.join(unknown)} (known: {', '.join(KINDS)})"
            )
        declared[rid] = frozenset(kinds)
    return declared


def load_disturbances(known: Container[str]) -> dict[str, frozenset[str]]:
    text = resources.files("bsk_conformance.fixtures").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_disturbances(text, known)


class Guard:
    """The check running in this process and what its requirement declares.

    One check runs at a time per process; helper threads of a check (the
    concurrency checks) touch on its behalf, so this is a plain attribute, not
    a context variable (which threads would not inherit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._check: str | None = None
        self._requirement = ""
        self._declared: frozenset[str] = frozenset()
        self._seen: set[str] = set()
        # a check run apart (phase APART) once it has begun to wait: the
        # serial phase may be running beside it from then on
        self._apart = self._waited = False
        self.violations: list[str] = []  # this process's, for the whole run
        self._listeners: list[Callable[[str], None]] = []

    def listen(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(kind)` on every touch, declared or not (the shared
        logins drop their sessions after one); returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @contextmanager
    def running(self, check: str, requirement: str, declared: frozenset[str], apart: bool = False) -> Iterator[None]:
        """While `check` runs (`apart`: in phase APART, beside the serial phase)."""
        with self._lock:
            self._check, self._requirement, self._declared, self._seen = check, requirement, declared, set()
            self._apart, self._waited = apart, False
        try:
            yield
        finally:
            with self._lock:
                self._check, self._apart = None, False

    def touch(self, kind: str, what: str) -> None:
        """Record that the running check disturbed `kind` (by `what`); a
        violation when its requirement does not declare it. Outside a check
        (the preflight, a session's end) nothing is judged."""
        assert kind in KINDS, kind
        for listener in list(self._listeners):
            listener(kind)
        with self._lock:
            if kind == "clock" and self._apart:
                self._waited = True
            if self._check is None or kind in self._declared:
                return
            message = (
                f"{self._check} {what}, but {self._requirement} does not declare {kind!r} "
                f"in fixtures/{DATA_FILE}"
            )
            if kind not in self._seen:  # the first of each kind says enough
                self._seen.add(kind)
                self.violations.append(message)

    def logged_in(self) -> None:
        """A login on the wire: a violation for a check run apart once it has
        begun to wait. Beside it the serial phase may be turning 2FA on or
        locking the account, which a login would run into (or disturb)."""
        with self._lock:
            if not (self._apart and self._waited) or "login" in self._seen:
                return
            self._seen.add("login")
            self.violations.append(
                f"{self._check} logged in after it began to wait, but a check run apart from the others "
                "(a long real-time wait, harness/phases.py) may use only what it held before its wait"
            )


GUARD: Final = Guard()


def touch(kind: str, what: str) -> None:
    GUARD.touch(kind, what)
