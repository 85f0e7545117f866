"""pytest-xdist's load scheduling, in two phases (see harness/phases.py).

Imported only when xdist is loaded. The parallel phase is xdist's own load
scheduling over the checks that disturb nothing shared. The serial phase
starts once every worker but one has finished (xdist's workers only run an
item once the next one has arrived, or at shutdown, so "finished" is the one
sure sign that nothing else still runs): the remaining worker then gets the
serial checks, all at once and in collection order, and runs them one after
another while no other check runs anywhere.

On a real clock, the checks of phase APART (a long wait, nothing disturbed
but the clock) each go to a worker of their own as the run starts, when
there are more workers than such checks, and that worker is told to shut
down after it; the serial phase does not wait for them, but its `runs_last`
checks (which judge every worker's findings) run only once they have
finished: the first goes with the serial checks, so that the last of those
runs at once (a worker runs an item only when the next has come), and the
worker holds it until the others follow. With too few workers they are
parallel checks, handed out first.
The checks of phase WAITING (a shorter wait, nothing disturbed but the clock)
go one per worker in turn as the run starts, before the other parallel ones.

An item whose phase is unknown (no phase file from the workers) is serial:
the safe side.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScheduling

from bsk_conformance.harness.disturbances import APART, FIRST, LAST, PARALLEL, WAITING


class PhasedScheduling(LoadScheduling):
    def __init__(self, config: pytest.Config, log: Any, share: Callable[[], Path | None]) -> None:
        super().__init__(config, log)
        self._share = share
        self._serial: list[int] = []  # indices for the serial phase, in order
        self._serial_node: Any = None  # the worker that runs them, once chosen
        self._serial_set: set[int] = set()
        self._last_set: set[int] = set()  # the serial phase's runs_last checks
        self._apart_nodes: set[Any] = set()  # each running one long wait, beside the rest
        self._holding = False  # the serial worker holds a runs_last check until the long waits end

    # -- the phase of each item ----------------------------------------------

    def _phases(self) -> dict[str, str]:
        where = self._share()
        if where is None:
            return {}
        for path in sorted(where.glob("phases-*.json")):
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
        return {}

    def schedule(self) -> None:
        """xdist's LoadScheduling.schedule, over the parallel items only."""
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self.check_schedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = next(iter(self.node2collection.values()))
        known = self._phases()
        phases = [known.get(nodeid) for nodeid in self.collection]  # by index; None: unknown, so serial
        indices = range(len(self.collection))
        first = [i for i in indices if phases[i] == FIRST]
        apart = [i for i in indices if phases[i] == APART]
        nodes = self.nodes
        if apart and len(nodes) > len(apart):
            for index, node in zip(apart, nodes[-len(apart):], strict=True):
                self._apart_nodes.add(node)
                self.node2pending[node].append(index)
                node.send_runtest_some([index])
                node.shutdown()  # a worker runs its last item only once told there is no other
            nodes = [node for node in nodes if node not in self._apart_nodes]
            apart = []
        waiting = [i for i in indices if phases[i] == WAITING]
        self.pending[:] = first + apart + waiting + [i for i in indices if phases[i] == PARALLEL]
        serial = [i for i in indices if phases[i] not in (FIRST, PARALLEL, LAST, APART, WAITING)]
        self._last_set = {i for i in indices if phases[i] == LAST}
        self._serial = serial + [i for i in indices if i in self._last_set]
        self._serial_set = set(self._serial)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter") if self.config else None
        if reporter is not None and self._serial:
            reporter.write_line(
                f"bsk-conformance: {len(self.pending)} checks in parallel across {len(nodes)} workers, then "
                f"{len(self._serial)} one at a time (they disturb what others share: fixtures/disturbances.toml)"
            )
        if not self.collection:
            return
        if self.maxschedchunk is None:
            self.maxschedchunk = len(self.collection)
        if first and len(nodes) > 1 and len(self.pending) > len(first):
            # the long checks, alone, to one worker; the others share the rest
            self._send_tests(nodes[0], len(first))
            self._spread(waiting, nodes[1:] + nodes[:1])  # the long checks' worker last: it has them to run
            rest = nodes[1:]
            chunk = max(min(len(self.pending) // len(rest) // 4, self.maxschedchunk), 2)
            for node in rest:
                self._send_tests(node, chunk)
            for node in rest:  # the first worker gets more only as its long checks end
                self.check_schedule(node)
            return
        self._spread(waiting, nodes)
        if self.pending and len(self.pending) < 2 * len(nodes):
            turns = cycle(nodes)
            for _ in range(len(self.pending)):
                self._send_tests(next(turns), 1)
        elif self.pending:
            chunk = max(min(len(self.pending) // len(nodes) // 4, self.maxschedchunk), 2)
            for node in nodes:
                self._send_tests(node, chunk)
        for node in nodes:
            self.check_schedule(node)

    def _spread(self, waiting: list[int], nodes: list[Any]) -> None:
        """Each waiting check to a worker in turn, ahead of the rest of the
        parallel phase: their waits overlap instead of queuing on the worker
        that drew their module (one item at a time: load scheduling's chunks
        would hand a worker several in a row)."""
        if len(nodes) < 2 or not waiting:
            return
        chosen = set(waiting)
        self.pending[:] = [i for i in self.pending if i not in chosen]
        for index, node in zip(waiting, cycle(nodes)):
            self.node2pending[node].append(index)
            node.send_runtest_some([index])

    # -- moving from the parallel phase to the serial one ----------------------

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down:
            return
        if self._holds_a_last_check and node is self._serial_node:
            return  # neither more nor shutdown: either would let it run the runs_last check it holds
        if self.pending or not self._serial:
            super().check_schedule(node, duration)
            if self.pending or not self._serial:
                return
        if self._serial_node is None:
            # the parallel phase has handed out its last check: the worker with
            # the least left to run gets the serial phase, every other one is
            # shut down now (a worker holds its last check until then)
            live = [n for n in self.node2pending if not n.shutting_down and n not in self._apart_nodes]
            self._serial_node = min(live, key=lambda n: len(self.node2pending[n]))
            for other in live:
                if other is not self._serial_node:
                    other.shutdown()
        busy = [n for n in self.node2pending if n not in self._apart_nodes]
        if len(busy) > 1 or self._serial_node not in self.node2pending:
            return  # another worker still runs (or holds) a parallel check
        serial = list(self._serial)
        if self._apart_nodes:
            # the checks that judge the whole run wait for the long waits too:
            # they read every finished worker's findings. The first of them
            # goes along, so that the worker runs its last serial check now
            # and holds that one (it runs an item only once the next has come,
            # or once it is shut down) until the others follow.
            before = [i for i in serial if i not in self._last_set]
            if not before:
                return
            serial = before + [i for i in serial if i in self._last_set][:1]
            self._holding = len(serial) > len(before)
        else:
            self._holding = False
        self._serial = [i for i in self._serial if i not in serial]
        self.node2pending[self._serial_node].extend(serial)
        self._serial_node.send_runtest_some(serial)
        if not self._serial and not self._holding:
            self._serial_node.shutdown()

    def remove_node(self, node: Any) -> str | None:
        if node is self._serial_node:
            self._serial_node = None
        self._apart_nodes.discard(node)
        crashed = super().remove_node(node)
        # a crashed worker's unrun serial items go back to the serial phase
        requeued = [i for i in self.pending if i in self._serial_set]
        if requeued:
            self.pending[:] = [i for i in self.pending if i not in self._serial_set]
            self._serial[:0] = requeued
        for other in list(self.node2pending):
            self.check_schedule(other)
        return crashed

    @property
    def _holds_a_last_check(self) -> bool:
        """The serial worker holds a runs_last check while long waits still run."""
        return self._holding and bool(self._apart_nodes)

    @property
    def tests_finished(self) -> bool:
        # xdist counts a worker holding one item as finished, and would shut it down
        return not self._serial and not self._holds_a_last_check and super().tests_finished

    @property
    def has_pending(self) -> bool:
        return bool(self._serial) or super().has_pending
