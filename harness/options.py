"""The plugin's command line: its options as data, the checks that turn a bad
value into one usage line, and what a remote target's options make of the
connection.

Every usage error of the plugin ends through `usage_error`: one line, exit 3.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Protocol

import pytest

from bsk_conformance.harness.clock import MODES
from bsk_conformance.harness.limits import (
    DEFAULT_CLEANUP_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RUN_TIMEOUT,
    DEFAULT_UNRESPONSIVE_AFTER,
)
from bsk_conformance.harness.profile import Profile, ProfileError, load_profile
from bsk_conformance.harness.state import Catalogue, RunOptions
from bsk_conformance.harness.transport import (
    KEY_PASSWORD_ENV,
    ConnectionOptions,
    ConnectionSetupError,
    check_proxy_url,
    merge_headers,
    parse_header_line,
    ssl_context,
)
from bsk_conformance.harness.verdicts import EXIT_USAGE


class ConnectionFlags(Protocol):
    """The flags that say how a remote target is reached (RunOptions has them)."""

    target: str | None
    proxy: str | None
    ca_bundle: str | None
    client_cert: str | None
    client_key: str | None
    target_header: list[str]


@dataclass(frozen=True)
class Option:
    """One `--flag` of the plugin, as `parser.addoption` takes it."""

    flag: str
    help: str
    metavar: str | None = None
    type: type | None = None
    default: object = None
    choices: tuple[str, ...] | None = None
    action: str | None = None  # "append" (repeatable: default ()) or "store_true"

    def declare(self, group: pytest.OptionGroup) -> None:
        given = {"metavar": self.metavar, "type": self.type, "choices": self.choices, "action": self.action}
        kwargs: dict[str, object] = {name: value for name, value in given.items() if value is not None}
        if self.action == "append":
            kwargs["default"] = []  # a fresh list each parse
        elif self.default is not None:
            kwargs["default"] = self.default
        group.addoption(self.flag, help=self.help, **kwargs)


OPTIONS: tuple[Option, ...] = (
    Option(
        "--target",
        "base URL of the BSK API under test (default: the bundled reference server, in-process)",
        metavar="URL",
    ),
    Option("--target-profile", "the target's profile (contract §7 TOML): environment and accounts", metavar="PATH"),
    Option(
        "--report-dir",
        "where the reports go (default: conformance-report/)",
        metavar="DIR",
        default="conformance-report",
    ),
    Option(
        "--har",
        "write every exchange with the target as HAR 1.2, redacted as the report is, to this file "
        "(default: conformance.har in the report directory)",
        metavar="FILE",
    ),
    Option(
        "--clock",
        "how time is moved: auto (default), control (/_test/clock), real (sleep within --real-time-budget), off",
        choices=MODES,
        default="auto",
    ),
    Option(
        "--real-time-budget",
        "the longest real waiting allowed in the whole run (default 0)",
        metavar="SECONDS",
        type=float,
        default=0.0,
    ),
    Option("--requirement", "run only the checks of this requirement; repeatable", metavar="ID", action="append"),
    Option("--list-requirements", "print the requirement catalogue with coverage, then exit", action="store_true"),
    Option(
        "--request-timeout",
        "the longest one exchange may take, connect to the last byte of the answer (default 10)",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
    ),
    Option(
        "--run-timeout",
        "the longest the whole run may take; checks not run by then are not verified (default 900)",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_RUN_TIMEOUT,
    ),
    Option(
        "--cleanup-timeout",
        "after SIGINT or SIGTERM, the longest the run may spend undoing what it changed on the target "
        "before it writes the reports; a second signal abandons the cleanup at once (default 30)",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_CLEANUP_TIMEOUT,
    ),
    Option(
        "--max-response-bytes",
        "the largest body read from the target, on the wire or decoded (default 10485760, 10 MB)",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
    ),
    Option(
        "--unresponsive-after",
        "after N timeouts in a row the target is judged unresponsive and the remaining checks "
        "are not run (default 3; 0: never)",
        metavar="N",
        type=int,
        default=DEFAULT_UNRESPONSIVE_AFTER,
    ),
    Option("--fuzz-examples", "schema-fuzzing examples per operation (default 10)", metavar="N", type=int, default=10),
    Option(
        "--model-examples",
        "drawn sequences of operations the model-based run tries after its opening tour (default 10)",
        metavar="N",
        type=int,
        default=10,
    ),
    Option("--model-steps", "operations per sequence of the model-based run (default 20)", metavar="N", type=int,
           default=20),
    Option(
        "--reference-factory",
        "build the in-process server with this app factory (settings, clock) -> ASGI app",
        metavar="MODULE:CALLABLE",
    ),
    # reaching a real target (harness/transport.py); all need --target
    Option(
        "--proxy",
        "reach the target through this proxy (http://, https:// or socks5://; user:password@ if it asks); "
        "default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as httpx and curl read them",
        metavar="URL",
    ),
    Option(
        "--ca-bundle",
        "trust only these CA certificates (PEM file or hashed directory) for the target's certificate: they "
        "replace the default trust, as curl --cacert does (default: SSL_CERT_FILE, SSL_CERT_DIR, else certifi's "
        "bundle). Verification is never turned off",
        metavar="PATH",
    ),
    Option("--client-cert", "present this client certificate (PEM, with its key unless --client-key)", metavar="CERT"),
    Option(
        "--client-key",
        f"the client certificate's private key (PEM; if encrypted, its password in {KEY_PASSWORD_ENV})",
        metavar="KEY",
    ),
    Option(
        "--target-header",
        "a header a gateway in front of the API wants, sent on every request to the target and to no other "
        "origin; repeatable; its value is redacted everywhere (Authorization, X-API-Key and Cookie are refused)",
        metavar="'NAME: VALUE'",
        action="append",
    ),
    Option(
        "--state-dir",
        "where the recovery journal of a remote target lives (default: $BSK_CONFORMANCE_STATE_DIR, else "
        ".bsk-conformance/ in the current directory)",
        metavar="DIR",
    ),
    # SHOULD failures fail the run with pytest's own --strict (pytest 9 owns the flag).
)

# the options that only make sense with --target (the in-process server is reached directly)
_REMOTE_ONLY = ("proxy", "ca_bundle", "client_cert", "client_key", "target_header")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("bsk-conformance", "BSK conformance harness")
    for option in OPTIONS:
        option.declare(group)


def usage_error(message: str) -> NoReturn:
    """End the run with one line and exit 3: the one way the plugin refuses its input."""
    pytest.exit(f"bsk-conformance: {message}", returncode=EXIT_USAGE)


def check_options(options: RunOptions, catalogue: Catalogue) -> None:
    """Every option on its own and against the others; a problem is a usage error."""
    if options.real_time_budget < 0:
        usage_error("--real-time-budget must be zero or more seconds")
    if options.request_timeout <= 0:
        usage_error("--request-timeout must be more than zero seconds")
    if options.run_timeout <= 0:
        usage_error("--run-timeout must be more than zero seconds")
    if options.cleanup_timeout <= 0:
        usage_error("--cleanup-timeout must be more than zero seconds")
    if options.max_response_bytes < 1024:
        usage_error("--max-response-bytes must be at least 1024")
    if options.unresponsive_after < 0:
        usage_error("--unresponsive-after must be zero (never) or more")
    if options.fuzz_examples < 1:
        usage_error("--fuzz-examples must be at least 1")
    if options.model_examples < 1 or options.model_steps < 1:
        usage_error("--model-examples and --model-steps must be at least 1")
    if options.target_profile and not options.target:
        usage_error(
            "--target-profile needs --target (without --target the bundled server and its own profile are used)"
        )
    if options.target and not options.target_profile:
        usage_error("--target needs --target-profile PATH (contract §7: environment and at least two accounts)")
    if options.target and not options.target.startswith(("http://", "https://")):
        usage_error(f"--target must be an http:// or https:// URL, got {options.target!r}")
    remote_only = ["--" + name.replace("_", "-") for name in _REMOTE_ONLY if getattr(options, name)]
    if remote_only and not options.target:
        usage_error(f"{', '.join(remote_only)}: only with --target (the in-process server is reached directly)")
    if options.target and options.reference_factory:
        usage_error("--reference-factory builds the in-process server; it cannot be used with --target")
    unknown = [rid for rid in options.requirement if rid not in catalogue]
    if unknown:
        usage_error(f"--requirement: unknown requirement ID(s) {', '.join(unknown)} (see --list-requirements)")


def har_path(options: RunOptions, invocation_dir: Path) -> Path | None:
    """Where --har writes, relative to where pytest was started; None without --har."""
    if not options.har:
        return None
    path = Path(options.har).expanduser()
    return path if path.is_absolute() else invocation_dir / path


def check_har_path(path: Path) -> None:
    """--har FILE must be a file the run can write, known before the first check
    runs: a run that cannot write its HAR would learn it only at the end."""
    if path.is_dir():
        usage_error(f"--har: {path} is a directory; give a file name, e.g. {path / 'conformance.har'}")
    parent = path.parent
    if not parent.exists():
        usage_error(f"--har: the directory {parent} does not exist")
    if not parent.is_dir():
        usage_error(f"--har: {parent} is not a directory")
    try:  # a real write, not os.access: root passes every access check, a read-only mount does not
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        usage_error(f"--har: cannot write in {parent}: {exc.strerror or exc}")


def remote_profile(options: RunOptions) -> Profile:
    """The --target-profile, read and checked once for the whole run."""
    try:
        return load_profile(Path(str(options.target_profile)))
    except ProfileError as exc:
        usage_error(str(exc))


def connection_options(options: RunOptions, profile_headers: tuple[tuple[str, str], ...]) -> ConnectionOptions:
    """--proxy, --ca-bundle, --client-cert/-key and --target-header, checked
    now (files loaded, headers parsed) so a mistake is one usage line."""
    try:
        return build_connection(options, profile_headers)
    except ConnectionSetupError as exc:
        usage_error(str(exc))


def build_connection(options: ConnectionFlags, profile_headers: tuple[tuple[str, str], ...]) -> ConnectionOptions:
    """The connection the flags describe, or ConnectionSetupError with one
    line (shared with `bsk-conformance cleanup`, which is not pytest)."""
    if options.client_key and not options.client_cert:
        raise ConnectionSetupError("--client-key needs --client-cert")
    tls_only = [
        flag for flag, given in (("--ca-bundle", options.ca_bundle), ("--client-cert", options.client_cert)) if given
    ]
    if tls_only and str(options.target).startswith("http://"):
        raise ConnectionSetupError(
            f"{', '.join(tls_only)}: the target is http://, so there is no TLS connection to apply it to"
        )
    if options.proxy:
        problem = check_proxy_url(options.proxy)
        if problem:
            raise ConnectionSetupError(problem)
    headers = tuple(parse_header_line(line) for line in options.target_header)
    connection = ConnectionOptions(
        proxy=options.proxy,
        ca_bundle=options.ca_bundle,
        client_cert=options.client_cert,
        client_key=options.client_key,
        headers=merge_headers(profile_headers, headers),
    )
    ssl_context(connection)
    return connection
