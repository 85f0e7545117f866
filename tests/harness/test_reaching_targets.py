"""Issue 15: a staging target behind a private CA, a client-certificate
check, a gateway header and a forward proxy, reached as a user reaches it
(a fresh pytest process), with the three problems measured on the old code:

- a private CA could not be trusted by option (`--ca-bundle`);
- HTTP_PROXY / HTTPS_PROXY were ignored (the harness builds its own transport);
- no gateway header, no client certificate could be sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket

import jsonschema
import pytest

from bsk_conformance import reports
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.harness.conftest import PROFILE, assert_partial_conformant
from tests.harness.staging import GATEWAY_HEADER, ForwardProxy, Gateway, make_pki, profile_with_headers, server_tls

# A short selection that still sends credentials, bodies and wrong tokens:
# secrets echoed (SEC-003), challenges without credentials (WIRE-003), no-store (WIRE-005)
SELECTION = ("--requirement=BSK-SEC-003", "--requirement=BSK-WIRE-003", "--requirement=BSK-WIRE-005")
_ENVIRONMENT_KNOBS = ("PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "BSK_CLIENT_KEY_PASSWORD")


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any proxy or trust setting (a
    developer's NO_PROXY=127.0.0.1 would make a proxy test pass vacuously),
    plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not any(knob in k.upper() for knob in _ENVIRONMENT_KNOBS)}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def token() -> str:
    return "gw-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def staging(pki, token):
    """The reference server over TLS, wanting a client certificate from the
    private CA and the gateway header; its own ticking clock with control."""
    gateway = Gateway(create_app(Settings(environment="test"), clock=OffsetClock()), token)
    with BackgroundServer(gateway, tls=server_tls(pki)) as server:
        gateway.url = server.url
        yield gateway


@pytest.fixture(scope="module")
def private_ca_target(pki):
    """HTTPS with the private CA's certificate and nothing else in the way:
    each of the first two measured problems, alone."""
    recorder = Gateway(create_app(Settings(environment="test"), clock=OffsetClock()), None)
    with BackgroundServer(recorder, tls=server_tls(pki, client_certificate=False)) as server:
        recorder.url = server.url
        yield recorder


@pytest.fixture
def proxy():
    with ForwardProxy() as running:
        yield running


def _options(staging, pki, token, *, ca=True, cert=True, header=True) -> list[str]:
    options = [f"--target={staging.url}", f"--target-profile={PROFILE}", *SELECTION]
    if ca:
        options.append(f"--ca-bundle={pki.ca}")
    if cert:
        options += [f"--client-cert={pki.client_cert}", f"--client-key={pki.client_key}"]
    if header:
        options.append(f"--target-header={GATEWAY_HEADER}: {token}")
    return options


def _one_line_error(run, expected: str) -> str:
    """The run stopped at preflight with exit 2 and one message (pytest
    itself prints the exit message twice: as `! Exit: ... !` and `Exit: ...`)."""
    assert run.exit_code == 2, run.output[-3000:]
    messages = {
        line.split("preflight failed: ", 1)[1].rstrip(" !")
        for line in run.output.splitlines()
        if "preflight failed" in line
    }
    assert len(messages) == 1, run.output[-3000:]
    message = messages.pop()
    assert expected in message, message
    assert "Traceback" not in run.output
    return message


def _artifacts(run) -> str:
    texts = [run.output]
    for path in sorted(run.report_dir.rglob("*")):
        if path.is_file():
            texts.append(path.read_text("utf-8", errors="replace"))
    return "\n".join(texts)


# -- the three problems measured on the old code ---------------------------------


def test_ca_bundle_trusts_a_private_ca(run_harness, private_ca_target, pki):
    run = run_harness(
        f"--target={private_ca_target.url}",
        f"--target-profile={PROFILE}",
        f"--ca-bundle={pki.ca}",
        "--requirement=BSK-WIRE-005",
        env=clean_env(),
    )
    assert run.exit_code == 0, run.output[-3000:]
    assert_partial_conformant(run.result)


def test_https_proxy_from_the_environment_carries_every_exchange(run_harness, private_ca_target, pki, proxy):
    """SSL_CERT_FILE, which the old code honoured too, so only the proxy is new."""
    private_ca_target.peers.clear()
    run = run_harness(
        f"--target={private_ca_target.url}",
        f"--target-profile={PROFILE}",
        *SELECTION,
        env=clean_env(HTTPS_PROXY=proxy.url, SSL_CERT_FILE=str(pki.ca)),
    )
    assert run.exit_code == 0, run.output[-3000:]
    assert_partial_conformant(run.result)
    port = private_ca_target.url.rsplit(":", 1)[1]
    assert proxy.requests and set(proxy.requests) == {f"CONNECT 127.0.0.1:{port} HTTP/1.1"}
    # every request the server saw arrived on a connection the proxy opened
    assert private_ca_target.peers and set(private_ca_target.peers) <= proxy.upstream_addresses


# -- a conformant run with the options ------------------------------------------


def test_conformant_over_mtls_with_gateway_header_and_the_certificate_recorded(run_harness, staging, pki, token):
    run = run_harness(*_options(staging, pki, token), env=clean_env())
    assert run.exit_code == 0, run.output[-3000:]
    result = run.result
    assert_partial_conformant(result)
    assert {r["status"] for r in result["requirements"] if r["id"] in ("BSK-SEC-003", "BSK-WIRE-003")} == {"passed"}
    fingerprint = result["targetFingerprint"]
    digest = hashlib.sha256(pki.server_der).hexdigest().upper()
    assert fingerprint["tlsCertificateSha256"] == ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert fingerprint["tlsVersion"] in ("TLSv1.2", "TLSv1.3")
    jsonschema.Draft202012Validator(json.loads(reports.schema_path().read_text())).validate(result)
    assert fingerprint["tlsCertificateSha256"] in run.output  # the terminal header shows it
    html = (run.report_dir / "conformance.html").read_text()
    assert fingerprint["tlsCertificateSha256"] in html and fingerprint["tlsVersion"] in html
    # every exchange carried the gateway header: none was refused
    assert staging.refused == 0

    # the header is in the evidence (the check's exchange as sent), redacted
    exchanges = [e for r in result["requirements"] for c in r["checks"] for e in c["evidence"]]
    assert exchanges and all(
        e["requestHeaders"].get(GATEWAY_HEADER.lower(), "").startswith("«gateway-header:") for e in exchanges
    )
    # no header value, no key material anywhere: reports, terminal
    everything = _artifacts(run)
    assert token not in everything
    for line in pki.key_material:
        assert line not in everything


def test_ssl_cert_file_still_trusts_a_private_ca(run_harness, staging, pki, token):
    """The README's promise: SSL_CERT_FILE works as it does for httpx and curl."""
    run = run_harness(*_options(staging, pki, token, ca=False), env=clean_env(SSL_CERT_FILE=str(pki.ca)))
    assert run.exit_code == 0, run.output[-3000:]
    assert_partial_conformant(run.result)


