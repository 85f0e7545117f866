"""The recovery journal: what a run must undo on a remote target, on disk
before the request that makes it necessary is sent.

One JSON file per target and account set in the state directory (default
`.bsk-conformance/`), so that a run killed by SIGKILL or a power cut leaves a
record the next run (or `bsk-conformance cleanup`) can undo. It holds account
emails, the target URL, key and project ids or names, and the TOTP secret of
an account whose 2FA the harness turned on (only that secret can turn it off
again); never a password, a token or an API key.

Several processes write one journal at once (xdist workers, overlapping
runs): every read-modify-write holds an `flock` on the state directory, and
each entry names its owner, a per-process run id whose lock file the owner
holds `flock`ed for its life. The kernel releases that lock when the process
dies, however it dies, so "owner dead" is exactly "its lock file can be
locked": only then are its entries recovered.

Files are written atomically (a temporary file in the same directory,
`os.replace`; a new entry is fsync'ed, file and directory, before its
request goes out), mode 0600, in a directory of mode 0700.
A file that is not JSON, or not a journal of this format, target and account
set, is an error naming it (`JournalError`), and is never deleted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bsk_conformance.harness.timestamps import format_rfc3339

FORMAT = "bsk-conformance-journal"
VERSION = 1
DEFAULT_STATE_DIR = ".bsk-conformance"
STATE_DIR_ENV = "BSK_CONFORMANCE_STATE_DIR"
# what an entry undoes: an API key, a project, 2FA turned on
KINDS = ("api-key", "project", "two-factor")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class JournalError(Exception):
    """The journal cannot be used; the message is one line naming the file."""


def state_dir(option: str | None, environ: Mapping[str, str], invocation_dir: Path) -> Path:
    """Where journals live: --state-dir, else $BSK_CONFORMANCE_STATE_DIR, else
    `.bsk-conformance/` in the directory the harness was started from."""
    chosen = option or environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR
    path = Path(chosen).expanduser()
    return path if path.is_absolute() else invocation_dir / path


def normalise_target(url: str) -> str:
    """The target URL as one spelling: scheme and host lower case, the
    default port and a trailing slash dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def normalise_accounts(emails: Iterable[str]) -> list[str]:
    return sorted({email.strip().lower() for email in emails})


def journal_name(target_url: str, emails: Iterable[str]) -> str:
    """The file name of the journal of a target and account set."""
    identity = json.dumps([normalise_target(target_url), normalise_accounts(emails)])
    return f"journal-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.json"


