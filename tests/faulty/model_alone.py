"""What the model-based run catches on its own: each faulty variant run with
only the model's checks (`-m model_run`, suites/test_model_run.py), the
fixed checks switched off. The matrix's `--model-only` mode renders it as the
section "What the model run catches alone".

Not a detection judgement: the model judges only some requirements, and a
divergence ends the chapter or sequence it was found in, so a variant it
does not catch alone is no miss (the fixed checks catch it). What must hold:
nothing outside the variant's declared radius is flagged (a model that fails
a variant for what it does not break fails correct servers too), and the
honest server gives no flag at all.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from tests.faulty.judgement import Outcome, catalogue
from tests.faulty.variant import Variant

ROOT = Path(__file__).resolve().parents[2]
MODEL_CHECKS = "suites/test_model_run.py::"


@cache
def model_judged() -> frozenset[str]:
    """The requirements the model-based run has a check of (fixtures/check-index.json)."""
    index = json.loads((ROOT / "fixtures" / "check-index.json").read_text(encoding="utf-8"))
    return frozenset(rid for rid, checks in index["checks"].items()
                     if any(check.startswith(MODEL_CHECKS) for check in checks))


def in_reach(variant: Variant) -> set[str]:
    """The requirements the variant trips that the model judges."""
    return set(variant.trips) & model_judged()


def caught(outcome: Outcome) -> set[str]:
    """The tripped requirements the model's checks flagged on their own."""
    return outcome.flagged & set(outcome.subject.trips) if isinstance(outcome.subject, Variant) else set()


def problems(outcome: Outcome) -> list[str]:
    """What must not happen in a model-only run: no report, or a flag or error outside the radius."""
    if outcome.run.result is None:
        return [f"no report (exit {outcome.run.exit_code})"]
    allowed = outcome.allowed if isinstance(outcome.subject, Variant) else set()
    stray = (outcome.flagged | outcome.errored) - allowed
    return [f"flagged or in error outside the declared radius: {', '.join(sorted(stray))}"] if stray else []


def area_of(variant: Variant) -> str:
    return catalogue()[variant.trips[0]].area


def render(outcomes: list[Outcome], legs: tuple[str, ...]) -> str:
    """The section, per area (the class of rule broken): for each variant whose trips the model
    judges, which of them the model's checks flagged alone, in each leg."""
    by = {(o.name, o.leg): o for o in outcomes}
    variants = sorted({o.subject.name: o.subject for o in outcomes if isinstance(o.subject, Variant)}.values(),
                      key=lambda v: (area_of(v), v.name))
    reach = [v for v in variants if in_reach(v)]
    lines = [
        "## What the model run catches alone",
        "",
        "Each faulty variant run with only the model-based run's checks (`-m model_run`: the opening tour and",
        "the drawn sequences of suites/test_model_run.py), the fixed checks switched off:",
        "`python -m tests.faulty.matrix --model-only`. Listed: the variants that trip a requirement the model",
        f"judges ({len(model_judged())} requirements have a model check); *caught* is what it flagged of those",
        "alone. A variant it does not catch alone is no miss: the fixed checks catch it (see above).",
        "",
    ]
    columns = ["area", "variant", "tripped, judged by the model", *(f"{leg}: caught alone" for leg in legs), "ok"]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for variant in reach:
        cells, wrong = [], []
        for leg in legs:
            o = by.get((variant.name, leg))
            if o is None:
                cells.append("not run")
                continue
            cells.append(", ".join(sorted(caught(o))) or "—")
            wrong += [f"{leg}: {p}" for p in problems(o)]
        lines.append(f"| {area_of(variant)} | `{variant.name}` | {', '.join(sorted(in_reach(variant)))} | "
                     f"{' | '.join(cells)} | {'yes' if not wrong else '**NO** (' + '; '.join(wrong) + ')'} |")
    lines += ["", "| leg | variants in reach caught alone | tripped requirements in reach caught alone |",
              "|---|---|---|"]
    for leg in legs:
        rows = [by[(v.name, leg)] for v in reach if (v.name, leg) in by]
        hit = sum(bool(caught(o)) for o in rows)
        ids = sum(len(caught(o)) for o in rows)
        total = sum(len(in_reach(o.subject)) for o in rows)
        lines.append(f"| {leg} | {hit}/{len(rows)} | {ids}/{total} |")
    honest = [o for o in outcomes if o.subject is None]
    for o in honest:
        lines.append("")
        lines.append(f"The honest server, {o.leg}: {'nothing flagged' if not problems(o) else '; '.join(problems(o))}.")
    return "\n".join(lines) + "\n"