def test_a_client_certificate_and_key_in_one_file(run_harness, staging, pki, token):
    options = _options(staging, pki, token, cert=False) + [f"--client-cert={pki.client_combined}"]
    run = run_harness(*options, "--requirement=BSK-WIRE-005", env=clean_env())
    assert run.exit_code == 0, run.output[-3000:]


# -- one line, naming the missing piece ------------------------------------------


def test_without_the_ca_the_certificate_is_untrusted_and_ca_bundle_is_suggested(run_harness, staging, pki, token):
    run = run_harness(*_options(staging, pki, token, ca=False), env=clean_env())
    line = _one_line_error(run, "TLS: the target's certificate is not trusted")
    assert "--ca-bundle" in line


def test_without_a_client_certificate_the_preflight_says_one_was_asked_for(run_harness, staging, pki, token):
    run = run_harness(*_options(staging, pki, token, cert=False), env=clean_env())
    line = _one_line_error(run, "TLS: the target asked for a client certificate")
    assert "--client-cert" in line


def test_a_client_certificate_from_another_ca_is_named(run_harness, staging, pki, token, tmp_path):
    stranger = make_pki(tmp_path)
    options = [*_options(staging, pki, token, cert=False), f"--client-cert={stranger.client_combined}"]
    run = run_harness(*options, env=clean_env())
    _one_line_error(run, "TLS: the target asked for a client certificate and closed the connection after the one given")


def test_without_the_gateway_header_the_refusal_is_the_gateways(run_harness, staging, pki, token):
    run = run_harness(*_options(staging, pki, token, header=False), env=clean_env())
    line = _one_line_error(run, "gateway refusal: GET /.well-known/jwks.json answered HTTP 403")
    assert "--target-header" in line


