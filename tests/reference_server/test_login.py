"""Login (contract §3) and its per-account throttle (contract §5, a SHOULD)."""

from __future__ import annotations

from typing import Any

import pytest

from bsk_conformance.reference_server import Settings

from .conftest import ALICE, BOB, Api, code_at


def attempt(api: Api, email: str, password: str = "wrong password") -> Any:
    return api.http.post("/auth/login", json={"email": email, "password": password})


class TestCredentials:
    def test_unknown_email_and_wrong_password_answer_alike(self, api: Api) -> None:
        unknown = attempt(api, "nobody@acme.test")
        wrong = attempt(api, ALICE["email"])
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json() == wrong.json() == {
            "error": "invalid_credentials", "message": "The email or password is incorrect."}
        assert unknown.headers == wrong.headers

    def test_email_is_case_insensitive(self, api: Api) -> None:
        assert attempt(api, ALICE["email"].upper(), ALICE["password"]).status_code == 200

    def test_another_accounts_password_does_not_work(self, api: Api) -> None:
        assert attempt(api, ALICE["email"], BOB["password"]).status_code == 401

    @pytest.mark.parametrize("body", [{}, {"email": "a"}, {"password": "p"}, {"email": 1, "password": "p"},
                                      {"email": "a", "password": None}, {"email": "a", "password": "p" * 1025}])
    def test_malformed_bodies_are_400(self, api: Api, body: dict[str, Any]) -> None:
        response = api.http.post("/auth/login", json=body)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


class TestThrottle:
    """5 failures within 900 s lock an account (Settings.login_throttle_*)."""

    def test_the_sixth_attempt_after_five_failures_is_429(self, api: Api) -> None:
        for _ in range(5):
            assert attempt(api, ALICE["email"]).status_code == 401
        locked = attempt(api, ALICE["email"], ALICE["password"])  # even the right password
        assert locked.status_code == 429
        assert locked.json()["error"] == "too_many_attempts"
        assert locked.headers["Retry-After"] == "900"

    def test_the_lock_lifts_when_the_failures_age_out(self, api: Api) -> None:
        for _ in range(5):
            attempt(api, ALICE["email"])
        api.clock.advance(600)
        assert attempt(api, ALICE["email"], ALICE["password"]).headers["Retry-After"] == "300"
        api.clock.advance(300)
        assert attempt(api, ALICE["email"], ALICE["password"]).status_code == 200

    def test_a_success_resets_the_count(self, api: Api) -> None:
        for _ in range(4):
            attempt(api, ALICE["email"])
        assert attempt(api, ALICE["email"], ALICE["password"]).status_code == 200
        for _ in range(4):
            assert attempt(api, ALICE["email"]).status_code == 401
        assert attempt(api, ALICE["email"], ALICE["password"]).status_code == 200

    def test_unknown_emails_are_throttled_the_same_way(self, api: Api) -> None:
        """Otherwise the throttle itself would tell which emails have accounts."""
        for _ in range(5):
            attempt(api, "nobody@acme.test")
        assert attempt(api, "nobody@acme.test").status_code == 429

    def test_the_lock_is_per_account(self, api: Api) -> None:
        for _ in range(5):
            attempt(api, ALICE["email"])
        assert api.login(BOB).status_code == 200

    def test_wrong_2fa_codes_count_as_failures(self, api: Api) -> None:
        totp = api.enable_2fa()
        for _ in range(5):
            response = api.login(twoFactorCode="000000")
            assert response.json()["error"] == "invalid_two_factor_code"
        assert api.login(twoFactorCode=code_at(totp, api.clock.now())).status_code == 429

    def test_a_missing_2fa_code_is_not_a_failure(self, api: Api) -> None:
        totp = api.enable_2fa()
        for _ in range(6):
            assert api.login().json()["error"] == "two_factor_required"
        assert api.login(twoFactorCode=code_at(totp, api.clock.now())).status_code == 200

    @pytest.mark.parametrize("settings", [Settings(login_throttle_threshold=2, login_throttle_window=10)])
    def test_threshold_and_window_are_settings(self, api: Api) -> None:
        attempt(api, ALICE["email"])
        attempt(api, ALICE["email"])
        assert attempt(api, ALICE["email"]).headers["Retry-After"] == "10"
