"""``bsk-conformance``: baseline diffs, certification bundles and matrices of conformance.json files.

    bsk-conformance diff OLD.json NEW.json [--json]   exit 1 on a regression
    bsk-conformance validate conformance.json          exit 0 if it is schema v1
    bsk-conformance render conformance.json [--report-dir DIR]
    bsk-conformance schema                             print the JSON Schema's path
    bsk-conformance keygen [-o STEM]                   write STEM.key and STEM.pub (Ed25519)
    bsk-conformance bundle REPORT_DIR -o cert.zip [--sign-key KEY]
    bsk-conformance verify cert.zip [--public-key PUB] exit 1 when it does not verify
    bsk-conformance matrix A.json B.json ... -o matrix.html [--json matrix.json]
    bsk-conformance cleanup --target URL --target-profile P   undo what an interrupted run left
                                                       (harness/journal_cli.py: bsk_conformance/console.py
                                                       sends it there, so this package never imports the harness)

Unreadable or invalid input exits 2 (diff, validate, render) or 3 (keygen,
bundle, verify, matrix: the harness's own code for unusable input) with one
line on stderr, never a traceback, so a CI log says what is wrong with which file.
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
#: keygen, bundle, verify and matrix: the input cannot be used (as the harness's exit 3)
EXIT_UNUSABLE = 3

PROG = "bsk-conformance"


class _InputError(Exception):
    """A file the user named could not be used; the message names it."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _unusable(message: str) -> _InputError:
    return _InputError(message, EXIT_UNUSABLE)


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


def _cmd_keygen(args: argparse.Namespace) -> int:
    from .signing import KeyProblem, write_key_pair

    private, public = Path(f"{args.output}.key"), Path(f"{args.output}.pub")
    try:
        key_id = write_key_pair(private, public)
    except KeyProblem as exc:
        raise _unusable(str(exc)) from None
    print(f"private key: {private} (keep it secret; mode 0600)")
    print(f"public key:  {public} (publish it; buyers verify with it)")
    print(f"key ID:      {key_id}")
    return EXIT_OK


def _cmd_bundle(args: argparse.Namespace) -> int:
    from .bundle import BundleError, make_bundle
    from .signing import KeyProblem, load_private_key

    try:
        key = load_private_key(args.sign_key) if args.sign_key is not None else None
        made = make_bundle(args.report_dir, args.output, sign_key=key)
    except (KeyProblem, BundleError) as exc:
        raise _unusable(str(exc)) from None
    sealed = ", ".join(entry["name"] for entry in made.manifest["members"])
    signed = f"signed with key {made.key_id}" if made.key_id else "UNSIGNED (hash-sealed only; give --sign-key to sign)"
    print(f"{made.path}: {made.manifest['verdict']}, {sealed} sealed, {signed}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from .archive import UnusableArchive
    from .signing import KeyProblem, load_public_key
    from .verify import Unverifiable, format_lines, verify_bundle

    try:
        key = load_public_key(args.public_key) if args.public_key is not None else None
        found = verify_bundle(args.bundle, public_key=key, key_name=str(args.public_key))
    except (KeyProblem, UnusableArchive, Unverifiable) as exc:
        raise _unusable(str(exc)) from None
    print("\n".join(format_lines(str(args.bundle), found)))
    return EXIT_OK if found.ok else EXIT_REGRESSION


def _cmd_matrix(args: argparse.Namespace) -> int:
    from . import matrix

    entries = []
    for spec in args.reports:
        name, path = matrix.parse_spec(spec)
        try:
            entries.append(matrix.Entry(name, path, _load(path)))
        except _InputError as exc:
            raise _unusable(str(exc)) from None
    json_path = args.json if args.json is not None else args.output.with_suffix(".json")
    try:
        written = matrix.write_matrix(entries, args.output, json_path)
    except matrix.MatrixError as exc:
        raise _unusable(str(exc)) from None
    for kind, path in written.items():
        print(f"{kind}: {path}")
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

    p = sub.add_parser("keygen", help="write an Ed25519 key pair for signing bundles")
    p.add_argument(
        "-o",
        "--output",
        default="bsk-signing",
        metavar="STEM",
        help="write STEM.key and STEM.pub (default: bsk-signing)",
    )
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser("bundle", help="pack a run's reports into a hash-sealed (optionally signed) zip")
    p.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="the run's --report-dir")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="cert.zip")
    p.add_argument("--sign-key", type=Path, metavar="KEY", help="sign the manifest with this Ed25519 private key")
    p.set_defaults(func=_cmd_bundle)

    p = sub.add_parser("verify", help="check a bundle: hashes, signature, schema, recomputed verdict; exit 1 if not")
    p.add_argument("bundle", type=Path, metavar="cert.zip")
    p.add_argument(
        "--public-key", type=Path, metavar="PUB", help="the signer's public key: without it a signature is not checked"
    )
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("matrix", help="one page comparing several runs: requirements by implementations")
    p.add_argument(
        "reports", nargs="+", metavar="[NAME=]conformance.json", help="the runs, in column order; NAME labels a column"
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="matrix.html")
    p.add_argument("--json", type=Path, default=None, metavar="matrix.json", help="the JSON twin (default: beside -o)")
    p.set_defaults(func=_cmd_matrix)

    # listed for --help; the `bsk-conformance` command runs it in the harness (bsk_conformance/console.py)
    p = sub.add_parser(
        "cleanup",
        help="undo what an interrupted run left on a target (its recovery journal); see cleanup --help",
        add_help=False,
    )
    p.set_defaults(func=_cmd_cleanup)
    return parser


def _cmd_cleanup(args: argparse.Namespace) -> int:
    raise _unusable("cleanup is run by the bsk-conformance command, which has the harness")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bsk-conformance`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into `head`: not an error of ours.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
