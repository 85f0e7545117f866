"""The ``bsk-conformance`` command: the report tools (reports/cli.py), and
``cleanup``, which needs the harness (harness/journal_cli.py).

The report package must never import the harness (a buyer verifies a bundle
with the reports alone), so the one command is split here, above both:
``cleanup`` goes to the harness, everything else (``--help`` included, which
lists ``cleanup`` too) to the reports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["cleanup"]:
        from bsk_conformance.harness.journal_cli import main as cleanup

        return cleanup(args[1:])
    from bsk_conformance.reports.cli import main as reports

    return reports(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
