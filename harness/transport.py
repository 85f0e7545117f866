"""How the harness reaches a remote target: proxies, TLS trust, a client
certificate and the headers a gateway in front of the API wants.

The recording layer (harness/evidence.py `RecordingTransport`) sits on top of
what is built here, so every exchange is recorded whichever route it takes:

    GatewayHeaders            adds the operator's gateway headers, target origin only
      RecordingTransport      records (and redacts) the exchange as sent
        RoutedTransport       direct, or through the proxy httpx would pick
          httpx.HTTPTransport one per route, TCP_NODELAY, the run's TLS context

httpx reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY only when it
builds its own transport; the harness builds its own (TCP_NODELAY, the
recorder), so it resolves the proxy environment itself, with httpx's own
rules (`get_environment_proxies`, `URLPattern`): a target is reached exactly
as `httpx.get` and, for the same variables, curl would reach it.

There is no option that turns certificate verification off: a certification
over a connection nobody verified certifies nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import certifi
import httpx
from httpx._utils import URLPattern, get_environment_proxies  # httpx's own NO_PROXY rules, not a copy

# TCP_NODELAY: httpcore writes a request's head and body separately, and
# Nagle's algorithm meeting the server's delayed ACK stalls each request
# ~40 ms (measured: 44 ms a request on loopback without it)
SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

KEY_PASSWORD_ENV = "BSK_CLIENT_KEY_PASSWORD"

# Headers a gateway header may not be. The contract's credentials (and a
# cookie, the other ambient credential) would ride on every request, so the
# checks that send none, or a wrong one, on purpose would test the gateway's
# credential instead of theirs. The others frame the message or belong to
# the hop, which httpx and the proxy set.
REFUSED_HEADERS = {
    "authorization": "the contract's bearer credential",
    "x-api-key": "the contract's API-key credential",
    "cookie": "an ambient credential the checks must control",
    "proxy-authorization": "for the proxy: put user:password in the proxy URL",
    "host": "set from the target URL",
    "content-length": "framing, set by the harness",
    "content-type": "set by each check",
    "transfer-encoding": "framing, set by the harness",
    "connection": "hop-by-hop",
    "keep-alive": "hop-by-hop",
    "te": "hop-by-hop",
    "trailer": "hop-by-hop",
    "upgrade": "hop-by-hop",
    "expect": "hop-by-hop",
    "proxy-connection": "hop-by-hop",
}
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VALUE = re.compile(r"^[\x20-\x7e\t]*$")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_HANDSHAKE, _CERTIFICATE_REQUEST = 22, 13  # TLS content type and handshake message type (RFC 8446)
_ENV_NAMES = {"http://": "HTTP_PROXY", "https://": "HTTPS_PROXY", "all://": "ALL_PROXY"}


class ConnectionSetupError(Exception):
    """An option or a file cannot be used; the message is one line."""


# -- gateway headers ----------------------------------------------------------


def header_problem(name: object, value: object, where: str) -> str | None:
    """One line saying why this gateway header cannot be used, or None.
    Never quotes the value: it is a secret."""
    if not isinstance(name, str) or not _TOKEN.match(name):
        return f"{where}: {name!r} is not a valid header name"
    reason = REFUSED_HEADERS.get(name.lower())
    if reason is not None:
        return f"{where}: {name} cannot be set as a gateway header ({reason})"
    if not isinstance(value, str):
        return f"{where}: the value of {name} must be a string"
    if not value.strip():
        return f"{where}: the value of {name} is empty"
    if not _VALUE.match(value):
        return f"{where}: the value of {name} has a control or non-ASCII character"
    return None


def parse_header_line(line: str) -> tuple[str, str]:
    """`"Name: value"` (as curl -H takes it) -> (name, value), or ConnectionSetupError."""
    name, colon, value = line.partition(":")
    if not colon:
        raise ConnectionSetupError('--target-header expects "Name: value" (a colon between name and value)')
    name, value = name.strip(), value.strip()
    problem = header_problem(name, value, "--target-header")
    if problem:
        raise ConnectionSetupError(problem)
    return name, value


def merge_headers(*sources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Later sources win, by case-insensitive name (the command line over the profile)."""
    merged: dict[str, tuple[str, str]] = {}
    for source in sources:
        for name, value in source:
            merged[name.lower()] = (name, value)
    return tuple(merged.values())


