"""A faulty variant: the reference server with exactly one rule broken.

Each variant swaps one part of the server (`reference_server.parts.Parts`)
and declares what a sound harness must make of it: the requirements it
`trips` (they must fail, or warn for a SHOULD), and the `blast` radius: other
requirements that may fail too, each with the reason, because they share the
broken mechanism (`remote_blast`: only when served remotely). Anything else
failing is a false positive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AppFactory = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Variant:
    name: str
    breaks: str  # the rule broken, in the contract's words
    trips: tuple[str, ...]
    factory: AppFactory
    blast: dict[str, str] = field(default_factory=dict)
    # run every suite for this variant, not only the areas it can affect
    full: bool = False
    # requirements that may fail too, only against the variant served remotely
    # (where the harness knows nothing but HTTP), each with the reason
    remote_blast: dict[str, str] = field(default_factory=dict)
    # also run the model-based run's checks (suites/test_model_run.py, marker model_run). They
    # judge requirements of many areas from one run, so by default a variant's run leaves them
    # out and its declared radius stays the fixed checks'; `python -m tests.faulty.matrix
    # --model-only` runs them alone
    model_run: bool = False

    def __post_init__(self) -> None:
        if not self.trips:
            raise ValueError(f"variant {self.name} trips nothing")
        overlap = set(self.trips) & (set(self.blast) | set(self.remote_blast))
        if overlap:
            raise ValueError(f"variant {self.name}: {sorted(overlap)} both tripped and in the blast radius")


def swap(part: str, make: Callable[[Any], Any]) -> AppFactory:
    """An app factory for the honest server with one part replaced.

    `make(parts)` builds the replacement from the honest parts (so it shares
    their store and clock)."""

    def factory(settings: Any, clock: Any) -> Any:
        from dataclasses import replace

        from bsk_conformance.reference_server import create_app
        from bsk_conformance.reference_server.parts import Parts

        parts = Parts.build(settings, clock)
        return create_app(parts=replace(parts, **{part: make(parts)}))

    return factory
