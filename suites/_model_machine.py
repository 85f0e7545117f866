"""The model-based run: a hypothesis RuleBasedStateMachine that drives random
sequences of contract operations across both accounts and both kinds of
credential, and compares every answer with the model's prediction
(suites/_model.py) and the target's state with a read-back through the
contract (GET /api-keys, GET /projects, GET /me).

A divergence is recorded against the requirement of the prediction it breaks,
with the sequence of steps that led to it and their exchanges (recorded and
redacted by the harness, as every check's), then raised: hypothesis shrinks
the sequence, replaying shorter ones against the target, and the shortest
that still diverges is the evidence. Each sequence starts from the accounts
as they are and leaves them so: the keys and projects it made are deleted,
2FA it turned on is turned off again.

The run opens with a fixed tour (suites/_model_tour.py) that calls the rules
so that every requirement the run's checks judge is reached whatever is drawn
after it. Then the budget: `examples` drawn sequences of up to `steps`
operations. A divergence the tour already found is shown with the tour's
chapter, a short fixed sequence, so the drawn sequences are then not shrunk;
otherwise hypothesis shrinks a diverging one for at most SHRINKING_SECONDS
(each replay is real traffic).

hypothesis requires a sequence's draws to be the same whenever its earlier
choices are: the model's picks among what exists (a live session, an account
with 2FA on) draw an index and take it modulo the number of candidates, so a
target's answers can change which candidate is taken but never what is drawn.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
)

from bsk_conformance.harness.api import (
    TOTP_STEP,
    CleanupFailed,
    Exchange,
    Resources,
    PreconditionFailed,
    UserSession,
    format_rfc3339,
    parse_rfc3339,
    record_disturbance,
)

from ._lockout import LONGEST_LOCK, Lockouts
from ._model import (
    EITHER,
    NO,
    RATE_LIMIT_DEFAULT,
    SCOPE_OF,
    SCOPE_REQUIREMENT,
    YES,
    AccountState,
    Clock,
    Key,
    Prediction,
    Project,
    Session,
    all_scopes,
    by_id,
    error,
    ids_of,
    key_metadata,
    me_as_key,
    me_as_user,
    project_body,
    subsets,
    token_pair,
)
from ._near_miss import OTHER_ACCOUNT, NearMiss, near_misses

SHRINKING_SECONDS = 30  # shrinking a divergence replays sequences against the target: this long at most
MOST_FAILURES = 2  # failed logins and wrong codes per account and sequence: under any sane throttle
CLOCK_MOVES = (1, 61, 901)  # within a window, past a window and a short expiry, past an access token's life
KEY_LIFETIMES = (None, 90, 86_400)  # expiresAt: never, soon, tomorrow
RATE_LIMITS = (None, 1, 2, 3, 10_000)  # None: the default, 60
KEY_ENDPOINTS = ("GET /me", "GET /organization", "GET /projects", "POST /projects", "GET /projects/{id}",
                 "DELETE /projects/{id}")
INVALID_KEYS = {  # a body POST /api-keys must refuse with 400 invalid_request, and the requirement saying so
    "an unknown scope": ("BSK-KEY-015", {"scopes": ["projects:admin"]}),
    "rateLimit 0": ("BSK-KEY-016", {"scopes": [], "rateLimit": 0}),
    "rateLimit 10001": ("BSK-KEY-016", {"scopes": [], "rateLimit": 10_001}),
    "an expiresAt in the past": ("BSK-KEY-017", {"scopes": [], "expiresAt": -3600}),
}
# what the run judges only by failed logins, which it sends only where a login throttle they
# may meet can be waited out by moving the target's clock (ModelRun.can_wait_out_throttles)
BY_FAILED_LOGINS = ("BSK-EP-009", "BSK-TFA-001", "BSK-TFA-010")
# what only a moved clock reaches (ModelRun.can_move): access-token and key expiry, a new
# rate-limit window, 2FA codes from unused steps
BY_MOVING_TIME = ("BSK-TOK-004", "BSK-KEY-014", "BSK-RL-008", "BSK-TFA-003", "BSK-TFA-005", "BSK-TFA-006")


class Divergence(AssertionError):
    """The target's answer is not the one the model predicts."""


class Halted(Exception):
    """The run cannot go on: a login throttle answered 429 and the target's clock cannot be
    moved past its Retry-After. Not a divergence: the step that met it judged nothing."""


@dataclass
class Found:
    """A divergence, with the sequence that led to it."""

    requirement: str
    expected: str
    observed: str
    steps: list[str]
    exchanges: list[Exchange]
    sequence: str = "the shortest sequence hypothesis found that diverged"


@dataclass
class ModelRun:
    """What the whole run found: how often each requirement was judged, and
    the shortest sequence that diverged from each."""

    target: Any
    clock: Any
    registry: Any
    accounts: tuple[Any, Any]
    examples: int
    steps: int
    judged: Counter = field(default_factory=Counter)
    found: dict[str, Found] = field(default_factory=dict)
    sequences: int = 0
    toured: int = 0  # of the sequences, the opening tour's chapters
    operations: int = 0
    ended: str | None = None  # why the run ended early (a target problem), if it did
    # the exchange the target failed, if that ended the run: a check whose rule the run never
    # came to is in error with it ("target problem"), as a fixed check is, never not verified
    transport: httpx.TransportError | None = None
    lockouts: Lockouts | None = None  # the accounts' login throttle, waited out on the target's clock
    halted: str | None = None  # why the run cannot go on (a throttle that cannot be waited out)
    cleanup: list[str] = field(default_factory=list)  # what the run could not undo

    def can_move(self, seconds: float) -> bool:
        """Whether the run may move the target's time by `seconds`: only by moving its clock,
        never by sleeping (--clock real). A sequence is drawn at random and may want a move,
        or meet a throttle's hour-long Retry-After, at any step: slept in real time, that
        would hold the whole run and spend the --real-time-budget the fixed checks need."""
        return self.clock.name != "real" and self.clock.can_advance(seconds)

    def can_wait_out_throttles(self) -> bool:
        """Whether failed logins may be sent: only where a login throttle they meet can be
        waited out on the target's clock (a day of it, as the lockout checks allow). Where it
        cannot, the rules that fail logins are not drawn and the tour leaves them out: their
        requirements are judged by no sequence (not verified, never passed)."""
        return self.lockouts is not None and self.can_move(LONGEST_LOCK)

    def wait_out(self, response: httpx.Response) -> bool:
        """Move the target's clock past a throttle's 429; False where it cannot be moved that far."""
        return self.can_wait_out_throttles() and self.lockouts.wait_out(response)

    def record(self, found: Found) -> None:
        kept = self.found.get(found.requirement)
        if kept is None or len(found.steps) < len(kept.steps):
            self.found[found.requirement] = found

    def summary(self) -> str:
        return (f"the model-based run: the opening tour ({self.toured} chapters) and {self.sequences - self.toured} "
                f"drawn sequences, {self.operations} operations across both accounts (budget: --model-examples "
                f"{self.examples}, --model-steps {self.steps})")


