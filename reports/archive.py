"""Reading a bundle someone else made: a zip archive treated as hostile.

Nothing is extracted to disk. Every member is streamed through SHA-256 in
memory, and only the few small files the verifier must parse are kept. Before
a byte is decompressed the archive's directory is checked against
:class:`Limits` (member count, each member's and the total uncompressed size)
and every member name against path traversal (absolute paths, ``..``,
backslashes, drive letters), links and encryption; the sizes are counted again
while reading, so a member that expands past what its header claims stops there.

A problem with the archive as a whole is an :class:`UnusableArchive` (the
verifier exits 3 with its one-line message). A member whose bytes are damaged
(its CRC fails) is only marked :attr:`Member.damaged`: the verifier reports
it as a problem of that member and checks the rest.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """How large an archive the verifier accepts. A real bundle is a few MB."""

    archive_bytes: int = 512 * 1024 * 1024
    members: int = 64
    member_bytes: int = 256 * 1024 * 1024
    total_bytes: int = 512 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class UnusableArchive(Exception):
    """The file cannot be checked at all; the message is one line naming it."""


@dataclass
class Member:
    name: str
    size: int
    sha256: str | None
    #: the bytes, for the members the caller asked to keep
    data: bytes | None = None
    #: why the member's bytes could not be read (CRC failure, corrupt stream)
    damaged: str | None = None


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str | None:
    """Why ``name`` may not be a member of a bundle, or None when it is a plain relative path."""
    if not name:
        return "an empty member name"
    if "\x00" in name or any(ord(ch) < 0x20 for ch in name):
        return f"a member name with control characters ({name!r})"
    if "\\" in name:
        return f"a member name with a backslash ({name!r})"
    if name.startswith("/") or _DRIVE.match(name):
        return f"an absolute member path ({name!r})"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return f"a path-traversal member name ({name!r})"
    return None


def read_archive(path: Path, *, keep: Collection[str] = (), limits: Limits = DEFAULT_LIMITS) -> dict[str, Member]:
    """Hash every member of the zip archive at ``path``; keep the bytes of those named in ``keep``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UnusableArchive(f"{path}: no such file") from None
    except OSError as exc:
        raise UnusableArchive(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not path.is_file():
        raise UnusableArchive(f"{path}: not a file")
    if size > limits.archive_bytes:
        raise UnusableArchive(f"{path}: {size} bytes, larger than any bundle ({limits.archive_bytes} bytes at most)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError):
        raise UnusableArchive(f"{path}: not a zip archive, so not a bundle") from None
    except OSError as exc:
        raise UnusableArchive(f"{path}: cannot read it ({exc.strerror or exc})") from None
    with archive:
        infos = archive.infolist()
        _check_directory(path, infos, limits)
        members: dict[str, Member] = {}
        total = 0
        for info in infos:
            member, read = _read_member(path, archive, info, info.filename in keep, limits, total)
            total += read
            members[info.filename] = member
    return members


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse the archive on its central directory alone, before decompressing anything."""
    if len(infos) > limits.members:
        raise UnusableArchive(f"{path}: {len(infos)} members, more than a bundle has ({limits.members} at most)")
    seen: set[str] = set()
    declared = 0
    for info in infos:
        why = unsafe_name(info.filename)
        if why is not None:
            raise UnusableArchive(f"{path}: refused: {why}")
        if info.is_dir():
            raise UnusableArchive(f"{path}: refused: a directory entry ({info.filename!r}); a bundle is flat")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnusableArchive(f"{path}: refused: a symbolic link ({info.filename!r})")
        if info.flag_bits & 0x1:
            raise UnusableArchive(f"{path}: refused: an encrypted member ({info.filename!r})")
        if info.filename in seen:
            raise UnusableArchive(f"{path}: refused: two members named {info.filename!r}")
        seen.add(info.filename)
        if info.file_size > limits.member_bytes:
            raise UnusableArchive(
                f"{path}: refused as a zip bomb: {info.filename!r} expands to {info.file_size} bytes "
                f"({limits.member_bytes} at most)"
            )
        declared += info.file_size
        if declared > limits.total_bytes:
            raise UnusableArchive(
                f"{path}: refused as a zip bomb: its members expand to more than {limits.total_bytes} bytes"
            )


def _read_member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, keep: bool, limits: Limits, total_so_far: int
) -> tuple[Member, int]:
    digest = hashlib.sha256()
    kept: list[bytes] = []
    read = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                read += len(chunk)
                # zipfile stops at the size the header declares; this is the guard
                # should a header and the stream ever disagree
                if read > limits.member_bytes or total_so_far + read > limits.total_bytes:
                    raise UnusableArchive(f"{path}: refused as a zip bomb: {info.filename!r} expands past the limit")
                digest.update(chunk)
                if keep:
                    kept.append(chunk)
    except NotImplementedError:
        raise UnusableArchive(f"{path}: {info.filename!r} uses a compression method this tool cannot read") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Member(info.filename, info.file_size, None, damaged=f"damaged in the archive ({why})"), read
    return Member(info.filename, read, digest.hexdigest(), b"".join(kept) if keep else None), read
