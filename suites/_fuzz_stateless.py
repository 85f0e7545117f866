"""The stateless run: every contract operation of the document, valid and
invalid inputs, each with every kind of credential the operation takes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok

from bsk_conformance.harness.api import EvidenceLog, Exchange, describe

from ._fuzz_document import CONTRACT_OPERATIONS, operation_key
from ._fuzz_judging import Judged, judge
from ._fuzz_settings import generation_settings, load_schema
from ._fuzzer import Fuzzer


@dataclass
class StatelessRun:
    source: str
    examples: int
    judged: list[Judged]
    exchanges: list[Exchange]
    operations: int

    def attach(self, evidence: EvidenceLog) -> None:
        """Add this run's exchanges, recorded (and redacted) once, to the
        evidence of the check that is running. The harness records into the
        check that sends; three checks judging one shared run need this."""
        evidence.attach(self.exchanges)

    def failures(self, check: str) -> list[Judged]:
        return [j for j in self.judged if check in j.failures]

    def context(self) -> str:
        statuses = Counter(j.status for j in self.judged)
        spread = ", ".join(f"{count}×{status}" for status, count in sorted(statuses.items()))
        return (
            f"schema fuzzing with {self.source}: {len(self.judged)} generated requests over "
            f"{self.operations} operations (up to {self.examples} valid and {self.examples} invalid each; "
            f"answers {spread})"
        )


def run_stateless(fuzzer: Fuzzer, document: dict[str, Any], examples: int) -> tuple[list[Judged], int]:
    """Every contract operation of `document`, `examples` valid and `examples`
    invalid inputs each; the judged exchanges and how many operations."""
    schema = load_schema(document)
    judged: list[Judged] = []
    operations = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            continue  # an operation the document describes too badly to generate for
        operation = result.ok()
        if operation_key(operation.method, operation.path) not in CONTRACT_OPERATIONS:
            continue
        operations += 1
        secured = operation.definition.raw.get("security", document.get("security")) not in (None, [])
        kinds = sorted(fuzzer.credentials) if secured else ["no credentials"]
        modes = [schemathesis.GenerationMode.POSITIVE]
        if _can_be_invalid(operation):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            _run_operation(fuzzer, operation, mode, kinds, examples, judged)
    return judged, operations


def _can_be_invalid(operation) -> bool:
    """Whether schemathesis can make an invalid input for it: a body, or a
    parameter other than a string in the path (which stays a string whatever
    is generated). Asking anyway costs a fruitless search per operation."""
    if list(operation.body):
        return True
    for parameter in operation.iter_parameters():
        kind = (parameter.definition.get("schema") or {}).get("type", "string")
        if str(getattr(parameter.location, "value", parameter.location)) != "path" or kind != "string":
            return True
    return False


def _run_operation(fuzzer: Fuzzer, operation, mode, kinds: list[str], examples: int, judged: list[Judged]) -> None:
    mode_name = "valid" if mode is schemathesis.GenerationMode.POSITIVE else "invalid"

    @generation_settings(examples)
    @given(case=operation.as_strategy(generation_mode=mode), kind=st.sampled_from(kinds))
    def run(case, kind: str) -> None:
        how = f"{mode_name} input, {kind}"
        response = fuzzer.send(case, fuzzer.credentials[kind], f"schema fuzzing: {operation.label} ({how})")
        judged.append(Judged(operation.label, how, response.status_code, describe(response), judge(case, response)))

    try:
        run()
    except Unsatisfiable:
        pass  # nothing of this operation can be made invalid (no parameters, no body)
