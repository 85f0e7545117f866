"""The model-based run's opening tour: a fixed sequence of the machine's own
rules that comes to every requirement the run's checks judge, whatever
hypothesis draws afterwards.

hypothesis picks among the rules at random, enables only some of them in a
sequence, and favours the cheap ones; within a budget that fits the main
job, a rule reached in one run can be missed in the next, and a check whose
rule was not reached is not verified. So before the random sequences, the
run walks this tour: each chapter is a sequence of its own (a fresh machine,
both accounts logged in, everything it made undone at its end), judged and
read back exactly as a drawn sequence is, and a divergence in it fails its
requirement with the chapter's steps as the evidence. A divergence ends its
chapter only; the other chapters still run.

Chapters that need the target's clock moved (2FA codes from unused steps,
expiry, a rate-limit window) run where the target allows it
(`ModelRun.can_move`: moved, never slept); elsewhere their requirements stay not verified, as
their fixed checks are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._model import all_scopes
from ._model_machine import Chosen, Divergence

Machine = Any  # an instance of the class _model_machine.machine_for builds


def alice(*then: str) -> Chosen:
    return Chosen(("alice", *then))


def bob(*then: str) -> Chosen:
    return Chosen(("bob", *then))


def opened(m: Machine) -> tuple[Any, Any]:
    """Both accounts logged in: (alice's session, bob's)."""
    sessions = m.place("sessions", m.open_both_accounts())
    return sessions[0], sessions[1]


def tokens(m: Machine, clock: Any) -> None:
    """Logins, refresh rotation, reuse, near-misses, logout; access-token expiry on a movable clock."""
    a, b = opened(m)
    m.me_with_a_bearer_token(a)  # BSK-TOK-003, BSK-EP-001
    (rotated,) = m.place("sessions", m.refresh(a))  # BSK-TOK-007
    m.me_with_a_bearer_token(rotated)  # BSK-REF-010
    m.refresh(a)  # the rotated token again: BSK-REF-001
    m.refresh_with_a_near_miss(b, "truncated-by-one")  # BSK-REF-009
    m.refresh_with_an_access_token(b)  # BSK-REF-007
    m.me_with_a_refresh_token(b)  # BSK-REF-006
    m.me_with_a_near_miss_bearer(b, "signature-of-other-account")  # an altered signature: BSK-JWT-004
    m.me_with_a_near_miss_bearer(b, "payload-of-other-account")  # claims changed under it: BSK-JWT-005
    m.log_out(b)  # BSK-REF-005
    m.refresh(b)  # after the logout: BSK-REF-005
    m.place("sessions", m.log_in(bob()))  # BSK-TOK-001
    if m.model_run.can_wait_out_throttles():  # a failed login: only where a throttle can be waited out
        m.log_in_with_a_near_miss_password(alice(), "truncated-by-one")  # BSK-EP-009
    if m.model_run.can_move(960):
        m.move_the_clock(960)  # past 900 s and any ticking clock's tolerance
        m.me_with_a_bearer_token(a)  # expired: BSK-TOK-004


def keys(m: Machine, clock: Any) -> None:
    """Keys made, read, listed, used to their limit, refused by a near-miss, deleted by the
    other organization and by their own; expiry and a new window on a movable clock."""
    opened(m)
    (read_only,) = m.place("keys", m.new_key(m.live_session(alice()), ("projects:read",), 2, None))  # BSK-KEY-001/003
    (other,) = m.place("keys", m.new_key(m.live_session(bob()), all_scopes(), None, 86_400))  # BSK-KEY-020
    (short,) = m.place("keys", m.new_key(m.live_session(alice()), (), 1, 90))
    for case in ("an unknown scope", "rateLimit 0", "rateLimit 10001", "an expiresAt in the past"):
        m.create_an_invalid_key(alice(), case)  # BSK-KEY-015/016/017
    m.use_a_near_miss_key(read_only, "truncated-by-one")  # BSK-KEY-010
    m.use_a_near_miss_key(read_only, "other-environment-prefix")  # BSK-KEY-009 (every key has a prefix, §2)
    m.read_a_key(alice(), read_only)  # BSK-KEY-002
    m.read_a_key(bob(), read_only)  # BSK-SCP-011
    m.use_a_key(read_only, "GET /me", alice())  # BSK-KEY-022, BSK-RL-004
    m.use_a_key(read_only, "GET /projects", alice())  # BSK-SCP-002: the budget of 2 is spent
    m.use_a_key(read_only, "GET /projects", alice())  # over its limit: BSK-RL-001, BSK-RL-002
    m.use_a_key(short, "GET /me", alice())  # another key of alice's is unaffected: BSK-RL-006
    m.manage_keys_with_a_key(other, "GET /api-keys")  # BSK-EP-004
    m.manage_keys_with_a_key(other, "POST /api-keys")  # BSK-KEY-023
    m.delete_a_key(alice(), other)  # BSK-SCP-012
    m.use_a_key(other, "GET /me", bob())  # still works
    m.delete_a_key(bob(), other)  # BSK-KEY-013
    m.use_a_key(other, "GET /me", bob())  # deleted: 401 at once
    if m.model_run.can_move(185):
        m.move_the_clock(65)  # past the window and any ticking clock's tolerance
        m.use_a_key(read_only, "GET /me", alice())  # the window moved on: BSK-RL-008
        m.move_the_clock(120)
        m.use_a_key(short, "GET /me", alice())  # expired: BSK-KEY-014


def projects(m: Machine, clock: Any) -> None:
    """Projects by bearer across both organizations, and by keys with and without the scopes."""
    opened(m)
    m.place("projects", m.projects_with_a_bearer(alice(), "POST /projects"))  # BSK-EP-005
    m.place("projects", m.projects_with_a_bearer(bob(), "POST /projects"))
    m.projects_with_a_bearer(bob("alice"), "GET /projects/{id}")  # BSK-SCP-008
    m.projects_with_a_bearer(bob("alice"), "DELETE /projects/{id}")  # BSK-SCP-009, BSK-SCP-013
    m.projects_with_a_bearer(alice(), "GET /projects")  # BSK-EP-006
    m.projects_with_a_bearer(alice(), "GET /organization")  # BSK-EP-002
    m.projects_with_a_bearer(alice(), "GET /projects/{id}")  # BSK-EP-007
    m.projects_with_a_bearer(alice(), "DELETE /projects/{id}")  # BSK-EP-008
    (writer,) = m.place("keys", m.new_key(m.live_session(alice()), ("projects:write",), 10_000, None))
    (reader,) = m.place("keys", m.new_key(m.live_session(alice()), ("organization:read", "projects:read"), 10_000,
                                          None))
    m.place("projects", m.use_a_key(writer, "POST /projects", alice()))  # BSK-SCP-004
    m.use_a_key(reader, "POST /projects", alice())  # 403: BSK-SCP-004
    m.use_a_key(writer, "GET /organization", alice())  # 403: BSK-SCP-001
    m.use_a_key(reader, "GET /organization", alice())  # BSK-SCP-001
    m.use_a_key(writer, "GET /projects", alice())  # 403: BSK-SCP-002
    m.use_a_key(writer, "GET /projects/{id}", alice())  # 403: BSK-SCP-003
    m.use_a_key(reader, "GET /projects/{id}", alice())  # BSK-SCP-003
    m.use_a_key(reader, "DELETE /projects/{id}", alice())  # 403: BSK-SCP-005
    m.use_a_key(writer, "DELETE /projects/{id}", alice())  # BSK-SCP-005


def two_factor(m: Machine, clock: Any) -> None:
    """2FA turned on, a login with a current code and one without, a wrong code to disable
    it, off again (two failures: under any login throttle the run allows for, and sent only
    where a throttle can be waited out on the target's clock)."""
    if not m.model_run.can_move(120):
        return
    opened(m)
    m.turn_two_factor_on(alice())  # BSK-TFA-005
    m.place("sessions", m.log_in(alice()))  # BSK-TFA-003
    if m.model_run.can_wait_out_throttles():
        m.log_in_without_the_right_code(alice(), "no code")  # BSK-TFA-001
        m.turn_two_factor_off(alice(), False)  # BSK-TFA-010
    m.turn_two_factor_off(alice(), True)  # BSK-TFA-006


CHAPTERS: dict[str, Callable[[Machine, Any], None]] = {
    "tokens": tokens,
    "keys": keys,
    "projects": projects,
    "two-factor": two_factor,
}


def walk(machine_class: type, clock: Any) -> None:
    """Each chapter as a sequence of its own; a divergence is recorded (by the step that
    found it) and ends that chapter only. Other errors (the target failed an exchange)
    end the tour, as they end a drawn sequence."""
    for name, chapter in CHAPTERS.items():
        machine = machine_class()
        machine.sequence = f"the opening tour's chapter {name!r}"
        try:
            chapter(machine, clock)
        except Divergence:
            pass
        finally:
            machine.teardown()
