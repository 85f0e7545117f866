"""``bsk-conformance cleanup``: undo, on demand, what an interrupted run left
on a target, from its recovery journal (harness/journal.py).

    bsk-conformance cleanup --target URL --target-profile PROFILE [--state-dir DIR]
        [--clock auto|control|real] [--request-timeout S] [--proxy URL] [--ca-bundle PATH]
        [--client-cert CERT] [--client-key KEY] [--target-header 'Name: value']

The same as a run's preflight does before its checks: entries of runs still
alive are left alone. Exit 0 when everything listed was undone (or nothing
was listed), 1 when something could not be undone (it stays listed), 3 for a
usage, profile or journal problem: one line each, never a traceback.

It lives in the harness (it needs the target's client and the 2FA flows) and
is reached through `bsk_conformance.console`, so that the report package
never imports the harness.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.journal import STATE_DIR_ENV, Journal, JournalError, state_dir
from bsk_conformance.harness.limits import DEFAULT_REQUEST_TIMEOUT, Limits
from bsk_conformance.harness.options import build_connection
from bsk_conformance.harness.profile import ProfileError, load_profile
from bsk_conformance.harness.recovery import PREFIX, recover, recovery_clock
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.transport import ConnectionSetupError
from bsk_conformance.harness.verdicts import EXIT_USAGE

EXIT_CLEAN = 0
EXIT_LEFT = 1


class _Usage(Exception):
    """One line for stderr, exit 3."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bsk-conformance cleanup",
        description="Undo what an interrupted run left on a target (API keys, projects, 2FA), "
        "as listed in its recovery journal.",
    )
    parser.add_argument("--target", required=True, metavar="URL", help="the target's base URL, as the run had it")
    parser.add_argument("--target-profile", required=True, metavar="PATH", help="the run's profile (contract §7)")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help=f"where the journal lives (default: ${STATE_DIR_ENV}, else .bsk-conformance/ here)",
    )
    parser.add_argument(
        "--clock",
        choices=("auto", "control", "real"),
        default="auto",
        help="for turning 2FA off: the target's /_test/clock if it has one (auto), "
        "or real waiting (at most three 30 s TOTP steps)",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT, metavar="SECONDS", help="per exchange"
    )
    parser.add_argument("--proxy", metavar="URL")
    parser.add_argument("--ca-bundle", metavar="PATH")
    parser.add_argument("--client-cert", metavar="CERT")
    parser.add_argument("--client-key", metavar="KEY")
    parser.add_argument("--target-header", action="append", default=[], metavar="'NAME: VALUE'")
    return parser


def _open(args: argparse.Namespace) -> tuple[Target, Journal]:
    if not args.target.startswith(("http://", "https://")):
        raise _Usage(f"--target must be an http:// or https:// URL, got {args.target!r}")
    if args.request_timeout <= 0:
        raise _Usage("--request-timeout must be more than zero seconds")
    try:
        profile = load_profile(Path(args.target_profile))
        connection = build_connection(args, profile.headers)
    except (ProfileError, ConnectionSetupError) as exc:
        raise _Usage(str(exc).replace("\n", "; ")) from None
    directory = state_dir(args.state_dir, os.environ, Path.cwd())
    journal = Journal(directory, args.target, [a.email for a in profile.accounts])
    evidence = EvidenceLog(Redactor())
    limits = Limits(request_timeout=args.request_timeout)
    target = Target(
        args.target, profile, evidence, timeout=args.request_timeout, connection=connection, limits=limits
    )
    return target, journal


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        target, journal = _open(args)
        try:
            journal.check()
            recovery = recover(target, journal, lambda: recovery_clock(target, args.clock))
        finally:
            target.close()
            journal.close()
    except (_Usage, JournalError) as exc:
        print(f"{PREFIX} error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except httpx.HTTPError as exc:  # the journal could not even be read against the target
        print(f"{PREFIX} error: {args.target} did not answer ({type(exc).__name__})", file=sys.stderr)
        return EXIT_LEFT
    lines = recovery.lines(journal) or [f"{PREFIX} nothing to clean up for {journal.target} (journal {journal.path})"]
    print("\n".join(target.evidence.redactor.text(line) for line in lines))
    return EXIT_CLEAN if recovery.ok else EXIT_LEFT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