def run_model(run: ModelRun) -> None:
    """Drive the machine within the run's budget; divergences end up in `run.found`."""
    from hypothesis.stateful import run_state_machine_as_test

    machine = machine_for(run)
    lockouts = run.lockouts = Lockouts(run.target, run.clock, run.registry)
    if run.can_wait_out_throttles():
        record_disturbance("login-throttle", "sends wrong 2FA codes and near-miss passwords in the model-based run")
        for account in run.accounts:
            lockouts.watch(account)
    try:
        walk(machine, run.clock)  # the fixed opening: every judged rule once, whatever is drawn next
        run.toured = run.sequences
        # a divergence of the tour has its evidence already: shrinking would only replay traffic
        budget = settings(
            max_examples=run.examples,
            stateful_step_count=run.steps,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate] if run.found else [Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        with _shrinking_for_at_most(SHRINKING_SECONDS):
            run_state_machine_as_test(machine, settings=budget)
    except Divergence:
        pass  # recorded in run.found by the step that raised it
    except Halted:
        run.ended = run.halted
    except httpx.HTTPError as exc:
        run.ended = f"the target failed an exchange: {type(exc).__name__}: {exc}"
        if isinstance(exc, httpx.TransportError):
            run.transport = exc
    except HypothesisException as exc:  # a replay that did not repeat: the target's answers changed
        # (a halt replayed while shrinking ends at the sequence's start: the halt is the reason)
        run.ended = run.halted or f"hypothesis stopped: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        run.cleanup.extend(lockouts.release())


@contextmanager
def _shrinking_for_at_most(seconds: float) -> Iterator[None]:
    """hypothesis shrinks for up to five minutes (its engine's MAX_SHRINKING_SECONDS, then it
    stops with the shortest sequence so far, as here); every replay is real traffic, so the
    run allows less. hypothesis has no public setting for this: settings(phases=...) decides
    only whether it shrinks at all (run_model leaves shrinking out when the opening tour has
    the evidence already), so the bound is its engine's constant, set for the run and put
    back after it. Guarded: where a hypothesis version has no such constant it is left alone,
    and shrinking is bounded by that version's own limits."""
    from hypothesis.internal.conjecture import engine

    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if before is None:
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before


@dataclass
class Chosen:
    """What the opening tour (suites/_model_tour.py) passes where a rule takes hypothesis's
    `data`: each pick takes the latest candidate of the next account named in `owners` (the
    last name repeats), so a fixed sequence calls the same rules as a drawn one."""

    owners: tuple[str, ...]
    taken: int = 0

    def next_owner(self) -> str:
        owner = self.owners[min(self.taken, len(self.owners) - 1)]
        self.taken += 1
        return owner


def walk(machine: type[RuleBasedStateMachine], clock: Any) -> None:
    from ._model_tour import walk as walk_the_tour  # the tour calls this module's rules: imported late

    walk_the_tour(machine, clock)


def pick(data, items: list) -> Any:
    """One of `items` (never empty), by an index drawn the same whatever the items are;
    in the opening tour, the latest of the account it names."""
    if isinstance(data, Chosen):
        owner = data.next_owner()
        mine = [item for item in items if _owner_of(item) == owner]
        if not mine:
            raise LookupError(f"the opening tour picks {owner}'s, and there is none")
        return mine[-1]
    return items[data.draw(st.integers(0, 63), label="pick") % len(items)]


def _owner_of(item: Any) -> str:
    """The account a candidate belongs to: an account's name, an account, or what it owns."""
    if isinstance(item, str):
        return item
    if isinstance(item, AccountState):
        return item.name
    return item.owner.name


def machine_for(run: ModelRun) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to this run (hypothesis builds one per sequence)."""
    target, clock, registry = run.target, run.clock, run.registry

    class ContractModel(RuleBasedStateMachine):
        model_run = run  # what the opening tour asks of the run (whether throttles can be waited out)
        sessions = Bundle("sessions")
        keys = Bundle("keys")
        projects = Bundle("projects")

        def __init__(self) -> None:
            super().__init__()
            if run.halted:  # hypothesis replays a halted sequence to shrink it: end at once, no traffic
                raise Halted(run.halted)
            run.sequences += 1
            self.log: list[str] = []
            self.sequence = "the shortest sequence hypothesis found that diverged"  # the tour names its chapter
            self.collecting = target.evidence.collecting()
            self.exchanges = self.collecting.__enter__()
            self.resources = Resources(target, registry)
            self.clock = Clock(clock.now(), clock.tolerance)
            self.accounts: dict[str, AccountState] = {}
            self.readers: dict[str, UserSession] = {}
            self.families = itertools.count(1)
            self.placed: dict[str, list] = {}  # what the opening tour keeps, by bundle (hypothesis keeps its own)

        # -- judging ------------------------------------------------------------------------

        def judge(self, response: httpx.Response, *predictions: Prediction) -> None:
            """Compare the answer with each prediction in turn; the first that breaks is a divergence."""
            body = _json(response)
            for prediction in predictions:
                problems = prediction.problems(response.status_code, body, response.headers)
                run.judged[prediction.requirement] += 1
                if problems:
                    self.diverge(prediction.requirement, prediction, "; ".join(problems))
            wire = []
            if response.status_code >= 400:  # §2's error body
                wire.append(Prediction("BSK-WIRE-001", (response.status_code,), present=("error", "message")))
            challenges = {p.challenge for p in predictions if p.challenge} if response.status_code == 401 else set()
            if challenges:  # a 401 to a bearer-protected request: the Bearer challenge, and invalid_token
                wire.append(Prediction("BSK-WIRE-002", (401,), headers={"www-authenticate": 'realm="bsk"'}))
            if "invalid_token" in challenges:
                wire.append(Prediction("BSK-WIRE-004", (401,), headers={"www-authenticate": "invalid_token"}))
            for shape in wire:
                run.judged[shape.requirement] += 1
                problems = shape.problems(response.status_code, body, response.headers)
                if problems:
                    self.diverge(shape.requirement, shape, "; ".join(problems))

        def diverge(self, requirement: str, prediction: Prediction | None, observed: str) -> None:
            expected = _expected(prediction) if prediction is not None else "what the model holds"
            run.record(Found(requirement, expected, observed, list(self.log), list(self.exchanges), self.sequence))
            raise Divergence(f"{requirement}: expected {expected}; observed {observed}")

        def step(self, text: str):
            """Name the step in the sequence and on its exchanges (never a secret: labels only)."""
            run.operations += 1
            self.log.append(f"{len(self.log) + 1}. {text}")
            return target.evidence.note(f"model step {len(self.log)}: {text}")

        def send(self, text: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
            with self.step(text):
                return target.request(method, path, **kwargs)

        # -- the accounts -------------------------------------------------------------------

        @initialize(target=sessions)
        def open_both_accounts(self):
            opened = []
            for name, account in zip(("alice", "bob"), run.accounts, strict=True):
                with self.step(f"{name} logs in"):
                    session = self.logged_in(account)
                    me = _json(session.get("/me"))
                if not isinstance(me, dict):
                    me = {}
                state = AccountState(name, account, str(me.get("userId")), str(me.get("organizationId")),
                                     bool(me.get("twoFactorEnabled")), registry.secret(account))
                self.accounts[name] = state
                self.readers[name] = Session(state, session.access_token, session.refresh_token, self.clock.now,
                                             next(self.families))
                opened.append(self.readers[name])
            return multiple(*opened)

        @initialize(target=keys, scopes=st.sampled_from(subsets(all_scopes())), rate_limit=st.sampled_from((1, 2, 3)))
        def a_key_each(self, scopes, rate_limit):
            """A key for each account from the start, so the rules that use keys apply from step one."""
            return multiple(*(self.new_key(self.reader(state), scopes, rate_limit, None)
                              for state in self.accounts.values()))

        @initialize(target=projects)
        def a_project_each(self):
            made = []
            for state in self.accounts.values():
                name = Resources.unique_name("model")
                response = self.send(f"{state.name} creates a project", "POST", "/projects",
                                     bearer=self.reader(state).access_token, json={"name": name})
                self.resources.adopt(self.user_session(state), response, project=True)
                self.judge(response, Prediction("BSK-EP-005", (201,)))
                project = Project(state, str(response.json().get("id")), name)
                self.judge(response, project_body("BSK-EP-005", project, 201))
                made.append(project)
            return multiple(*made)

        def made(self, bundle: str) -> list:
            """The values in a bundle (hypothesis keeps references to them there), and what the
            opening tour placed in it."""
            return [self.names_to_values[ref.name] for ref in self.bundle(bundle)] + self.placed.get(bundle, [])

        def place(self, bundle: str, result: Any) -> list:
            """Keep a rule's result in a bundle, as hypothesis does with a `target=` rule's."""
            values = list(result.values) if isinstance(result, MultipleResults) else [] if result is None else [result]
            self.placed.setdefault(bundle, []).extend(values)
            return values

        def other(self, state: AccountState) -> AccountState:
            return next(s for s in self.accounts.values() if s is not state)

        def sync_clock(self) -> None:
            self.clock.now = clock.now()

        def reader(self, state: AccountState) -> Session:
            """A session of the account whose access token is surely alive (the model says when
            to log in again: after 900 s, or a logout), to read its state back with."""
            session = self.readers[state.name]
            if session.access_alive(self.clock) != YES:
                with self.step(f"{state.name} logs in again"):
                    fresh = self.logged_in(state.account)
                session = self.readers[state.name] = Session(state, fresh.access_token, fresh.refresh_token,
                                                             self.clock.now, next(self.families))
            return session

        def user_session(self, state: AccountState) -> UserSession:
            """The reader as the harness's session, for what Resources deletes at the end."""
            session = self.reader(state)
            return UserSession(target, state.account, session.access_token, session.refresh_token, {})

        def logged_in(self, account) -> UserSession:
            """A fresh session, waiting out a login throttle that the run's failed logins may have met."""
            for _ in range(3):
                code = registry.next_code(account) if registry.secret(account) else None
                response = target.login(account, code)
                if response.status_code != 429:
                    break
                if not run.wait_out(response):
                    self.halt(response, "a login of a profile account")
            self.sync_clock()
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict) or not all(
                isinstance(body.get(name), str) for name in ("accessToken", "refreshToken")
            ):
                raise PreconditionFailed("the model-based run could not log in a profile account", response)
            return UserSession(target, account, body["accessToken"], body["refreshToken"], body)

        # -- login, refresh, logout -----------------------------------------------------------

        @rule(target=sessions, data=st.data())
        def log_in(self, data):
            state = self.accounts[pick(data, sorted(self.accounts))]
            code = registry.next_code(state.account, state.secret) if state.two_factor else None
            self.sync_clock()
            if code is not None:
                target.secret(code, "totp-code")
            with self.step(f"{state.name} logs in" + (" with a current TOTP code" if code else "")):
                response = target.login(state.account, code)
            if self.throttled(state, response):
                return multiple()
            self.judge(response, token_pair("BSK-TFA-003" if code else "BSK-TOK-001"))
            state.last_code = code or state.last_code
            body = response.json()
            return Session(state, body["accessToken"], body["refreshToken"], self.clock.now, next(self.families))

        @precondition(lambda self: run.can_wait_out_throttles()
                      and any(s.two_factor and s.failures < MOST_FAILURES for s in self.accounts.values()))
        @rule(data=st.data(), how=st.sampled_from(["no code", "a wrong code", "the last code again"]))
        def log_in_without_the_right_code(self, data, how):
            names = sorted(n for n, s in self.accounts.items() if s.two_factor and s.failures < MOST_FAILURES)
            state = self.accounts[pick(data, names)]
            if how == "the last code again" and state.last_code is None:
                how = "a wrong code"
            code = {"no code": None, "a wrong code": _wrong_code(state.secret, self.clock.now),
                    "the last code again": state.last_code}[how]
            if code is not None:
                target.secret(code, "totp-code")
            state.failures += 1
            with self.step(f"{state.name} (2FA on) logs in with {how}"):
                response = target.login(state.account, code)
            if self.throttled(state, response):
                return
            requirement = {"no code": "BSK-TFA-001", "a wrong code": "BSK-TFA-002",
                           "the last code again": "BSK-TFA-004"}[how]
            code_error = "two_factor_required" if how == "no code" else "invalid_two_factor_code"
            self.judge(response, Prediction(requirement, (401,), code_error, absent=("accessToken", "refreshToken")))

        @precondition(lambda self: run.can_wait_out_throttles()
                      and any(s.failures < MOST_FAILURES for s in self.accounts.values()))
        @rule(data=st.data(), which=st.integers(0, 63))
        def log_in_with_a_near_miss_password(self, data, which: int | str):
            names = sorted(n for n, s in self.accounts.items() if s.failures < MOST_FAILURES)
            state = self.accounts[pick(data, names)]
            other = self.other(state).account.password
            miss = member(must(near_misses(state.account.password, "password", others={OTHER_ACCOUNT: other})),
                          which)
            if miss is None:
                return
            target.secret(miss.value, "password")
            state.failures += 1
            with self.step(f"{state.name} logs in with a near-miss password ({miss.label})"):
                response = target.post("/auth/login", json={"email": state.account.email, "password": miss.value})
            if self.throttled(state, response):
                return
            self.judge(response, error("BSK-EP-009", 401, "invalid_credentials"))

        def throttled(self, state: AccountState, response: httpx.Response) -> bool:
            """A 429 to a login after failed ones: the throttle's threshold is the target's choice
            (contract §8). Wait it out on the target's clock; the step judged nothing. Where the
            clock cannot move that far, the run halts (never a sleep, never a judgement)."""
            if response.status_code != 429 or state.failures == 0:
                return False
            if not run.wait_out(response):
                self.halt(response, f"{state.name}'s failed logins")
            self.sync_clock()
            state.failures = 0
            return True

        def halt(self, response: httpx.Response, after: str) -> None:
            run.halted = (f"the login throttle answered 429 to {after} and the target's clock cannot be moved "
                          f"past its Retry-After ({response.headers.get('retry-after')!r})")
            raise Halted(run.halted)

        @rule(target=sessions, session=sessions)
        def refresh(self, session: Session):
            with self.step(f"refresh {session.owner.name}'s refresh token ({session.refresh_state})"):
                response = target.refresh(session.refresh_token)
            if session.refresh_state == "unknown":  # after reuse its family may be revoked (a SHOULD)
                if response.status_code != 200:
                    session.refresh_state = "family-revoked"
                    self.judge(response, error("BSK-REF-001", 401, "invalid_token"))
                    return multiple()
            elif session.refresh_state != "live":
                requirement = "BSK-REF-005" if session.refresh_state == "logged-out" else "BSK-REF-001"
                self.judge(response, error(requirement, 401, "invalid_token"))
                if session.refresh_state == "rotated":  # a reuse: the family may now be revoked
                    for other in self.made("sessions"):
                        if other.family == session.family and other.refresh_state == "live":
                            other.refresh_state = "unknown"
                return multiple()
            self.judge(response, token_pair("BSK-TOK-007", refreshed=True))
            body = response.json()
            if body["refreshToken"] == session.refresh_token:
                self.diverge("BSK-TOK-007", None, "the refresh answered the same refresh token it was given")
            session.refresh_state = "rotated"
            self.sync_clock()
            return Session(session.owner, body["accessToken"], body["refreshToken"], self.clock.now,
                           session.family, from_refresh=True)

        @rule(session=sessions, which=st.integers(0, 63))
        def refresh_with_a_near_miss(self, session: Session, which: int | str):
            other = self.readers[self.other(session.owner).name].refresh_token
            miss = member(must(near_misses(session.refresh_token, "refresh-token", others={OTHER_ACCOUNT: other})),
                          which)
            if miss is None:
                return
            target.secret(miss.value, "refresh-token")
            response = self.send(f"refresh with a near-miss of {session.owner.name}'s refresh token ({miss.label})",
                                 "POST", "/auth/refresh", json={"refreshToken": miss.value})
            self.judge(response, error("BSK-REF-009", 401, "invalid_token"))

        @rule(session=sessions)
        def refresh_with_an_access_token(self, session: Session):
            response = self.send(f"refresh with {session.owner.name}'s access token", "POST", "/auth/refresh",
                                 json={"refreshToken": session.access_token})
            self.judge(response, error("BSK-REF-007", 401, "invalid_token"))

        @rule(session=sessions)
        def log_out(self, session: Session):
            if session.access_alive(self.clock) != YES or session.refresh_state != "live":
                return  # the contract fixes logout's answer only for a live pair
            response = self.send(f"{session.owner.name} logs out", "POST", "/auth/logout",
                                 bearer=session.access_token, json={"refreshToken": session.refresh_token})
            self.judge(response, Prediction("BSK-REF-005", (204,)))
            session.refresh_state = "logged-out"
            session.access_revoked = EITHER

        # -- bearer use -----------------------------------------------------------------------

        @rule(session=sessions)
        def me_with_a_bearer_token(self, session: Session):
            alive = session.access_alive(self.clock)
            age = self.clock.now - session.issued
            response = self.send(f"GET /me with {session.owner.name}'s access token ({age:.0f} s old)", "GET", "/me",
                                 bearer=session.access_token)
            if alive == EITHER:
                if response.status_code == 200:
                    self.judge(response, me_as_user("BSK-EP-001", session.owner))
                else:
                    self.judge(response, error("BSK-WIRE-004", 401, bearer=True, invalid_token=True))
                return
            if alive == NO:
                self.judge(response, error("BSK-TOK-004", 401, bearer=True, invalid_token=True))
                return
            accepted = "BSK-REF-010" if session.from_refresh else "BSK-TOK-003"
            self.judge(response, Prediction(accepted, (200,)), me_as_user("BSK-EP-001", session.owner))

        @rule(session=sessions)
        def me_with_a_refresh_token(self, session: Session):
            response = self.send(f"GET /me with {session.owner.name}'s refresh token as the bearer", "GET", "/me",
                                 bearer=session.refresh_token)
            self.judge(response, error("BSK-REF-006", 401, bearer=True))

        @rule(session=sessions, which=st.integers(0, 63))
        def me_with_a_near_miss_bearer(self, session: Session, which: int | str):
            other = self.readers[self.other(session.owner).name].access_token
            miss = member(in_headers(near_misses(session.access_token, "access-token",
                                                 others={OTHER_ACCOUNT: other})), which)
            if miss is None:
                return
            target.secret(miss.value, "access-token")
            response = self.send(f"GET /me with a near-miss of {session.owner.name}'s access token ({miss.label})",
                                 "GET", "/me", headers={"Authorization": b"Bearer " + miss.value.encode("utf-8")})
            requirement = _bearer_requirement(session.access_token, miss.value)
            self.judge(response, error(requirement, 401, bearer=True, invalid_token=True))

        def live_session(self, data) -> Session:
            """A session whose access token is surely alive: one of the bundle's, else an
            account's reader (logged in again if need be)."""
            alive = [s for s in self.made("sessions") if s.access_alive(self.clock) == YES]
            if isinstance(data, Chosen):
                owner = data.next_owner()
                mine = [s for s in alive if s.owner.name == owner]
                return mine[-1] if mine else self.reader(self.accounts[owner])
            return pick(data, alive) if alive else self.reader(pick(data, sorted(self.accounts.values(), key=_name)))

        # -- keys -----------------------------------------------------------------------------

        @rule(target=keys, data=st.data(), scopes=st.sampled_from(subsets(all_scopes())),
              rate_limit=st.sampled_from(RATE_LIMITS), lifetime=st.sampled_from(KEY_LIFETIMES))
        def create_a_key(self, data, scopes, rate_limit, lifetime):
            return self.new_key(self.live_session(data), scopes, rate_limit, lifetime)

        def new_key(self, session: Session, scopes, rate_limit: int | None, lifetime: int | None) -> Key:
            """POST /api-keys as `session`, judged, read back; the model's key."""
            body: dict[str, Any] = {"name": Resources.unique_name("model"), "scopes": list(scopes)}
            if rate_limit is not None:
                body["rateLimit"] = rate_limit
            expires = None if lifetime is None else float(int(self.clock.now) + lifetime)
            if expires is not None:
                body["expiresAt"] = format_rfc3339(expires)
            text = (f"{session.owner.name} creates a key: scopes [{', '.join(scopes)}], "
                    f"rateLimit {rate_limit or 'default'}, expires {'never' if lifetime is None else f'in {lifetime} s'}")
            with self.step(text):
                response = target.post("/api-keys", bearer=session.access_token, json=body)
            self.resources.adopt(self.user_session(session.owner), response)
            created = _json(response)
            if isinstance(created, dict) and isinstance(created.get("key"), str):
                target.secret(created["key"], "api-key")
            key = Key(session.owner, str(created.get("id")) if isinstance(created, dict) else "", "", body["name"],
                      tuple(scopes), rate_limit or RATE_LIMIT_DEFAULT, expires, body.get("expiresAt"))
            self.judge(response, Prediction("BSK-KEY-001", (201,)))
            self.judge(response, _created_key(key, rate_limit))
            key.key = created["key"]
            self.check_expiry(response, key)
            self.read_back_keys(key.owner, "BSK-MODEL-001", also=key)
            return key

        def check_expiry(self, response: httpx.Response, key: Key) -> None:
            """expiresAt is the instant sent (in any RFC 3339 form), or null for never."""
            shown = _json(response).get("expiresAt")
            same = shown is None if key.expires_at is None else _instant(shown) == key.expires_at
            run.judged["BSK-KEY-001"] += 1
            if not same:
                self.diverge("BSK-KEY-001", None, f"expiresAt {shown!r} for a key created with {key.expires_at_text!r}")

        @rule(data=st.data(), case=st.sampled_from(sorted(INVALID_KEYS)))
        def create_an_invalid_key(self, data, case):
            session = self.live_session(data)
            requirement, fields = INVALID_KEYS[case]
            body = {"name": Resources.unique_name("model"), **fields}
            if body.get("expiresAt") == -3600:
                body["expiresAt"] = format_rfc3339(self.clock.now - 3600)
            with self.step(f"{session.owner.name} creates a key with {case}"):
                response = target.post("/api-keys", bearer=session.access_token, json=body)
            self.resources.adopt(self.user_session(session.owner), response)
            self.judge(response, error(requirement, 400, "invalid_request"))

        @rule(data=st.data(), key=keys)
        def read_a_key(self, data, key: Key):
            session = self.live_session(data)
            response = self.send(f"{session.owner.name} reads {key.owner.name}'s key{' (deleted)' * key.deleted}",
                                 "GET", f"/api-keys/{key.id}", bearer=session.access_token)
            if session.owner.organization_id != key.owner.organization_id:
                self.judge(response, error("BSK-SCP-011", 404))
            elif not key.deleted:  # a deleted key's metadata may stay readable (revokedAt, §8)
                self.judge(response, key_metadata("BSK-KEY-002", key))

        @rule(data=st.data(), key=keys)
        def delete_a_key(self, data, key: Key):
            session = self.live_session(data)
            response = self.send(f"{session.owner.name} deletes {key.owner.name}'s key{' (deleted)' * key.deleted}",
                                 "DELETE", f"/api-keys/{key.id}", bearer=session.access_token)
            if session.owner.organization_id != key.owner.organization_id:
                self.judge(response, error("BSK-SCP-012", 404))
                self.read_back_keys(key.owner, "BSK-SCP-012")
            elif not key.deleted:
                self.judge(response, Prediction("BSK-KEY-013", (204,)))
                key.deleted = True

        @rule(key=keys, operation=st.sampled_from(["POST /api-keys", "GET /api-keys", "GET /api-keys/{id}",
                                                   "DELETE /api-keys/{id}"]))
        def manage_keys_with_a_key(self, key: Key, operation):
            if key.usable(self.clock) != YES or key.admission(self.clock) != YES:
                return  # only a key surely authenticated and admitted gets the 403 the contract fixes
            method, path = operation.split(" ")
            kwargs: dict[str, Any] = {"api_key": key.key}
            if method == "POST":
                kwargs["json"] = {"name": Resources.unique_name("model"), "scopes": []}
            response = self.send(f"{operation} with {key.owner.name}'s key as the credential", method,
                                 path.replace("{id}", key.id), **kwargs)
            key.maybe.append(self.clock.now)
            if response.status_code == 201:
                self.resources.adopt(self.user_session(key.owner), response)
            requirement = "BSK-KEY-023" if method == "POST" else "BSK-EP-004"
            self.judge(response, error(requirement, 403))

        @rule(target=projects, key=keys, endpoint=st.sampled_from(KEY_ENDPOINTS), data=st.data())
        def use_a_key(self, key: Key, endpoint, data):
            method, path = endpoint.split(" ")
            request = self.project_request(data, method, path, {"api_key": key.key})
            if request is None:
                return multiple()
            project, where, about, kwargs = request
            usable, admission = key.usable(self.clock), key.admission(self.clock)
            others_exhausted = any(k is not key and k.owner is key.owner and k.usable(self.clock) == YES
                                   and k.admission(self.clock) == NO for k in self.made("keys"))
            state = "deleted" if key.deleted else "expired" if usable == NO else "budget spent" if admission == NO else ""
            response = self.send(f"{endpoint}{about} with {key.owner.name}'s key" + (f" ({state})" if state else ""),
                                 method, where, **kwargs)
            created = response.status_code == 201 and endpoint == "POST /projects"
            if created:
                self.resources.adopt(self.user_session(key.owner), response, project=True)
            if usable == NO:
                self.judge(response, error("BSK-KEY-013" if key.deleted else "BSK-KEY-014", 401, "invalid_api_key"))
                return multiple()
            if usable == EITHER or (admission == EITHER and response.status_code == 429):
                return multiple()  # at a boundary, or where the contract leaves the count open: no prediction
            if admission == NO:
                self.judge(response, error("BSK-RL-001", 429, "rate_limited"))
                self.judge(response, _rate_headers("BSK-RL-004", key, remaining=0))
                retry = response.headers.get("retry-after", "")
                run.judged["BSK-RL-002"] += 1
                if not retry.isdigit() or not 1 <= int(retry) <= 60:
                    self.diverge("BSK-RL-002", None, f"Retry-After {retry!r} on a 429 (whole seconds, 1 to 60)")
                key.limited = True
                return multiple()
            outcome = self.key_outcome(key, method, path, project)
            if key.limited and outcome.statuses[0] != 403:
                outcome.requirement = "BSK-RL-008"  # exhausted before, admitted again once the window moved on
                key.limited = False
            elif others_exhausted and outcome.statuses[0] != 403:
                outcome.requirement = "BSK-RL-006"
            certain, uncertain, _ = key.in_window(self.clock)
            self.judge(response, outcome)
            if uncertain == 0:
                self.judge(response, _rate_headers("BSK-RL-004", key, remaining=key.rate_limit - certain - 1))
            else:
                self.judge(response, _rate_headers("BSK-RL-003", key, remaining=None))
            (key.maybe if response.status_code == 403 else key.admitted).append(self.clock.now)
            if created:
                project = Project(key.owner, str(response.json().get("id")), kwargs["json"]["name"])
                self.read_back_projects(project.owner, "BSK-MODEL-001", also=project)
                return project
            if endpoint == "DELETE /projects/{id}" and project is not None and response.status_code == 204:
                project.deleted = True
            return multiple()

        def key_outcome(self, key: Key, method: str, path: str, project: Project | None) -> Prediction:
            """The answer to an admitted key's request: the endpoint's, or 403 for a scope it lacks."""
            if path == "/me":
                return me_as_key(key)
            if not key.allows(method, path):
                prediction = error(SCOPE_REQUIREMENT[(method, path)], 403, "insufficient_scope")
                prediction.fields["requiredScope"] = SCOPE_OF[(method, path)]
                return prediction
            return self.project_outcome(key.owner, method, path, project, SCOPE_REQUIREMENT[(method, path)])

        def project_outcome(self, caller: AccountState, method: str, path: str, project: Project | None,
                            allowed: str) -> Prediction:
            """The answer to a request allowed by its credential (a bearer, or a key with the scope)."""
            if path == "/organization":
                return Prediction(allowed, (200,), fields={"id": caller.organization_id}, present=("name",))
            if path == "/projects":
                return Prediction(allowed, (201,) if method == "POST" else (200,))
            assert project is not None
            if project.owner.organization_id != caller.organization_id:
                return error("BSK-SCP-008" if method == "GET" else "BSK-SCP-009", 404)
            if project.deleted:
                return error("BSK-EP-008", 404)
            if method == "GET":
                return project_body("BSK-EP-007" if allowed == "bearer" else allowed, project)
            return Prediction("BSK-EP-008" if allowed == "bearer" else allowed, (204,))

        @rule(key=keys, which=st.integers(0, 63))
        def use_a_near_miss_key(self, key: Key, which: int | str):
            theirs = [k.key for k in self.made("keys") if k.owner is not key.owner and k.key]
            others = {OTHER_ACCOUNT: theirs[-1]} if theirs else {}
            miss = member(in_headers(near_misses(key.key, "api-key", others=others)), which)
            if miss is None:
                return
            target.secret(miss.value, "api-key")
            response = self.send(f"GET /me with a near-miss of {key.owner.name}'s key ({miss.label})", "GET", "/me",
                                 headers={"X-API-Key": miss.value.encode("utf-8")})  # some are not ASCII
            requirement = "BSK-KEY-009" if miss.label == "other-environment-prefix" else "BSK-KEY-010"
            self.judge(response, error(requirement, 401, "invalid_api_key"))

        # -- projects, by bearer ----------------------------------------------------------------

        @rule(target=projects, data=st.data(), endpoint=st.sampled_from(
            ["POST /projects", "GET /projects", "GET /organization", "GET /projects/{id}", "DELETE /projects/{id}"]))
        def projects_with_a_bearer(self, data, endpoint):
            session = self.live_session(data)
            method, path = endpoint.split(" ")
            request = self.project_request(data, method, path, {"bearer": session.access_token})
            if request is None:
                return multiple()
            project, where, about, kwargs = request
            response = self.send(f"{session.owner.name}: {endpoint}{about}", method, where, **kwargs)
            if response.status_code == 201:
                self.resources.adopt(self.user_session(session.owner), response, project=True)
            requirement = {"POST /projects": "BSK-EP-005", "GET /projects": "BSK-EP-006",
                           "GET /organization": "BSK-EP-002"}.get(endpoint, "bearer")
            outcome = self.project_outcome(session.owner, method, path, project, requirement)
            self.judge(response, outcome)
            if method == "POST":
                project = Project(session.owner, str(response.json().get("id")), kwargs["json"]["name"])
                self.judge(response, project_body("BSK-EP-005", project, 201))
                self.read_back_projects(project.owner, "BSK-MODEL-001", also=project)
                return project
            if method == "DELETE" and project is not None and response.status_code == 204:
                project.deleted = True
                self.read_back_projects(project.owner, "BSK-EP-008")
            elif method == "DELETE" and project is not None:
                self.read_back_projects(project.owner, "BSK-SCP-009")
            return multiple()

        def project_request(self, data, method: str, path: str, auth: dict[str, Any]):
            """(project, path sent, its description, request arguments) for an endpoint of §3's
            project table; None when it names a project and the sequence has none."""
            project = self.pick_project(data) if "{id}" in path else None
            if "{id}" in path and project is None:
                return None
            where = path.replace("{id}", project.id) if project is not None else path
            about = f" ({project.owner.name}'s project{', deleted' * project.deleted})" if project else ""
            kwargs: dict[str, Any] = dict(auth)
            if method == "POST" and path == "/projects":
                kwargs["json"] = {"name": Resources.unique_name("model")}
            return project, where, about, kwargs

        def pick_project(self, data) -> Project | None:
            made = self.made("projects")
            return pick(data, made) if made else None

        # -- 2FA ----------------------------------------------------------------------------------

        @precondition(lambda self: any(not s.two_factor for s in self.accounts.values()) and run.can_move(120))
        @rule(data=st.data())
        def turn_two_factor_on(self, data):
            names = sorted(n for n, s in self.accounts.items() if not s.two_factor)
            state = self.accounts[pick(data, names)]
            session = self.user_session(state)
            with self.step(f"{state.name} sets up 2FA"):
                setup = session.post("/auth/2fa/setup")
            self.judge(setup, Prediction("BSK-TFA-005", (200,), present=("secret", "otpauthUri"),
                                         headers={"cache-control": "no-store"}))
            secret = setup.json()["secret"]
            target.secret(secret, "totp-secret")
            code = registry.next_code(state.account, secret)
            target.secret(code, "totp-code")
            self.sync_clock()
            with self.step(f"{state.name} enables 2FA with a current code"):
                enable = session.post("/auth/2fa/enable", json={"code": code})
            if enable.status_code == 204:
                registry.set(state.account, secret)
                state.two_factor, state.secret, state.enabled_here, state.last_code = True, secret, True, None
            self.judge(enable, Prediction("BSK-TFA-005", (204,)))
            self.read_back_me(state, "BSK-TFA-005")

        @precondition(lambda self: any(s.enabled_here for s in self.accounts.values()))
        @rule(data=st.data(), right=st.booleans())
        def turn_two_factor_off(self, data, right):
            right = right or not run.can_wait_out_throttles()  # a wrong code is a failed login
            names = sorted(n for n, s in self.accounts.items() if s.enabled_here and (right or s.failures < MOST_FAILURES))
            if not names:
                return
            state = self.accounts[pick(data, names)]
            session = self.user_session(state)
            code = registry.next_code(state.account, state.secret) if right else _wrong_code(state.secret, self.clock.now)
            target.secret(code, "totp-code")
            self.sync_clock()
            with self.step(f"{state.name} disables 2FA with {'a current' if right else 'a wrong'} code"):
                response = session.post("/auth/2fa/disable", json={"code": code})
            if right:
                if response.status_code == 204:
                    registry.set(state.account, None)
                    state.two_factor, state.enabled_here, state.last_code = False, False, None
                self.judge(response, Prediction("BSK-TFA-006", (204,)))
                self.read_back_me(state, "BSK-TFA-006")
            else:
                state.failures += 1
                run.judged["BSK-TFA-010"] += 1
                if not 400 <= response.status_code < 500:  # any 4xx (§8 latitude)
                    self.diverge("BSK-TFA-010", None, f"HTTP {response.status_code} to a disable with a wrong code")
                self.read_back_me(state, "BSK-TFA-010")

        # -- the clock ----------------------------------------------------------------------------

        @rule(seconds=st.sampled_from(CLOCK_MOVES))
        def move_the_clock(self, seconds):
            if not run.can_move(seconds):
                return
            with self.step(f"the clock moves {seconds} s"):
                clock.advance(seconds)
            self.sync_clock()

        # -- read-back ------------------------------------------------------------------------------

        def read_back_keys(self, owner: AccountState, requirement: str, also: Key | None = None) -> None:
            """GET /api-keys: every live key of the owner's listed as created, without the key,
            and nothing of the other organization's."""
            with self.step(f"read back {owner.name}'s keys (GET /api-keys)"):
                response = self.user_session(owner).get("/api-keys")
            self.judge(response, Prediction(requirement, (200,), present=("data",)))
            listed = by_id(_json(response))
            made = self.made("keys") + ([also] if also is not None else [])
            mine = [k for k in made if k.owner is owner and not k.deleted]
            theirs = [k for k in made if k.owner.organization_id != owner.organization_id]
            for key in mine:
                run.judged[requirement] += 1
                if key.id not in listed:
                    self.diverge(requirement, None, f"{owner.name}'s key {key.name} missing from GET /api-keys")
                problems = key_metadata("BSK-KEY-003", key).problems(200, listed[key.id], {})
                run.judged["BSK-KEY-003"] += 1
                if problems:
                    self.diverge("BSK-KEY-003", None, f"the listed metadata of {key.name}: {'; '.join(problems)}")
            run.judged["BSK-SCP-014"] += 1
            shown = [k.name for k in theirs if k.id in listed]
            if shown:
                self.diverge("BSK-SCP-014", None, f"GET /api-keys for {owner.name} lists the other organization's "
                             f"key(s) {', '.join(shown)}")

        def read_back_projects(self, owner: AccountState, requirement: str, also: Project | None = None) -> None:
            """GET /projects: the owner's live projects, none it deleted, none of the other
            organization (`also`: one just created, not in the bundle yet)."""
            with self.step(f"read back {owner.name}'s projects (GET /projects)"):
                response = self.user_session(owner).get("/projects")
            self.judge(response, Prediction(requirement, (200,), present=("data",)))
            listed = set(ids_of(_json(response)) or [])
            made = self.made("projects") + ([also] if also is not None else [])
            for project in made:
                if project.owner.organization_id != owner.organization_id:
                    rid, wrong = "BSK-SCP-013", project.id in listed
                    what = "lists the other organization's project"
                elif project.deleted:
                    rid, wrong, what = "BSK-EP-008", project.id in listed, "still lists the deleted project"
                else:
                    rid, wrong, what = requirement, project.id not in listed, "does not list the project"
                run.judged[rid] += 1
                if wrong:
                    self.diverge(rid, None, f"GET /projects for {owner.name} {what} {project.name}")

        def read_back_me(self, state: AccountState, requirement: str) -> None:
            with self.step(f"read back {state.name}'s 2FA state (GET /me)"):
                response = self.user_session(state).get("/me")
            self.judge(response, Prediction(requirement, (200,), fields={"twoFactorEnabled": state.two_factor}))

        # -- the end of a sequence ----------------------------------------------------------------

        def two_factor_off(self, state: AccountState) -> None:
            """2FA off with a current code, through the account's reader session: no new login,
            which a throttle met in the sequence may still refuse."""
            session = self.user_session(state)  # first: a login afresh spends a TOTP step
            code = registry.next_code(state.account, state.secret)
            target.secret(code, "totp-code")
            response = session.post("/auth/2fa/disable", json={"code": code})
            if response.status_code != 204:
                raise CleanupFailed(f"the target refused to turn 2FA off again for {state.name}: "
                                    f"HTTP {response.status_code}")
            registry.set(state.account, None)
            state.two_factor, state.enabled_here, state.secret = False, False, None

        def teardown(self) -> None:
            """Leave the accounts as the sequence found them: 2FA off where it turned it on,
            its keys and projects deleted; and the failed logins it sent aged out of a login
            throttle's window (an hour covers any sane one; the next sequence waits out a 429
            in any case).
            Each part is tried whatever became of the others; what failed is kept in
            `run.cleanup` (every check of the run then ends in error, "cleanup failed"),
            not raised: hypothesis would take it for a failing sequence and replay it."""
            try:
                for state in self.accounts.values():  # first, while the readers' tokens live: no login needed
                    if state.enabled_here:
                        with self.step(f"{state.name} turns 2FA off again (the sequence's end)"):
                            self.cleaned(lambda state=state: self.two_factor_off(state))
                if any(s.failures for s in self.accounts.values()) and run.can_wait_out_throttles():
                    with self.step("the clock moves 3600 s (failed logins age out)"):
                        clock.advance(3600)
                    self.sync_clock()
                with self.step("delete the sequence's keys and projects"):
                    problems = self.resources.cleanup()
                if problems:
                    run.cleanup.append("could not delete what it created: " + "; ".join(problems))
            finally:
                self.collecting.__exit__(None, None, None)

        def cleaned(self, undo) -> None:
            try:
                undo()
            except (CleanupFailed, PreconditionFailed, Halted, httpx.HTTPError) as exc:
                run.cleanup.append(str(exc))

    return ContractModel