# -- the options --------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionOptions:
    """How to reach a remote target. The default is what a direct, verified
    httpx connection does: the environment's proxies and trust."""

    proxy: str | None = None  # --proxy; None: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY
    use_environment_proxies: bool = True
    ca_bundle: str | None = None  # replaces the default trust, like curl --cacert
    client_cert: str | None = None
    client_key: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def secrets(self) -> list[tuple[str, str]]:
        """(value, kind) of everything here a report must never show."""
        found = [(value, "gateway-header") for _, value in self.headers]
        if self.proxy:
            password = httpx.URL(self.proxy).password
            if password:
                found.append((password, "proxy-password"))
        password = os.environ.get(KEY_PASSWORD_ENV)
        if password and self.client_cert:
            found.append((password, "client-key-password"))
        return found


DIRECT = ConnectionOptions(use_environment_proxies=False)  # the harness's own loopback server


def check_proxy_url(url: str) -> str | None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return f"--proxy: {display_url(url)} is not a URL"
    if parsed.scheme not in _PROXY_SCHEMES or not parsed.host:
        return f"--proxy must be an http://, https:// or socks5:// URL with a host, got {display_url(url)}"
    return None


def display_url(url: str) -> str:
    """A proxy URL as it may be shown: without its password."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "the given value"
    if parsed.password:
        return str(parsed.copy_with(password="***"))
    return str(parsed)


# -- TLS ----------------------------------------------------------------------


def ssl_context(options: ConnectionOptions) -> ssl.SSLContext:
    """The context every TLS connection to the target uses, always verifying.

    `--ca-bundle` replaces the default trust rather than adding to it, as
    curl's --cacert, requests' and httpx's `verify=PATH` do: the harness talks
    to one server, so the private CA is all it needs, and a certificate for
    that name issued by any other CA (a public one included) is refused.
    Without it: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's bundle,
    exactly httpx's default."""
    try:
        if options.ca_bundle:
            if os.path.isdir(options.ca_bundle):
                context = ssl.create_default_context(capath=options.ca_bundle)
            else:
                context = ssl.create_default_context(cafile=options.ca_bundle)
        elif os.environ.get("SSL_CERT_FILE"):
            context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
        else:
            context = ssl.create_default_context(cafile=certifi.where())
    except (OSError, ssl.SSLError) as exc:
        source = f"--ca-bundle {options.ca_bundle}" if options.ca_bundle else "SSL_CERT_FILE / SSL_CERT_DIR"
        raise ConnectionSetupError(f"{source}: cannot load CA certificates ({_first_line(exc)})") from None
    if options.client_cert:
        _load_client_certificate(context, options)
    return context


class _EncryptedKey(Exception):
    pass


def _load_client_certificate(context: ssl.SSLContext, options: ConnectionOptions) -> None:
    password = os.environ.get(KEY_PASSWORD_ENV)

    def ask() -> str:
        # OpenSSL would otherwise prompt on the terminal and hang a CI run
        if password is None:
            raise _EncryptedKey
        return password

    what = f"--client-cert {options.client_cert}" + (
        f" --client-key {options.client_key}" if options.client_key else ""
    )
    try:
        context.load_cert_chain(options.client_cert, options.client_key, password=ask)
    except _EncryptedKey:
        raise ConnectionSetupError(f"{what}: the key is encrypted; give its password in {KEY_PASSWORD_ENV}") from None
    except FileNotFoundError as exc:
        raise ConnectionSetupError(f"{what}: no such file {exc.filename or ''}".rstrip()) from None
    except (OSError, ssl.SSLError) as exc:
        hint = "" if options.client_key else " (a key in another file needs --client-key)"
        raise ConnectionSetupError(
            f"{what}: not a PEM certificate with its private key{hint} ({_first_line(exc)})"
        ) from None


