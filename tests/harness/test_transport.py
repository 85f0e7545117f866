"""harness/transport.py in isolation: routing by the proxy environment,
gateway headers on the target's origin only, their redaction, and the
one-line explanations of TLS failures."""

from __future__ import annotations

import os
import ssl

import httpx
import pytest

from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.profile import ProfileError, parse_profile
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.transport import (
    ConnectionOptions,
    ConnectionSetupError,
    Route,
    explain_failure,
    parse_header_line,
    proxy_routes,
)

TARGET = "https://staging.example.test:8443/v1"
PROXY = "http://proxy.corp.test:3128"
ACCOUNTS = [{"email": "a@x.test", "password": "pw-aaaaaaaa"}, {"email": "b@y.test", "password": "pw-bbbbbbbb"}]


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)
    return monkeypatch


def _route(url: str, options: ConnectionOptions | None = None) -> Route:
    url_ = httpx.URL(url)
    for pattern, route in proxy_routes(options or ConnectionOptions()):
        if pattern.matches(url_):
            return route
    return Route(None)


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, TARGET, None),
        ({"HTTPS_PROXY": PROXY}, TARGET, PROXY),
        ({"https_proxy": PROXY}, TARGET, PROXY),
        ({"HTTP_PROXY": PROXY}, TARGET, None),  # an http:// proxy setting says nothing of https
        ({"ALL_PROXY": PROXY}, "http://staging.example.test", PROXY),
        # httpx, like curl, does not exempt loopback by itself
        ({"HTTPS_PROXY": PROXY}, "https://127.0.0.1:8443", PROXY),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "127.0.0.1"}, "https://127.0.0.1:8443", None),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "example.test"}, TARGET, None),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "other.test"}, TARGET, PROXY),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "*"}, TARGET, None),
    ],
)
def test_routes_follow_the_proxy_environment_as_httpx_reads_it(no_proxy_env, env, url, expected):
    for name, value in env.items():
        no_proxy_env.setenv(name, value)
    assert _route(url).proxy == expected
    # the same choice httpx makes when it builds its own transport
    with httpx.Client(trust_env=True) as client:
        chosen = client._transport_for_url(httpx.URL(url))
        assert (chosen is not client._transport) == (expected is not None)


def test_proxy_option_overrides_the_environment_and_no_proxy(no_proxy_env):
    no_proxy_env.setenv("HTTPS_PROXY", "http://other:1")
    no_proxy_env.setenv("NO_PROXY", "*")
    route = _route(TARGET, ConnectionOptions(proxy=PROXY))
    assert route.proxy == PROXY and route.source == "--proxy"


def test_the_in_process_server_ignores_the_proxy_environment(no_proxy_env):
    no_proxy_env.setenv("ALL_PROXY", PROXY)
    assert _route("http://127.0.0.1:5000", ConnectionOptions(use_environment_proxies=False)).proxy is None


def _target(connection: ConnectionOptions, seen: list[httpx.Request]) -> Target:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"echo": request.headers.get("x-gateway-token", "")})

    profile = parse_profile({"environment": "test", "accounts": ACCOUNTS})
    return Target(
        TARGET, profile, EvidenceLog(Redactor()), transport=httpx.MockTransport(answer), connection=connection
    )


def test_gateway_headers_go_to_the_target_origin_only_and_no_check_changes_them():
    seen: list[httpx.Request] = []
    target = _target(ConnectionOptions(headers=(("X-Gateway-Token", "gw-secret-value"),)), seen)
    target.get("/me", headers={"X-Gateway-Token": "a check's own value"})
    for elsewhere in (
        "http://staging.example.test:8443/v1/me",  # another scheme
        "https://staging.example.test/v1/me",  # another port
        "https://127.0.0.1:8443/jwks.json",  # the harness's own listener, say
    ):
        target.client.get(elsewhere)
    assert [r.headers.get("x-gateway-token") for r in seen] == ["gw-secret-value", None, None, None]


def test_gateway_header_values_are_redacted_by_name_however_short():
    seen: list[httpx.Request] = []
    target = _target(ConnectionOptions(headers=(("X-Env", "abc"), ("X-Gateway-Token", "gw-secret-value"))), seen)
    with target.evidence.collecting() as bucket:
        target.get("/me")
    exchange = bucket[0]
    assert exchange.requestHeaders["x-env"].startswith("«gateway-header:")
    assert exchange.requestHeaders["x-gateway-token"].startswith("«gateway-header:")
    # a long value is a secret in free text too: the echo in the body
    assert "gw-secret-value" not in exchange.responseBody and "«gateway-header:" in exchange.responseBody


def test_profile_headers_are_validated_one_line_each_and_never_shown():
    profile = parse_profile({"environment": "test", "accounts": ACCOUNTS, "headers": {"X-Gateway-Token": "gw-1234"}})
    assert profile.headers == (("X-Gateway-Token", "gw-1234"),)
    assert "gw-1234" not in repr(profile)
    with pytest.raises(ProfileError) as refused:
        parse_profile(
            {
                "environment": "test",
                "accounts": ACCOUNTS,
                "headers": {"X-API-Key": "bsk_test_abc", "X-Ok": "line\nbreak", "X-Num": 5},
            }
        )
    lines = str(refused.value).splitlines()
    assert len(lines) == 3
    assert "X-API-Key cannot be set as a gateway header" in lines[0]
    assert "bsk_test_abc" not in str(refused.value) and "break" not in str(refused.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("X-Token", 'expects "Name: value"'),
        ("X Token: v", "not a valid header name"),
        ("Host: evil", "Host cannot be set"),
        ("X-Token:   ", "is empty"),
    ],
)
def test_header_lines_are_checked(line, problem):
    with pytest.raises(ConnectionSetupError, match=problem):
        parse_header_line(line)


def test_header_line_like_curl():
    assert parse_header_line("X-Token:  a: b ") == ("X-Token", "a: b")


def _tls_error(message: str) -> httpx.TransportError:
    try:
        try:
            raise ssl.SSLError(1, message)
        except ssl.SSLError as cause:
            raise httpx.ReadError("read failed") from cause
    except httpx.ReadError as exc:
        return exc


def test_tls_alerts_name_the_missing_piece():
    direct = Route(None)
    required = _tls_error("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")
    assert "--client-cert" in explain_failure(required, direct, client_cert=False)
    unknown = _tls_error("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca")
    assert explain_failure(unknown, direct, client_cert=True) == (
        "TLS: the target refused the client certificate (tlsv1_alert_unknown_ca)"
    )
    disconnected = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    assert explain_failure(disconnected, direct, client_cert=False) is None
    assert "asked for a client certificate" in explain_failure(
        disconnected, direct, client_cert=False, certificate_requested=True
    )
    assert "closed the connection after the one given" in explain_failure(
        disconnected, direct, client_cert=True, certificate_requested=True
    )


def test_proxy_credentials_are_secrets_and_never_displayed():
    options = ConnectionOptions(proxy="http://qa:proxy-pass-123@proxy.corp.test:3128")
    assert ("proxy-pass-123", "proxy-password") in options.secrets()
    assert "proxy-pass-123" not in Route(options.proxy, "--proxy").describe()