# -- helpers --------------------------------------------------------------------------------------


def member(family: list[NearMiss], which: int | str) -> NearMiss | None:
    """A member of a near-miss family: by a drawn index (modulo its size), or, in the opening
    tour, by the transformation's name (fixtures/attack-vectors/near-misses.json); None when
    the value has no such member (a key without the other environment's prefix to swap: its
    requirement is then judged by no step, never passed)."""
    if isinstance(which, str):
        return next((miss for miss in family if miss.label == which), None)
    return family[which % len(family)] if family else None


def must(family: list[NearMiss]) -> list[NearMiss]:
    """The members the contract fixes the answer to (a SHOULD member is for BSK-NEAR-003's own check)."""
    return [miss for miss in family if miss.level == "MUST"]


def in_headers(family: list[NearMiss]) -> list[NearMiss]:
    """The MUST members a header can carry as they are (never leading or trailing whitespace)."""
    return [miss for miss in must(family) if miss.in_headers]


def _bearer_requirement(genuine: str, sent: str) -> str:
    """The requirement a near-miss bearer token's refusal enforces: BSK-JWT-005 when the header
    or claims changed under the genuine signature, else BSK-JWT-004 (the signature altered,
    or no longer a JWT at all)."""
    ours, theirs = genuine.split("."), sent.split(".")
    if len(ours) == len(theirs) == 3 and ours[2] == theirs[2] and ours[:2] != theirs[:2]:
        return "BSK-JWT-005"
    return "BSK-JWT-004"