@dataclass(frozen=True)
class TlsFacts:
    """What the report says about the connection the verdict was reached over."""

    version: str
    certificate_sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"tlsVersion": self.version, "tlsCertificateSha256": self.certificate_sha256}


def tls_facts(response: httpx.Response) -> TlsFacts | None:
    """The TLS version and the SHA-256 of the server's (leaf) certificate, DER,
    as `openssl x509 -fingerprint -sha256` prints it; None over plain HTTP."""
    stream = response.extensions.get("network_stream")
    try:
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        # positional: httpcore hands out the low-level _ssl._SSLSocket, which takes no keywords
        der = ssl_object.getpeercert(True) if ssl_object is not None else None
    except (AttributeError, OSError, TypeError, ValueError):  # what the connection cannot tell is not recorded
        return None
    if not der:
        return None
    digest = hashlib.sha256(der).hexdigest().upper()
    return TlsFacts(ssl_object.version() or "unknown", ":".join(digest[i : i + 2] for i in range(0, 64, 2)))


# -- routing ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    proxy: str | None  # None: direct
    source: str = ""  # "--proxy", "HTTPS_PROXY", ...

    def describe(self) -> str:
        return f"proxy {display_url(self.proxy)} (from {self.source})" if self.proxy else "direct"


def proxy_routes(options: ConnectionOptions) -> list[tuple[URLPattern, Route]]:
    """Most specific first, as httpx's client orders its mounts."""
    if options.proxy:
        pairs: dict[str, Route] = {"all://": Route(options.proxy, "--proxy")}
    elif options.use_environment_proxies:
        pairs = {
            key: Route(url, _ENV_NAMES.get(key, "NO_PROXY") if url else "NO_PROXY")
            for key, url in get_environment_proxies().items()
        }
    else:
        pairs = {}
    routes = [(URLPattern(key), route) for key, route in pairs.items()]
    return sorted(routes, key=lambda item: item[0])  # URLPattern orders by priority


class RoutedTransport(httpx.BaseTransport):
    """Direct, or through the proxy httpx would choose for the URL; each route
    is its own connection pool with the run's TLS context and TCP_NODELAY.
    Remembers the TLS facts of the first answer from the target's origin."""

    def __init__(self, options: ConnectionOptions, target_url: str) -> None:
        self._context = ssl_context(options)
        self._routes = proxy_routes(options)
        self._origin = origin(httpx.URL(target_url))
        self._pools: dict[str | None, httpx.HTTPTransport] = {}
        for _, route in self._routes:
            if route.proxy and route.proxy not in self._pools:
                self._pools[route.proxy] = self._pool(route.proxy)
        self._pools[None] = self._pool(None)
        self.tls: TlsFacts | None = None
        # Whether a server ever sent a CertificateRequest. A server that wants a
        # client certificate and gets none may just close the connection (no
        # alert: TLS 1.3 then reads as "disconnected without a response"), so
        # the handshake itself is the only reliable witness. CPython's
        # `_msg_callback` is its TLS message tracing hook; without it the
        # preflight falls back to the alert's text.
        self.certificate_requested = False
        if hasattr(self._context, "_msg_callback"):
            self._context._msg_callback = self._observe_handshake

    def _observe_handshake(self, connection, direction, version, content_type, msg_type, data) -> None:
        if direction == "read" and msg_type == _CERTIFICATE_REQUEST and content_type == _HANDSHAKE:
            self.certificate_requested = True

    def _pool(self, proxy: str | None) -> httpx.HTTPTransport:
        try:
            return httpx.HTTPTransport(
                verify=self._context,
                retries=0,
                socket_options=SOCKET_OPTIONS,
                proxy=httpx.Proxy(proxy) if proxy else None,
            )
        except ImportError:  # socks5:// needs httpx[socks]
            raise ConnectionSetupError(
                f"proxy {display_url(proxy or '')}: SOCKS needs the socksio package (pip install 'httpx[socks]')"
            ) from None
        except (ValueError, httpx.InvalidURL) as exc:
            raise ConnectionSetupError(f"proxy {display_url(proxy or '')}: {_first_line(exc)}") from None

    def route_for(self, url: httpx.URL) -> Route:
        for pattern, route in self._routes:
            if pattern.matches(url):
                return route
        return Route(None)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._pools[self.route_for(request.url).proxy].handle_request(request)
        # read now, while the connection is certainly open: a server that
        # closes after answering would take its certificate with it
        if self.tls is None and origin(request.url) == self._origin:
            self.tls = tls_facts(response)
        return response

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), url.port or default)