class Journal:
    """One target's journal, as one process reads and writes it.

    `owner` is this process's run id; entries it adds carry it. Entries of
    other owners are only ever touched by `adopt_orphans`, and only when
    their owner is dead."""

    def __init__(self, directory: Path, target_url: str, emails: Iterable[str]) -> None:
        self.directory = directory
        self.target = normalise_target(target_url)
        self.accounts = normalise_accounts(emails)
        self.path = directory / journal_name(target_url, emails)
        self.owner = secrets.token_hex(8)
        self._owner_fd: int | None = None
        self._mutex = threading.Lock()

    # -- reading ------------------------------------------------------------

    def check(self) -> None:
        """Raise JournalError when the file is there but unusable."""
        with self._locked(create=False) as present:
            if present:
                self._read()

    def entries(self) -> list[dict[str, Any]]:
        with self._locked(create=False) as present:
            return self._read()["entries"] if present else []

    # -- this owner's entries -----------------------------------------------

    def add(self, kind: str, account: str | None, **fields: Any) -> str:
        """Record an entry before the request it is for is sent; its id."""
        entry = {
            "id": secrets.token_hex(6),
            "kind": kind,
            "account": account,
            "owner": self.owner,
            "pid": os.getpid(),
            "recordedAt": format_rfc3339(time.time()),
            **fields,
        }
        with self._locked(create=True):
            self._hold_owner_lock()
            document = self._read()
            document["entries"].append(entry)
            self._write(document, durable=True)
        return entry["id"]

    def update(self, entry_id: str, **fields: Any) -> None:
        with self._locked(create=True):
            document = self._read()
            for entry in document["entries"]:
                if entry["id"] == entry_id:
                    entry.update(fields)
            self._write(document)

    def remove(self, entry_id: str) -> None:
        with self._locked(create=False) as present:
            if not present:
                return
            document = self._read()
            kept = [entry for entry in document["entries"] if entry["id"] != entry_id]
            if len(kept) != len(document["entries"]):
                document["entries"] = kept
                self._write(document)

    def own_entries(self) -> list[dict[str, Any]]:
        """This process's entries still listed: what it has not undone yet."""
        return [dict(entry) for entry in self.entries() if entry["owner"] == self.owner]

    def adopt_orphans(self) -> tuple[list[dict[str, Any]], int]:
        """Take over the entries whose owner is dead (they are this process's
        to undo now, and a concurrent recoverer leaves them alone); returns
        them and how many entries belong to owners still alive."""
        with self._locked(create=False) as present:
            if not present or not self.path.exists():
                return [], 0
            document = self._read()
            owners = {entry["owner"] for entry in document["entries"] if entry["owner"] != self.owner}
            alive = {owner for owner in owners if self._alive(owner)}
            orphans = [e for e in document["entries"] if e["owner"] not in alive and e["owner"] != self.owner]
            if orphans:
                self._hold_owner_lock()
                for entry in orphans:
                    entry["owner"] = self.owner
                    entry["pid"] = os.getpid()
                self._write(document)
            live = sum(1 for entry in document["entries"] if entry["owner"] in alive)
            return [dict(entry) for entry in orphans], live

    def close(self) -> None:
        """Give up this process's owner lock; entries left are recovered by the next run."""
        with self._mutex:
            if self._owner_fd is None:
                return
            try:
                self._owner_lock_path(self.owner).unlink(missing_ok=True)
            except OSError:
                pass
            os.close(self._owner_fd)
            self._owner_fd = None

    # -- the file -----------------------------------------------------------

    @contextmanager
    def _locked(self, *, create: bool) -> Iterator[bool]:
        """Hold the state directory's flock (and this process's mutex);
        yields whether the directory exists."""
        with self._mutex:
            if create:
                self._make_directory()
            elif not self.directory.is_dir():
                yield False
                return
            try:
                fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise JournalError(f"{self.directory}: cannot open the state directory ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield True
            finally:
                os.close(fd)  # releases the flock

    def _make_directory(self) -> None:
        if self.directory.is_dir():
            return
        try:
            self.directory.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(self.directory, 0o700)  # the umask may have taken bits mkdir was given
        except OSError as exc:
            raise JournalError(f"{self.directory}: cannot create the state directory ({exc.strerror})") from None

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {
                "format": FORMAT,
                "version": VERSION,
                "target": self.target,
                "accounts": self.accounts,
                "entries": [],
            }
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the recovery journal ({exc.strerror})") from None
        try:
            document = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise JournalError(
                f"{self.path}: the recovery journal is not valid JSON ({_first_line(exc)}); it was left as it is: "
                "repair or move it, then run again"
            ) from None
        problem = _problem(document, self.target, self.accounts)
        if problem:
            raise JournalError(f"{self.path}: {problem}; it was left as it is: repair or move it, then run again")
        return document

    def _write(self, document: dict[str, Any], *, durable: bool = False) -> None:
        """Replace the file at once (or remove it when nothing is left to undo).

        Only a new entry is `durable` (fsync'ed, file and directory, before
        its request is sent). Losing any other change to a power cut is
        harmless: an id not filled in is found by name, an undone entry is
        answered 404 ("already gone"), an adoption reverts to a dead owner."""
        try:
            if not document["entries"]:
                self.path.unlink(missing_ok=True)
            else:
                fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".journal-", suffix=".tmp")
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as out:
                        json.dump(document, out, indent=1)
                        out.flush()
                        if durable:
                            os.fsync(out.fileno())
                    os.replace(temporary, self.path)
                except BaseException:
                    Path(temporary).unlink(missing_ok=True)
                    raise
            if durable:
                _fsync_directory(self.directory)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot write the recovery journal ({exc.strerror})") from None

    # -- owners -------------------------------------------------------------

    def _owner_lock_path(self, owner: str) -> Path:
        return self.directory / f"run-{owner}.lock"

    def _hold_owner_lock(self) -> None:
        """Take this process's owner lock, under the directory lock, before its
        first entry: a checker never sees the lock file without the lock."""
        if self._owner_fd is not None:
            return
        fd = os.open(self._owner_lock_path(self.owner), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._owner_fd = fd

    def _alive(self, owner: str) -> bool:
        """Whether `owner` still holds its lock (called under the directory lock)."""
        path = self._owner_lock_path(owner)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)  # a dead owner's lock file: tidy it away
        return False


def _problem(document: Any, target: str, accounts: list[str]) -> str | None:
    """Why a parsed document is not this target's journal, or None."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return "not a bsk-conformance recovery journal (no format marker)"
    if document.get("version") != VERSION:
        return f"recovery journal format version {document.get('version')!r}; this harness reads version {VERSION}"
    if document.get("target") != target:
        return f"the recovery journal of another target ({str(document.get('target'))[:200]!r}), not {target!r}"
    if document.get("accounts") != accounts:
        return "the recovery journal of another account set than the profile's"
    entries = document.get("entries")
    if not isinstance(entries, list):
        return "a recovery journal without its list of entries"
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("owner"), str)
            and entry.get("kind") in KINDS
        ):
            return "a recovery journal with an entry it cannot read"
    return None


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a power cut right after keeps it)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
