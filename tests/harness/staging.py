"""A staging target as QA meets it, on loopback: a private CA, a server that
wants a client certificate and a gateway header, and a forward proxy.

Everything binds 127.0.0.1 on an ephemeral port; the keys are made fresh
for each test module with `cryptography` and never leave its temporary
directory.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
GATEWAY_HEADER = "X-Gateway-Token"


# -- certificates ---------------------------------------------------------------


@dataclass
class Pki:
    """PEM files: a CA, a server certificate for 127.0.0.1 and localhost, a
    client certificate, each key in its own file; and what must never leak."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_combined: Path  # certificate and key in one file
    server_der: bytes
    key_material: list[str] = field(default_factory=list)  # base64 lines of the private keys


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, extensions=()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_pki(directory: Path) -> Pki:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("bsk test private CA", "bsk test private CA", ca_key.public_key(), ca_key, ca=True)
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate(
        "staging.test",
        "bsk test private CA",
        server_key.public_key(),
        ca_key,
        ca=False,
        extensions=[
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            authority,
        ],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate(
        "qa-runner",
        "bsk test private CA",
        client_key.public_key(),
        ca_key,
        ca=False,
        extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), authority],
    )
    pem = serialization.Encoding.PEM
    files = {
        "ca.pem": ca.public_bytes(pem),
        "server.pem": server.public_bytes(pem),
        "server.key": _key_pem(server_key),
        "client.pem": client.public_bytes(pem),
        "client.key": _key_pem(client_key),
        "client-combined.pem": client.public_bytes(pem) + _key_pem(client_key),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    key_lines = [
        line
        for key in (server_key, client_key, ca_key)
        for line in _key_pem(key).decode().splitlines()
        if not line.startswith("-----")
    ]
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        client_combined=directory / "client-combined.pem",
        server_der=server.public_bytes(serialization.Encoding.DER),
        key_material=key_lines,
    )


def server_tls(pki: Pki, *, client_certificate: bool = True) -> dict[str, Any]:
    """uvicorn's options for HTTPS, requiring a client certificate from the CA or not."""
    options: dict[str, Any] = {"ssl_certfile": str(pki.server_cert), "ssl_keyfile": str(pki.server_key)}
    if client_certificate:
        options.update(ssl_ca_certs=str(pki.ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return options


# -- the gateway ------------------------------------------------------------------


class Gateway:
    """ASGI middleware in front of the API: refuses, with a 403 page of its
    own (not the contract's error body), any request without the gateway
    header (unless `token` is None); and notes from which address each
    request came."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token is not None else None
        self.url = ""  # set once it is served
        self.peers: list[tuple[str, int]] = []
        self.refused = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        with self._lock:
            self.peers.append(tuple(scope["client"]))
        if self.token is not None and headers.get(GATEWAY_HEADER.lower().encode()) != self.token:
            with self._lock:
                self.refused += 1
            body = b"<html><body><h1>403 Forbidden</h1>Access denied by the staging gateway.</body></html>"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


# -- the forward proxy ------------------------------------------------------------


class ForwardProxy:
    """A CONNECT-only forward proxy on loopback that tunnels bytes and notes
    every tunnel: what was asked, and the local address of each upstream
    socket (so a server can tell which of its requests came through here)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.upstream_addresses: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        assert self._listener is not None
        return f"http://{LOOPBACK}:{self._listener.getsockname()[1]}"

    def __enter__(self) -> ForwardProxy:
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.2)
        thread = threading.Thread(target=self._accept, daemon=True, name="test-forward-proxy")
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        assert self._listener is not None
        self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            with self._lock:
                self.requests.append(request_line)
            method, authority, _ = request_line.split(" ", 2)
            host, _, port = authority.rpartition(":")
            if method != "CONNECT" or host not in (LOOPBACK, "localhost"):
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                upstream = socket.create_connection((LOOPBACK, int(port)), timeout=10)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with upstream:
                with self._lock:
                    self.upstream_addresses.add(upstream.getsockname()[:2])
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(client, upstream)

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(peers), [], [], 0.2)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                peers[sock].sendall(data)


def profile_with_headers(source: Path, destination: Path, headers: dict[str, str]) -> Path:
    """The reference profile with a [headers] table appended."""
    table = "\n[headers]\n" + "".join(f"{json.dumps(name)} = {json.dumps(value)}\n" for name, value in headers.items())
    destination.write_text(source.read_text() + table)
    return destination
