"""``bsk-conformance``: baseline diffs and other work on conformance.json files.

    bsk-conformance diff OLD.json NEW.json [--json]   exit 1 on a regression
    bsk-conformance validate conformance.json          exit 0 if it is schema v1
    bsk-conformance render conformance.json [--report-dir DIR]
    bsk-conformance schema                             print the JSON Schema's path

Unreadable or invalid input exits 2 with one line on stderr, never a traceback,
so a CI log says what is wrong with which file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import diff as diff_mod
from .json_report import InvalidResult, load, schema_path

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2

PROG = "bsk-conformance"


class _InputError(Exception):
    """A file the user named could not be used; the message names it."""


def _load(path: Path) -> dict[str, Any]:
    try:
        return load(path)
    except FileNotFoundError:
        raise _InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise _InputError(f"{path}: is a directory, not a conformance.json file") from None
    except OSError as exc:
        raise _InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise _InputError(f"{path}: not UTF-8 text, so not a conformance.json file") from None
    except InvalidResult as exc:
        raise _InputError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise _InputError(f"{path}: {exc}") from None


def _cmd_diff(args: argparse.Namespace) -> int:
    old, new = _load(args.old), _load(args.new)
    result = diff_mod.compare(old, new)
    if args.json:
        print(diff_mod.format_json(result, str(args.old), str(args.new)))
    else:
        print("\n".join(diff_mod.format_text(result, str(args.old), str(args.new))))
    return EXIT_REGRESSION if result.has_regressions else EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    data = _load(args.file)
    print(f"{args.file}: valid conformance.json (schema v1), verdict {data['verdict']}")
    return EXIT_OK


def _cmd_render(args: argparse.Namespace) -> int:
    from . import write_reports

    data = _load(args.file)
    out_dir = args.report_dir if args.report_dir is not None else args.file.parent
    paths = write_reports(data, out_dir)
    for kind in ("html", "json", "junit"):
        print(f"{kind}: {paths[kind]}")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    print(schema_path())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Work with BSK conformance reports (conformance.json, schema v1)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "diff",
        help="compare two runs; exit 1 on a regression",
        description=diff_mod.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("old", type=Path, metavar="OLD.json", help="the baseline run")
    p.add_argument("new", type=Path, metavar="NEW.json", help="the run to judge")
    p.add_argument("--json", action="store_true", help="print the diff as JSON for machines")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("validate", help="check a conformance.json against the shipped schema")
    p.add_argument("file", type=Path, metavar="conformance.json")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("render", help="write the HTML and JUnit reports again from a conformance.json")
    p.add_argument("file", type=Path, metavar="conformance.json")
    p.add_argument("--report-dir", type=Path, default=None, help="where to write (default: beside the file)")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("schema", help="print the path of the JSON Schema for conformance.json v1")
    p.set_defaults(func=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bsk-conformance`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # Output piped into `head`: not an error of ours.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
