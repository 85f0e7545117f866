"""Ed25519 keys and signatures for certification bundles.

A vendor signs a bundle's ``manifest.json`` (which holds the SHA-256 of every
other member) with a private key; a buyer checks it with the vendor's public
key. Keys are PEM files: PKCS#8 for the private key (written 0600), Subject
Public Key Info for the public one. A key is named by its *key ID*,
``sha256:`` and the hex SHA-256 of its 32 raw public bytes, which the manifest
and the signature file both carry, so a buyer holding the wrong key is told so.

Every failure to use a key file is a :class:`KeyProblem` with a one-line message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
#: A PEM key is a few hundred bytes; anything far larger is not one of ours.
MAX_KEY_FILE_BYTES = 64 * 1024


class KeyProblem(ValueError):
    """A key file is missing, unreadable, or not an Ed25519 key of the expected kind."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the raw public key: how manifests and buyers name a key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_FILE_BYTES:
            raise KeyProblem(f"{path}: too large to be a {what} ({path.stat().st_size} bytes)")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise KeyProblem(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise KeyProblem(f"{path}: cannot read it ({exc.strerror or exc})") from None


_Key = TypeVar("_Key", Ed25519PrivateKey, Ed25519PublicKey)


@dataclass(frozen=True)
class _KeyKind(Generic[_Key]):
    """How a key file of one kind is read, and what is said when it is the wrong one."""

    what: str  # "private key" / "public key"
    load: Callable[[bytes], object]
    expected: type[_Key]
    other_marker: bytes  # the PEM label of the other kind, given by mistake
    other_message: str
    ed25519_name: str  # in "not an Ed25519 <name> (RSAPrivateKey)"


_PRIVATE: _KeyKind[Ed25519PrivateKey] = _KeyKind(
    "private key",
    lambda data: serialization.load_pem_private_key(data, password=None),
    Ed25519PrivateKey,
    b"PUBLIC KEY",
    "this is a public key; signing needs the private key",
    "key",
)
_PUBLIC: _KeyKind[Ed25519PublicKey] = _KeyKind(
    "public key",
    serialization.load_pem_public_key,
    Ed25519PublicKey,
    b"PRIVATE KEY",
    "this is a private key; verify with the public key (.pub)",
    "public key",
)


def _load_key(path: Path, kind: _KeyKind[_Key]) -> _Key:
    data = _read_key_file(path, kind.what)
    try:
        key = kind.load(data)
    except TypeError:  # only a private key asks for a password
        raise KeyProblem(f"{path}: the private key is encrypted; give an unencrypted Ed25519 key") from None
    except (ValueError, UnsupportedAlgorithm):
        if kind.other_marker in data:
            raise KeyProblem(f"{path}: {kind.other_message}") from None
        raise KeyProblem(f"{path}: not a PEM {kind.what}") from None
    if not isinstance(key, kind.expected):
        raise KeyProblem(f"{path}: not an Ed25519 {kind.ed25519_name} ({type(key).__name__.removeprefix('_')})")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM file ``path`` (unencrypted PKCS#8, as ``keygen`` writes it)."""
    return _load_key(path, _PRIVATE)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM file ``path``."""
    return _load_key(path, _PUBLIC)


def write_key_pair(private_path: Path, public_path: Path) -> str:
    """Generate a key pair into two new files (never overwriting one); returns its key ID.

    The private key is created with mode 0600 from the start, not chmod-ed after.
    """
    for path in (private_path, public_path):
        if path.exists():
            raise KeyProblem(f"{path}: already exists; not overwriting a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(public_pem)
    except FileExistsError as exc:
        raise KeyProblem(f"{exc.filename}: already exists; not overwriting a key") from None
    except OSError as exc:
        raise KeyProblem(f"{exc.filename or private_path}: cannot write it ({exc.strerror or exc})") from None
    return key_id(key.public_key())


def sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data``."""
    return private_key.sign(data)


def signature_holds(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature of exactly ``data``."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
