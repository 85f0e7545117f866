"""The names pytest's terminal shows for checks: `suites/<module>::<check>`,
the name the reports use, whatever rootdir pytest chose; with `-v` (and in
`--collect-only -q`) followed by the requirement, `[BSK-KEY-001]`.

pytest shows a nodeid relative to the directory it was started from, through
`Config.cwd_relative_nodeid` (the progress lines, `-v`, the short summary).
Its rootdir is chosen before the plugin's options are known, so a separate
value (`--target-profile /some/dir/profile.toml`) moves it, and a check would
be named `../../some/dir/test_api_keys.py::...`. Only the shown name changes
here: nodeids themselves stay pytest's, so `--lf`, `--sw` and xdist's
scheduling are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest



class CheckNames:
    """Shows checks by their report names. A check's name and requirement are
    learnt from collection (a process that collects) or from its reports (the
    xdist controller, which collects nothing); a nodeid alone cannot say where
    its file is once pytest's rootdir has moved."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._pytest_relative: Callable[[Any], Any] = config.cwd_relative_nodeid
        self._checks: dict[str, tuple[str, str]] = {}  # nodeid -> (report name, requirement ID)

    def install(self) -> None:
        # an instance attribute shadows the method for this run's config only
        self._config.cwd_relative_nodeid = self.shown  # type: ignore[method-assign]

    def learn(self, nodeid: str, name: str, requirement: str) -> None:
        self._checks.setdefault(nodeid, (name, requirement))

    def knows(self, nodeid: str) -> bool:
        return nodeid in self._checks

    def shown(self, nodeid: Any) -> Any:
        """pytest's cwd-relative nodeid, or the check's report name; the same
        type back (pytest 9's NodeId, or a str in earlier pytest)."""
        text = self.name(str(nodeid), with_requirement=self._config.get_verbosity() > 0)
        if text is None:
            return self._pytest_relative(nodeid)
        if isinstance(nodeid, str):
            return text
        return type(nodeid).parse(text)

    def name(self, nodeid: str, *, with_requirement: bool) -> str | None:
        """`suites/<module>::<check>` (and ` [ID]`) for a check, else None."""
        if nodeid not in self._checks:
            return None
        name, requirement = self._checks[nodeid]
        return f"{name} [{requirement}]" if with_requirement else name


def listing(names: CheckNames, items: list[pytest.Item]) -> list[str]:
    """`--collect-only -q`: one line per check, its report name and requirement."""
    return [names.name(item.nodeid, with_requirement=True) or item.nodeid for item in items]
