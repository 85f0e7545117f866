"""Two-factor authentication (contract §3): setup, enable, login, replay, disable."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from .conftest import ALICE, BOB, Api, code_at


def login_with(api: Api, code: Any = None, account: dict[str, str] = ALICE) -> Any:
    body: dict[str, Any] = dict(account)
    if code is not None:
        body["twoFactorCode"] = code
    return api.http.post("/auth/login", json=body)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert "accessToken" not in response.json() and "refreshToken" not in response.json()


class TestSetup:
    def test_setup_answers_a_secret_and_uri_uncached(self, api: Api) -> None:
        response = api.http.post("/auth/2fa/setup", headers=api.bearer())
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json()
        assert len(pyotp.TOTP(body["secret"]).byte_secret()) >= 16
        parsed = pyotp.parse_uri(body["otpauthUri"])
        assert isinstance(parsed, pyotp.TOTP)
        assert parsed.secret == body["secret"] and parsed.digits == 6 and parsed.interval == 30
        assert parsed.name == ALICE["email"]

    def test_setup_alone_does_not_turn_2fa_on(self, api: Api) -> None:
        api.http.post("/auth/2fa/setup", headers=api.bearer())
        assert api.login().status_code == 200

    def test_enable_needs_a_code_from_the_pending_secret(self, api: Api) -> None:
        headers = api.bearer()
        secret = api.http.post("/auth/2fa/setup", headers=headers).json()["secret"]
        wrong = pyotp.TOTP(pyotp.random_base32())
        response = api.http.post("/auth/2fa/enable", headers=headers, json={"code": code_at(wrong, api.clock.now())})
        assert 400 <= response.status_code < 500 and response.json()["error"] == "invalid_two_factor_code"
        good = code_at(pyotp.TOTP(secret), api.clock.now())
        assert api.http.post("/auth/2fa/enable", headers=headers, json={"code": good}).status_code == 204
        assert api.http.get("/me", headers=headers).json()["twoFactorEnabled"] is True

    def test_enable_without_setup_is_a_4xx(self, api: Api) -> None:
        response = api.http.post("/auth/2fa/enable", headers=api.bearer(), json={"code": "123456"})
        assert response.status_code == 409 and response.json()["error"] == "two_factor_not_set_up"

    def test_setup_when_enabled_is_refused(self, api: Api) -> None:
        totp = api.enable_2fa()
        pair = api.tokens(twoFactorCode=code_at(totp, api.clock.now()))
        response = api.http.post("/auth/2fa/setup", headers={"Authorization": f"Bearer {pair['accessToken']}"})
        assert response.status_code == 409 and response.json()["error"] == "two_factor_already_enabled"

    @pytest.mark.parametrize("path", ["/auth/2fa/setup", "/auth/2fa/enable", "/auth/2fa/disable"])
    def test_api_keys_cannot_manage_2fa(self, api: Api, path: str) -> None:
        key = api.create_key()["key"]
        response = api.http.post(path, headers={"X-API-Key": key}, json={"code": "123456"})
        assert response.status_code == 403


class TestLogin:
    def test_without_a_code_answers_two_factor_required(self, api: Api) -> None:
        api.enable_2fa()
        response = login_with(api)
        assert_error(response, 401, "two_factor_required")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="bsk"'

    def test_with_a_current_code_succeeds(self, api: Api) -> None:
        totp = api.enable_2fa()
        assert login_with(api, code_at(totp, api.clock.now())).status_code == 200

    def test_a_wrong_password_is_invalid_credentials_never_two_factor_required(self, api: Api) -> None:
        totp = api.enable_2fa()
        wrong = {**ALICE, "password": "wrong"}
        assert_error(login_with(api, account=wrong), 401, "invalid_credentials")
        assert_error(login_with(api, code_at(totp, api.clock.now()), account=wrong), 401, "invalid_credentials")

    def test_a_wrong_code_is_invalid_two_factor_code(self, api: Api) -> None:
        totp = api.enable_2fa()
        right = code_at(totp, api.clock.now())
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        assert_error(login_with(api, wrong), 401, "invalid_two_factor_code")

    @pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 456", "١٢٣٤٥٦", "0" * 64])
    def test_a_malformed_code_is_refused_without_a_5xx(self, api: Api, code: str) -> None:
        api.enable_2fa()
        response = login_with(api, code)
        assert response.status_code in (400, 401)
        assert response.json()["error"] in ("invalid_request", "invalid_two_factor_code")

    def test_a_mistyped_code_is_400(self, api: Api) -> None:
        totp = api.enable_2fa()
        response = login_with(api, int(code_at(totp, api.clock.now())))
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"

    def test_one_step_either_side_is_accepted(self, api: Api) -> None:
        totp = api.enable_2fa()
        api.clock.advance(30)  # the enabling step is spent; the one after it is now "previous"
        assert login_with(api, code_at(totp, api.clock.now() - 30)).status_code == 200
        api.clock.advance(60)
        assert login_with(api, code_at(totp, api.clock.now() + 30)).status_code == 200

    def test_two_steps_away_is_refused(self, api: Api) -> None:
        totp = api.enable_2fa()
        api.clock.advance(90)
        assert_error(login_with(api, code_at(totp, api.clock.now() - 60)), 401, "invalid_two_factor_code")
        assert_error(login_with(api, code_at(totp, api.clock.now() + 60)), 401, "invalid_two_factor_code")

    def test_the_clock_drives_the_steps(self, api: Api) -> None:
        totp = api.enable_2fa()
        stale = code_at(totp, api.clock.now())
        api.clock.advance(90)
        assert_error(login_with(api, stale), 401, "invalid_two_factor_code")


class TestReplay:
    def test_a_code_is_accepted_once(self, api: Api) -> None:
        totp = api.enable_2fa()
        code = code_at(totp, api.clock.now())
        assert login_with(api, code).status_code == 200
        assert_error(login_with(api, code), 401, "invalid_two_factor_code")

    def test_the_enabling_code_cannot_log_in(self, api: Api) -> None:
        headers = api.bearer()
        totp = pyotp.TOTP(api.http.post("/auth/2fa/setup", headers=headers).json()["secret"])
        code = code_at(totp, api.clock.now())
        assert api.http.post("/auth/2fa/enable", headers=headers, json={"code": code}).status_code == 204
        assert_error(login_with(api, code), 401, "invalid_two_factor_code")

    def test_an_earlier_step_is_refused_after_a_later_one(self, api: Api) -> None:
        totp = api.enable_2fa()
        assert login_with(api, code_at(totp, api.clock.now() + 30)).status_code == 200
        assert_error(login_with(api, code_at(totp, api.clock.now())), 401, "invalid_two_factor_code")

    def test_the_next_step_is_accepted(self, api: Api) -> None:
        totp = api.enable_2fa()
        assert login_with(api, code_at(totp, api.clock.now())).status_code == 200
        api.clock.advance(30)
        assert login_with(api, code_at(totp, api.clock.now())).status_code == 200

    def test_a_login_code_cannot_disable(self, api: Api) -> None:
        totp = api.enable_2fa()
        code = code_at(totp, api.clock.now())
        pair = login_with(api, code).json()
        headers = {"Authorization": f"Bearer {pair['accessToken']}"}
        response = api.http.post("/auth/2fa/disable", headers=headers, json={"code": code})
        assert 400 <= response.status_code < 500


class TestDisable:
    def test_disable_with_a_valid_code(self, api: Api) -> None:
        totp = api.enable_2fa()
        pair = login_with(api, code_at(totp, api.clock.now())).json()
        headers = {"Authorization": f"Bearer {pair['accessToken']}"}
        api.clock.advance(30)
        assert api.http.post("/auth/2fa/disable", headers=headers,
                             json={"code": code_at(totp, api.clock.now())}).status_code == 204
        assert api.login().status_code == 200

    def test_disable_needs_a_valid_code(self, api: Api) -> None:
        totp = api.enable_2fa()
        pair = login_with(api, code_at(totp, api.clock.now())).json()
        headers = {"Authorization": f"Bearer {pair['accessToken']}"}
        response = api.http.post("/auth/2fa/disable", headers=headers, json={"code": "000000"})
        assert 400 <= response.status_code < 500
        assert_error(login_with(api), 401, "two_factor_required")

    def test_disable_when_off_is_a_4xx(self, api: Api) -> None:
        response = api.http.post("/auth/2fa/disable", headers=api.bearer(), json={"code": "123456"})
        assert response.status_code == 409

    def test_2fa_is_per_user(self, api: Api) -> None:
        api.enable_2fa()
        assert api.login(BOB).status_code == 200
