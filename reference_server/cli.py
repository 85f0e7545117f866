"""``bsk-reference-server``: run the reference server from the command line."""

from __future__ import annotations

import argparse
import importlib.resources
import os
import socket
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import uvicorn

from .app import create_app
from .settings import Settings

PROG = "bsk-reference-server"


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0..65535: {port}")
    return port


def _database(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a directory, not a database file: {text}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory does not exist: {path.parent}")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="Run the BSK reference server, an honest implementation of the authentication contract.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="TCP port, 0 for any free one (default: 8000)")
    parser.add_argument(
        "--environment", choices=("test", "live"), default="test",
        help="test: bsk_test_ keys and /_test/clock; live: bsk_live_ keys, no clock control (default: test)",
    )
    parser.add_argument(
        "--database", type=_database, metavar="PATH",
        help="SQLite file that keeps keys, revocations, 2FA state and sessions across restarts "
        "(default: in memory)",
    )
    return parser


def profile_path() -> str:
    """Where the target profile matching the bundled accounts is."""
    return str(importlib.resources.files("bsk_conformance.fixtures").joinpath("reference-profile.toml"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings(environment=args.environment, database=args.database)

    try:
        sock = socket.create_server((args.host, args.port), backlog=128)
        # create_server() makes a proto-0 socket, on which asyncio never sets
        # TCP_NODELAY; accepted sockets inherit it from the listener (Linux), and
        # without it every answer stalls ~40 ms (Nagle vs the client's delayed ACK)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, OverflowError) as exc:
        # create_server() appends the address to strerror; name the cause only.
        reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc)
        print(f"{PROG}: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    try:
        # Test: a ticking clock that POST /_test/clock can move; live: system time.
        app = create_app(settings)
    except sqlite3.DatabaseError as exc:
        sock.close()
        print(f"{PROG}: cannot use database {args.database}: {exc}", file=sys.stderr)
        return 1

    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"BSK reference server listening on http://{shown_host}:{port}", flush=True)
    print(f"  environment: {settings.environment} (API keys start with {settings.key_prefix}; "
          f"/_test/clock {'on' if settings.mounts_clock_routes else 'off'})", flush=True)
    print(f"  database:    {args.database or 'in memory (gone when the server stops)'}", flush=True)
    note = "" if settings.environment == "test" else '  (says environment = "test": use a copy saying "live")'
    print(f"  profile:     {profile_path()}{note}", flush=True)

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
