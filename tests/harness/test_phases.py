"""Phased parallel runs: the disturbance declarations, their enforcement, the
phase-aware xdist scheduler and the key-leak scan across workers."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field

import pytest

from bsk_conformance.harness.disturbances import KINDS, DisturbanceError, Guard, parse_disturbances
from bsk_conformance.harness.requirements import load_catalogue
from bsk_conformance.reference_server import create_app

KNOWN = {"BSK-TOK-003", "BSK-EP-001"}


# -- the declarations ------------------------------------------------------


def test_the_shipped_declarations_load_against_the_catalogue():
    from bsk_conformance.harness.disturbances import load_disturbances

    declared = load_disturbances(load_catalogue())
    assert declared["BSK-TOK-003"] == {"clock"}
    assert declared["BSK-RL-009"] == {"login-throttle", "clock"}
    assert all(kinds <= KINDS.keys() for kinds in declared.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('BSK-NOPE-001 = ["clock"]', "BSK-NOPE-001: unknown requirement ID"),
        ('BSK-TOK-003 = ["weather"]', "BSK-TOK-003: unknown disturbance weather (known: clock, login-throttle"),
        ('BSK-TOK-003 = "clock"', "BSK-TOK-003: expected a non-empty list of kinds"),
        ("BSK-TOK-003 = []", "BSK-TOK-003: expected a non-empty list of kinds"),
        ("BSK-TOK-003 = [", "not valid TOML"),
    ],
)
def test_invalid_declarations_are_one_line_errors(text, message):
    with pytest.raises(DisturbanceError) as caught:
        parse_disturbances(text, KNOWN)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_guard_judges_only_inside_a_check_and_once_per_kind():
    guard = Guard()
    guard.touch("clock", "moved the clock")  # the preflight, a session's end: not a check's
    with guard.running("suites/x.py::test_a", "BSK-TOK-003", frozenset({"clock"})):
        guard.touch("clock", "moved the clock")
    assert guard.violations == []
    with guard.running("suites/x.py::test_b", "BSK-EP-001", frozenset()):
        guard.touch("clock", "moved the clock")
        guard.touch("clock", "moved the clock again")
        guard.touch("two-factor", "turned 2FA on")
    assert guard.violations == [
        "suites/x.py::test_b moved the clock, but BSK-EP-001 does not declare 'clock' in fixtures/disturbances.toml",
        "suites/x.py::test_b turned 2FA on, but BSK-EP-001 does not declare 'two-factor' in "
        "fixtures/disturbances.toml",
    ]


def test_a_check_run_apart_may_not_log_in_once_it_has_begun_to_wait():
    """Beside a check run apart (a long real wait) the serial phase may be
    turning 2FA on or locking the account: its login before the wait is its
    own business, one after the wait a harness error."""
    guard = Guard()
    with guard.running("suites/x.py::test_a", "BSK-TOK-003", frozenset({"clock"}), apart=True):
        guard.logged_in()
        guard.touch("clock", "waited on the target's clock")
    assert guard.violations == []
    with guard.running("suites/x.py::test_b", "BSK-TOK-003", frozenset({"clock"}), apart=True):
        guard.touch("clock", "waited on the target's clock")
        guard.logged_in()
        guard.logged_in()
    assert guard.violations == [
        "suites/x.py::test_b logged in after it began to wait, but a check run apart from the others "
        "(a long real-time wait, harness/phases.py) may use only what it held before its wait"
    ]
    with guard.running("suites/x.py::test_c", "BSK-TOK-003", frozenset({"clock"})):  # not apart: any login
        guard.touch("clock", "waited on the target's clock")
        guard.logged_in()
    guard.logged_in()  # outside a check
    assert len(guard.violations) == 1


def test_a_check_that_moves_the_clock_undeclared_is_a_harness_error(run_harness, tmp_path):
    check = tmp_path / "test_undeclared.py"
    check.write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.requirement("BSK-EP-001")
        def test_moves_the_clock(clock):
            clock.advance(1)
    """))
    run = run_harness(str(check), "--requirement", "BSK-EP-001")
    assert run.exit_code == 3, run.output[-3000:]
    assert (
        "test_moves_the_clock moved the target's clock, but BSK-EP-001 "
        "does not declare 'clock' in fixtures/disturbances.toml"
    ) in run.output


# -- the scheduler -----------------------------------------------------------


@dataclass(eq=False)
class FakeGateway:
    id: str