class GatewayHeaders(httpx.BaseTransport):
    """Sets the gateway's headers on every request to the target's origin,
    and on no other (a redirect elsewhere, the harness's own listeners).
    It sits above the recorder, so the evidence shows them, redacted; and
    above every check, so none can drop or change them."""

    def __init__(self, inner: httpx.BaseTransport, target_url: str, headers: tuple[tuple[str, str], ...]) -> None:
        self._inner = inner
        self._origin = origin(httpx.URL(target_url))
        self._headers = headers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if origin(request.url) == self._origin:
            for name, value in self._headers:
                request.headers[name] = value
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def client_transport(
    options: ConnectionOptions,
    target_url: str,
    record: Callable[[httpx.BaseTransport], httpx.BaseTransport],
    inner: httpx.BaseTransport | None = None,
) -> tuple[httpx.BaseTransport, RoutedTransport | None]:
    """The transport stack for the target's client: gateway headers over the
    recorder (`record` wraps what it is given) over the routed connection.
    Returns it and the routed layer (for its TLS facts), or None when the
    caller supplied its own inner transport."""
    routed = None
    if inner is None:
        routed = inner = RoutedTransport(options, target_url)
    recorded = record(inner)
    if options.headers:
        return GatewayHeaders(recorded, target_url, options.headers), routed
    return recorded, routed


# -- what went wrong ----------------------------------------------------------


def explain_failure(
    exc: httpx.TransportError, route: Route, client_cert: bool, certificate_requested: bool = False
) -> str | None:
    """A one-line account of a TLS or proxy failure, naming what is missing;
    None when it is neither (the caller says "unreachable")."""
    verify = _find(exc, ssl.SSLCertVerificationError)
    if verify is not None:
        message = getattr(verify, "verify_message", "") or _first_line(verify)
        if "mismatch" in message.lower():
            return f"TLS: the target's certificate is not for this host name ({message})"
        return (
            f"TLS: the target's certificate is not trusted ({message}): pass the CA that issued it "
            "with --ca-bundle PATH (or SSL_CERT_FILE)"
        )
    text = " ".join(_first_line(e) for e in _chain(exc)).upper()
    if certificate_requested and not client_cert:
        return (
            "TLS: the target asked for a client certificate and closed the connection without one: "
            "give it with --client-cert CERT [--client-key KEY]"
        )
    disconnected = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)) or "EOF" in text
    if certificate_requested and client_cert and disconnected:
        return (
            "TLS: the target asked for a client certificate and closed the connection after the one given: "
            "is it issued by a CA the target trusts, and not expired?"
        )
    if "CERTIFICATE_REQUIRED" in text or ("HANDSHAKE_FAILURE" in text and not client_cert):
        if client_cert:
            return "TLS: the target asked for a client certificate and did not take the one given"
        return "TLS: the target asked for a client certificate: give it with --client-cert CERT [--client-key KEY]"
    if client_cert and any(alert in text for alert in ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN")):
        return f"TLS: the target refused the client certificate ({_alert(text)})"
    if route.proxy:
        if isinstance(exc, httpx.ProxyError):
            status = _first_line(exc)
            if status.startswith("407"):
                return f"{route.describe()} wants authentication (407): put user:password in the proxy URL"
            return f"{route.describe()} refused the connection to the target ({status})"
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) and "SSL" not in text:
            return f"proxy unreachable: cannot connect to {route.describe()} ({_first_line(exc)})"
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _find(exc: BaseException, kind: type[BaseException]) -> Any:
    return next((e for e in _chain(exc) if isinstance(e, kind)), None)


def _alert(text: str) -> str:
    match = re.search(r"\b(TLSV1\w*_ALERT_\w+|SSLV3_ALERT_\w+)\b", text)
    return match.group(1).lower() if match else "handshake refused"


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
