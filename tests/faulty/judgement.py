"""The detection judgement, one for the matrix and its CI test, in both legs.

- The honest server: nothing flagged, nothing in error, CONFORMANT.
- A faulty variant: every requirement it trips is flagged (failed, or warning
  for a SHOULD), and nothing outside its declared blast radius is flagged or
  in error. In the remote leg a tripped requirement that no remote run can
  show (catalogue `verifiable`) must come out not verified: never passed.
- A latitude variant: CONFORMANT, flagged on exactly the SHOULDs it declares.
  A declared warning that the catalogue still makes a MUST is reported as
  pending (the catalogue, not the variant, has to change), not as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bsk_conformance.harness.requirements import Catalogue, load_catalogue
from tests.faulty.latitude import Latitude
from tests.faulty.runner import Run
from tests.faulty.variant import Variant

Subject = Variant | Latitude | None


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


def shown_in(rid: str, leg: str) -> bool:
    """Whether a run in `leg` (against a test deployment) can show `rid` at all."""
    return catalogue()[rid].applies_to(in_process=leg == "in-process", environment="test")


@dataclass
class Outcome:
    """What one harness run made of one subject in one leg."""

    subject: Subject
    leg: str
    run: Run
    seconds: float

    @property
    def name(self) -> str:
        return self.subject.name if self.subject is not None else "(honest reference server)"

    @property
    def verdict(self) -> str:
        return self.run.result["verdict"] if self.run.result else f"no report (exit {self.run.exit_code})"

    @property
    def flagged(self) -> set[str]:
        return self.run.with_status("failed", "warning")

    @property
    def errored(self) -> set[str]:
        return self.run.with_status("error")

    @property
    def expected(self) -> set[str]:
        """What must be flagged: a faulty variant's trips this leg can show; a latitude's declared warnings."""
        if isinstance(self.subject, Variant):
            return {rid for rid in self.subject.trips if shown_in(rid, self.leg)}
        if isinstance(self.subject, Latitude):
            return set(self.subject.warns)
        return set()

    @property
    def unshowable(self) -> set[str]:
        """Trips this leg cannot show: they must come out not verified, never passed."""
        if isinstance(self.subject, Variant):
            return {rid for rid in self.subject.trips if not shown_in(rid, self.leg)}
        return set()

    @property
    def allowed(self) -> set[str]:
        if isinstance(self.subject, Variant):
            radius = set(self.subject.trips) | set(self.subject.blast)
            return radius | (set(self.subject.remote_blast) if self.leg == "remote" else set())
        return self.expected

    @property
    def missed(self) -> set[str]:
        return self.expected - self.flagged

    @property
    def passed_unshowable(self) -> set[str]:
        return self.unshowable & self.run.with_status("passed")

    @property
    def stray(self) -> set[str]:
        return (self.flagged | self.errored) - self.allowed

    @property
    def pending(self) -> set[str]:
        """A latitude's declared warnings that the catalogue makes MUSTs: they fail the run today."""
        if isinstance(self.subject, Latitude):
            return {rid for rid in self.subject.warns if catalogue()[rid].level == "MUST"}
        return set()

    def problems(self) -> list[str]:
        if self.run.result is None:
            return [f"no report (exit {self.run.exit_code})"]
        found = []
        if self.missed:
            found.append(f"not flagged: {', '.join(sorted(self.missed))}")
        if self.passed_unshowable:
            found.append(f"passed though this leg cannot show them: {', '.join(sorted(self.passed_unshowable))}")
        stray_flags = self.flagged - self.allowed
        if stray_flags:
            found.append(f"flagged outside the declared radius: {', '.join(sorted(stray_flags))}")
        stray_errors = self.errored - (self.allowed if isinstance(self.subject, Variant) else set())
        if stray_errors:
            found.append(f"in error: {', '.join(sorted(stray_errors))}")
        found += self._verdict_problems()
        return found

    def _verdict_problems(self) -> list[str]:
        verdict, code = self.run.result["verdict"], self.run.exit_code
        if verdict == "partial":
            # a variant's run selects its areas (-m): judged by the verdict of what ran
            verdict = self.run.result["completeness"]["verdictOfRun"]
        if isinstance(self.subject, Variant):
            if any(catalogue()[rid].is_must for rid in self.expected):
                return [] if verdict == "non-conformant" and code == 1 else [f"verdict {verdict} (exit {code})"]
            if self.expected and (self.run.result["summary"]["warning"] < 1 or verdict == "non-conformant"):
                return [f"a broken SHOULD should warn, not make the run {verdict}"]
            return []
        if self.pending:
            # the only MUST failures are the declared warnings the catalogue has not made SHOULDs yet
            musts = {rid for rid in self.run.with_status("failed") if catalogue()[rid].is_must}
            return [] if musts <= self.pending else [f"verdict {verdict} (exit {code})"]
        return [] if verdict == "conformant" and code == 0 else [f"verdict {verdict} (exit {code})"]

    @property
    def ok(self) -> bool:
        return not self.problems()