def test_a_wrong_gateway_header_is_named_but_its_value_is_not_shown(run_harness, staging, pki, token):
    wrong = "wrong-" + secrets.token_hex(8)
    options = _options(staging, pki, token, header=False) + [f"--target-header={GATEWAY_HEADER}: {wrong}"]
    run = run_harness(*options, env=clean_env())
    line = _one_line_error(run, "gateway refusal")
    assert f"(sent: {GATEWAY_HEADER})" in line
    assert wrong not in run.output


# -- proxies ---------------------------------------------------------------------


def test_proxy_option_overrides_the_environment(run_harness, staging, pki, token, proxy):
    staging.peers.clear()
    run = run_harness(
        *_options(staging, pki, token),
        f"--proxy={proxy.url}",
        "--requirement=BSK-WIRE-005",
        env=clean_env(HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1"),
    )
    assert run.exit_code == 0, run.output[-3000:]
    assert staging.peers and set(staging.peers) <= proxy.upstream_addresses


def test_no_proxy_sends_the_target_direct(run_harness, staging, pki, token, proxy):
    """httpx, like curl, does not exempt loopback by itself: only NO_PROXY does."""
    run = run_harness(
        *_options(staging, pki, token),
        "--requirement=BSK-WIRE-005",
        env=clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="localhost,127.0.0.1"),
    )
    assert run.exit_code == 0, run.output[-3000:]
    assert proxy.requests == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_proxy_is_named(run_harness, staging, pki, token):
    dead = f"http://127.0.0.1:{_closed_port()}"
    run = run_harness(*_options(staging, pki, token), env=clean_env(HTTPS_PROXY=dead))
    line = _one_line_error(run, f"proxy unreachable: cannot connect to proxy {dead}")
    assert "(from HTTPS_PROXY)" in line


# -- usage errors ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Authorization: Bearer x", "X-API-Key: bsk_test_x", "cookie: s=1"])
def test_the_contracts_credentials_cannot_be_gateway_headers(run_harness, header):
    run = run_harness("--target=https://127.0.0.1:9", f"--target-profile={PROFILE}", f"--target-header={header}")
    assert run.exit_code == 3, run.output[-3000:]
    name = header.split(":")[0]
    assert f"--target-header: {name} cannot be set as a gateway header" in run.output
    assert header.split(":", 1)[1].strip() not in run.output


def test_profile_headers_are_checked_with_the_rest(run_harness, tmp_path):
    profile = profile_with_headers(PROFILE, tmp_path / "p.toml", {"Authorization": "Basic abc", "Bad Name": "v"})
    run = run_harness("--target=https://127.0.0.1:9", f"--target-profile={profile}")
    assert run.exit_code == 3, run.output[-3000:]
    assert "headers: Authorization cannot be set as a gateway header" in run.output
    assert "headers: 'Bad Name' is not a valid header name" in run.output
    assert "Basic abc" not in run.output


def test_connection_options_need_a_remote_target(run_harness, pki):
    run = run_harness(f"--ca-bundle={pki.ca}")
    assert run.exit_code == 3, run.output[-3000:]
    assert "--ca-bundle: only with --target" in run.output


def test_a_missing_ca_bundle_is_a_usage_error(run_harness, tmp_path):
    run = run_harness(
        "--target=https://127.0.0.1:9", f"--target-profile={PROFILE}", f"--ca-bundle={tmp_path / 'none.pem'}"
    )
    assert run.exit_code == 3, run.output[-3000:]
    assert "--ca-bundle" in run.output and "cannot load CA certificates" in run.output


def test_gateway_header_from_the_profile_reaches_the_gateway(run_harness, staging, pki, token, tmp_path):
    profile = profile_with_headers(PROFILE, tmp_path / "p.toml", {GATEWAY_HEADER: token})
    options = [o for o in _options(staging, pki, token, header=False) if not o.startswith("--target-profile")]
    run = run_harness(*options, f"--target-profile={profile}", "--requirement=BSK-WIRE-005", env=clean_env())
    assert run.exit_code == 0, run.output[-3000:]
    assert token not in _artifacts(run)


def test_tls_options_with_a_plain_http_target_are_a_usage_error(run_harness, pki):
    run = run_harness("--target=http://127.0.0.1:9", f"--target-profile={PROFILE}", f"--ca-bundle={pki.ca}")
    assert run.exit_code == 3, run.output[-3000:]
    assert "--ca-bundle: the target is http://" in run.output
