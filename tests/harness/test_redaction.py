"""The one place secrets are removed: the Redactor, and the evidence log that uses it."""

import json

import httpx

from bsk_conformance.harness.evidence import EvidenceLog, RecordingTransport, Redactor

PASSWORD = "correct horse battery staple"
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfYWxpY2UifQ.c2lnbmF0dXJlLWJ5dGVz"
KEY = "bsk_test_" + "A1b2C3d4" * 5


def test_fingerprint_is_stable_within_a_run_and_differs_across_runs():
    first, second = Redactor(b"k" * 32), Redactor(b"j" * 32)
    assert first.fingerprint("s3cret-value", "token") == first.fingerprint("s3cret-value", "token")
    assert first.fingerprint("s3cret-value", "token") != second.fingerprint("s3cret-value", "token")
    assert first.fingerprint("s3cret-value", "token").startswith("«token:")


def test_registered_secret_is_removed_from_free_text():
    redactor = Redactor()
    redactor.register(PASSWORD, "password")
    out = redactor.text(f"login failed for password={PASSWORD}!")
    assert PASSWORD not in out and "«password:" in out


def test_secret_shapes_are_removed_even_when_never_registered():
    out = Redactor().text(f"Bearer {JWT} and {KEY} and otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP")
    assert JWT not in out and KEY not in out and "JBSWY3DPEHPK3PXP" not in out


def test_json_secret_fields_are_learned_and_then_redacted_everywhere():
    redactor = Redactor()
    body = json.dumps({"accessToken": "opaque-access-123", "refreshToken": "rt_opaque_456789", "key": KEY}).encode()
    out = redactor.body(body)
    for secret in ("opaque-access-123", "rt_opaque_456789", KEY):
        assert secret not in out
        # learned: a later echo in another place is redacted too
        assert secret not in redactor.text(f"echo {secret}")


def test_totp_codes_and_passwords_in_request_bodies_are_redacted():
    redactor = Redactor()
    out = redactor.body(json.dumps({"email": "a@b.test", "password": PASSWORD, "twoFactorCode": "123456"}).encode())
    assert PASSWORD not in out and "123456" not in out and "a@b.test" in out


def test_credential_headers_and_query_strings_are_redacted():
    redactor = Redactor()
    headers = redactor.headers({"Authorization": f"Bearer {JWT}", "X-API-Key": KEY, "Cookie": "sid=abcdef123456"})
    assert (
        JWT not in json.dumps(headers) and KEY not in json.dumps(headers) and "abcdef123456" not in json.dumps(headers)
    )
    assert headers["authorization"].startswith("Bearer «")
    url = redactor.url("http://h/me?access_token=opaque-token-value&x=1")
    assert "opaque-token-value" not in url and "x=1" in url


def test_recording_transport_keeps_redacted_exchanges_only():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"accessToken": "server-issued-token-1", "echo": PASSWORD})

    redactor = Redactor()
    redactor.register(PASSWORD, "password")
    log = EvidenceLog(redactor)
    client = httpx.Client(transport=RecordingTransport(httpx.MockTransport(answer), log), base_url="http://t/")
    with log.collecting() as bucket:
        response = client.post("auth/login", json={"email": "a@b.test", "password": PASSWORD})
    assert response.json()["accessToken"] == "server-issued-token-1"  # the check still sees the real answer
    recorded = json.dumps([e.as_dict() for e in bucket])
    assert len(bucket) == 1 and bucket[0].status == 200
    assert PASSWORD not in recorded and "server-issued-token-1" not in recorded


def test_transport_errors_are_recorded_and_re_raised():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    log = EvidenceLog(Redactor())
    client = httpx.Client(transport=RecordingTransport(httpx.MockTransport(refuse), log), base_url="http://t/")
    with log.collecting() as bucket:
        try:
            client.get("me")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the transport error must reach the check")
    assert bucket[0].status is None and "ConnectError" in bucket[0].error


def test_bodies_over_the_cap_are_truncated_with_a_flag():
    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 100_000)

    log = EvidenceLog(Redactor())
    client = httpx.Client(transport=RecordingTransport(httpx.MockTransport(big), log), base_url="http://t/")
    with log.collecting() as bucket:
        client.get("big")
    assert bucket[0].truncated and len(bucket[0].responseBody) <= 16 * 1024


def test_a_password_echoed_json_escaped_is_still_redacted():
    password = 'pa"ss\\wörd-123'
    redactor = Redactor()
    redactor.register(password, "password")
    echoed = json.dumps({"message": f"bad password {password}"}).encode()  # escaped: \" \\ \u00f6
    out = redactor.body(echoed)
    assert json.dumps(password)[1:-1] not in out and password not in out and "«password:" in out