@dataclass(eq=False)
class FakeNode:
    name: str
    sent: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> FakeGateway:
        return FakeGateway(self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices

    def shutdown(self) -> None:
        self.shutting_down = True


class FakeConfig:
    pluginmanager = type("NoPlugins", (), {"get_plugin": staticmethod(lambda name: None)})()

    def __init__(self, workers: int = 2) -> None:
        self._workers = workers

    def getvalue(self, name: str):
        return {"tx": [f"{self._workers}*popen"]}[name]

    def getoption(self, name: str):
        return {"maxschedchunk": None}[name]


def _scheduled(tmp_path, size: int, phases_of: dict[int, str], workers: int = 2):
    """A PhasedScheduling over `size` checks (parallel unless `phases_of` says
    otherwise, by index) and `workers` fake workers (two by default), after
    its first schedule(); the scheduler, then the workers."""
    from bsk_conformance.harness.phase_scheduler import PhasedScheduling

    collection = [f"suites/t.py::test_{i}" for i in range(size)]
    phases = {nodeid: "parallel" for nodeid in collection}
    for index, phase in phases_of.items():
        phases[collection[index]] = phase
    (tmp_path / "phases-gw0.json").write_text(json.dumps(phases))
    scheduler = PhasedScheduling(FakeConfig(workers), None, lambda: tmp_path)
    nodes = [FakeNode(f"gw{n}") for n in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    return scheduler, *nodes


def _run_the_parallel_phase(scheduler, nodes) -> None:
    """The workers run what they got, two at a time, until nothing is pending."""
    while scheduler.pending:
        for node in nodes:
            for index in list(scheduler.node2pending[node])[:-1]:
                scheduler.mark_test_complete(node, index)


def test_serial_checks_go_to_one_worker_once_every_other_has_finished(tmp_path):
    pytest.importorskip("xdist")
    scheduler, one, two = _scheduled(tmp_path, 10, {2: "serial", 7: "serial", 5: "last"})
    _run_the_parallel_phase(scheduler, (one, two))
    serial = {2, 5, 7}
    assert not serial & set(one.sent + two.sent), "a serial check was sent during the parallel phase"
    assert not scheduler.tests_finished
    chosen = scheduler._serial_node
    other = two if chosen is one else one
    assert other.shutting_down and not chosen.shutting_down
    for index in list(scheduler.node2pending[other]):
        scheduler.mark_test_complete(other, index)
    assert not serial & set(chosen.sent), "the serial phase began while another worker still ran"
    scheduler.remove_node(other)  # it finished: now the serial phase
    assert chosen.sent[-3:] == [2, 7, 5]  # in collection order, the runs_last ones at the very end
    assert chosen.shutting_down
    assert sorted(one.sent + two.sent) == list(range(10))


def test_long_checks_go_alone_to_one_worker_first(tmp_path):
    """`runs_first` checks (schema fuzzing) start the run, together on one
    worker (the checks sharing a module-scoped fuzzing run run it once);
    the other workers take the rest meanwhile."""
    pytest.importorskip("xdist")
    scheduler, one, two = _scheduled(tmp_path, 40, {30: "first", 31: "first"})
    assert one.sent == [30, 31]
    assert two.sent and not {30, 31} & set(two.sent)
    _run_the_parallel_phase(scheduler, (one, two))
    assert sorted(one.sent + two.sent) == list(range(40))


def test_a_long_real_wait_gets_a_worker_of_its_own_and_the_serial_phase_does_not_wait_for_it(tmp_path):
    """Phase APART (a 15-minute token wait on a real clock): sent alone to a
    worker that is told to shut down at once (a worker runs its last item only
    then); the other workers run the parallel phase, and the serial phase
    starts when they are done, while the long wait goes on."""
    pytest.importorskip("xdist")
    scheduler, one, two, three = _scheduled(tmp_path, 12, {4: "apart", 6: "serial", 11: "last"}, workers=3)
    assert three.sent == [4] and three.shutting_down
    assert 4 not in one.sent + two.sent
    _run_the_parallel_phase(scheduler, (one, two))
    chosen = scheduler._serial_node
    assert chosen in (one, two)
    other = two if chosen is one else one
    for index in list(scheduler.node2pending[other]):
        scheduler.mark_test_complete(other, index)
    scheduler.remove_node(other)
    assert scheduler.node2pending[three] == [4], "the long wait is still running"
    # the serial check did not wait for the long wait: the runs_last check came
    # along, so the worker runs 6 now (it runs an item once the next has come)
    assert chosen.sent[-2:] == [6, 11]
    scheduler.mark_test_complete(chosen, 6)
    # the runs_last check judges every worker's findings: the worker holds it
    # (neither another item nor shutdown) until the long wait has ended
    assert not chosen.shutting_down and not scheduler.tests_finished
    scheduler.check_schedule(chosen)
    assert not chosen.shutting_down and not scheduler.tests_finished
    scheduler.mark_test_complete(three, 4)
    scheduler.remove_node(three)
    assert chosen.shutting_down
    assert sorted(one.sent + two.sent + three.sent) == list(range(12))


def test_runs_last_checks_beside_a_long_real_wait_are_held_back_but_the_first(tmp_path):
    pytest.importorskip("xdist")
    scheduler, one, two, three = _scheduled(tmp_path, 14, {4: "apart", 6: "serial", 11: "last", 13: "last"},
                                            workers=3)
    _run_the_parallel_phase(scheduler, (one, two))
    chosen = scheduler._serial_node
    other = two if chosen is one else one
    for index in list(scheduler.node2pending[other]):
        scheduler.mark_test_complete(other, index)
    scheduler.remove_node(other)
    assert chosen.sent[-2:] == [6, 11] and 13 not in chosen.sent
    scheduler.mark_test_complete(chosen, 6)
    scheduler.check_schedule(chosen)
    assert 13 not in chosen.sent and not chosen.shutting_down and not scheduler.tests_finished
    scheduler.mark_test_complete(three, 4)
    scheduler.remove_node(three)
    assert chosen.sent[-2:] == [11, 13] and chosen.shutting_down
    assert sorted(one.sent + two.sent + three.sent) == list(range(14))


def test_with_no_worker_to_spare_a_long_real_wait_is_a_parallel_check_handed_out_first(tmp_path):
    pytest.importorskip("xdist")
    scheduler, one, two = _scheduled(tmp_path, 12, {4: "apart", 5: "apart", 6: "serial"})
    assert not one.shutting_down and not two.shutting_down
    assert 4 in one.sent[:2] + two.sent[:2] and 5 in one.sent[:2] + two.sent[:2]
    _run_the_parallel_phase(scheduler, (one, two))
    assert sorted(one.sent + two.sent) == [i for i in range(12) if i != 6]


def test_waiting_checks_go_one_per_worker_before_the_rest(tmp_path):
    """Phase WAITING (a rate-limit window, a key's expiry, on a real clock):
    three waiting checks of one module reach three workers as their first
    checks, in turn, instead of queuing on the worker that drew the module;
    they stay parallel checks: all sent before the serial phase."""
    pytest.importorskip("xdist")
    scheduler, one, two, three = _scheduled(tmp_path, 20, {7: "waiting", 8: "waiting", 9: "waiting", 15: "serial"},
                                            workers=3)
    assert [one.sent[0], two.sent[0], three.sent[0]] == [7, 8, 9]
    assert 15 not in one.sent + two.sent + three.sent
    _run_the_parallel_phase(scheduler, (one, two, three))
    assert sorted(one.sent + two.sent + three.sent) == [i for i in range(20) if i != 15]


def test_waiting_checks_reach_the_worker_of_the_long_first_checks_last(tmp_path):
    pytest.importorskip("xdist")
    scheduler, one, two, three = _scheduled(tmp_path, 20, {0: "first", 5: "waiting", 6: "waiting", 7: "waiting"},
                                            workers=3)
    assert one.sent[:2] == [0, 7], "the long check first, then the third waiting check"
    assert two.sent[0] == 5 and three.sent[0] == 6
    _run_the_parallel_phase(scheduler, (one, two, three))
    assert sorted(one.sent + two.sent + three.sent) == list(range(20))


# -- the key-leak scan sees every worker --------------------------------------


def shows_keys_on_project_lists(settings, clock):
    """The reference server, but `GET /projects` answers carry the last key
    issued in a header: a leak only a check that lists projects sees."""
    app = create_app(settings, clock=clock)
    issued: list[bytes] = []

    async def leaky(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        creating = scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/api-keys")
        listing = scope["method"] == "GET" and scope["path"].rstrip("/").endswith("/projects")

        async def watch(message):
            if creating and message["type"] == "http.response.body":
                found = re.search(rb'"key"\s*:\s*"(bsk_[A-Za-z0-9_]+)"', message.get("body", b""))
                if found:
                    issued.append(found.group(1))
            if listing and issued and message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-debug-last-key", issued[-1])]}
            await send(message)

        await app(scope, receive, watch)

    leaky.app = app  # harness/inprocess.py looks through wrappers for the server's parts
    return leaky


def test_under_xdist_the_key_leak_scan_sees_a_leak_another_worker_recorded(run_harness):
    pytest.importorskip("xdist")
    run = run_harness(
        "-n", "2", "-vv",  # after the harness's -q: a line per check, naming its worker
        "--reference-factory", "tests.harness.test_phases:shows_keys_on_project_lists",
        "--requirement", "BSK-SCP-013", "--requirement", "BSK-KEY-004",
    )
    ran_on = {name: worker for worker, name in re.findall(r"\[(gw\d)\] .*?::(test_\w+)", run.output)}
    scope_check = next(name for name in ran_on if name != "test_no_later_response_of_the_run_shows_an_issued_key")
    assert ran_on[scope_check] != ran_on["test_no_later_response_of_the_run_shows_an_issued_key"], run.output[-3000:]
    assert run.status("BSK-KEY-004") == "failed", run.output[-3000:]
    message = next(c["message"] for r in run.result["requirements"] if r["id"] == "BSK-KEY-004" for c in r["checks"])
    assert "GET /projects" in message and "header x-debug-last-key" in message, message
    assert run.status("BSK-SCP-013") == "passed"