def _name(state: AccountState) -> str:
    return state.name


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _instant(text: Any) -> float | None:
    try:
        return parse_rfc3339(text)
    except (TypeError, ValueError):
        return None


def _expected(prediction: Prediction) -> str:
    wanted = " or ".join(str(s) for s in prediction.statuses)
    return f"HTTP {wanted}" + (f" {prediction.error}" if prediction.error else "")


def _created_key(key: Key, rate_limit: int | None) -> Prediction:
    """The 201 of a key creation: its metadata as sent, and the key itself this once."""
    prediction = key_metadata("BSK-KEY-020" if rate_limit is None else "BSK-KEY-001", key, status=201)
    prediction.present = (*prediction.present, "key")
    return prediction


def _rate_headers(requirement: str, key: Key, remaining: int | None) -> Prediction:
    """X-RateLimit-Limit, -Remaining (exactly, when the model knows it) and -Reset."""
    prediction = Prediction(requirement, tuple(range(100, 600)))
    prediction.headers = {"x-ratelimit-reset": "", "x-ratelimit-remaining": ""}
    prediction.exact_headers = {"x-ratelimit-limit": str(key.rate_limit)}
    if remaining is not None:
        prediction.exact_headers["x-ratelimit-remaining"] = str(remaining)
    return prediction


def _wrong_code(secret: str | None, now: float) -> str:
    """A well-formed code valid at no step near now (±2 steps)."""
    totp = pyotp.TOTP(secret) if secret else None
    taken = {totp.at(now + offset * TOTP_STEP) for offset in range(-2, 3)} if totp else set()
    return next(code for code in (f"{n:06d}" for n in range(13, 1_000_000, 7919)) if code not in taken)
