"""The contract's account flows, as checks use them on the way to their rule:
log in, turn 2FA on and off, find an account's organization (contract §3).

A flow the target refuses raises `CheckFailed` naming the step (the check's
own rule may be that step), or `CleanupFailed` when it undoes a check.
"""

from __future__ import annotations

from bsk_conformance.harness.expect import describe, expect, expect_json_object, expect_status
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.session import TwoFactorRegistry, UserSession
from bsk_conformance.harness.verdicts import CleanupFailed, PreconditionFailed

__all__ = ["disable_two_factor", "enable_two_factor", "login", "organization_of"]


def login(registry: TwoFactorRegistry, account: Account) -> UserSession:
    """A fresh session for `account`, with a code from an unused TOTP step when 2FA is on."""
    return registry.login(account)


def enable_two_factor(registry: TwoFactorRegistry, account: Account) -> str:
    """Turn 2FA on for `account` (setup, then enable with a current code); its secret,
    registered with the redactor and the registry."""
    session = registry.login(account)
    setup = session.post("/auth/2fa/setup")
    expect_status(setup, 200, context=f"POST /auth/2fa/setup for {account.email}")
    secret = expect_json_object(setup, "2FA setup answer").get("secret")
    if not isinstance(secret, str):
        # the step a check needs to reach its rule did not happen: not the rule's verdict
        raise PreconditionFailed("the target's 2FA setup (POST /auth/2fa/setup) answered no secret", setup)
    registry.set(account, secret)  # registers it with the redactor too
    enable = session.post("/auth/2fa/enable", json={"code": registry.next_code(account, secret)})
    if enable.status_code != 204:
        registry.set(account, None)
    expect_status(enable, 204, context=f"POST /auth/2fa/enable for {account.email} with a current code")
    return secret


def disable_two_factor(
    registry: TwoFactorRegistry, account: Account, secret: str | None = None, *, cleanup: bool = False
) -> None:
    """Turn 2FA off for `account` with a current code. As a check's step a
    refusal fails the check; as its `cleanup` it raises `CleanupFailed`, never
    the verdict of the rule under check."""
    session = registry.login(account)
    response = session.post("/auth/2fa/disable", json={"code": registry.next_code(account, secret)})
    if response.status_code != 204 and cleanup:
        raise CleanupFailed(f"the target refused to turn 2FA off again for {account.email}: {describe(response)}")
    expect_status(response, 204, context="POST /auth/2fa/disable with a current code")
    registry.set(account, None)
    session.logout()


def organization_of(session: UserSession) -> str:
    """The session's organizationId: as preflight saw it, else as `GET /me` answers it."""
    known = session.target.capabilities.organizations.get(session.account.email)
    if known is not None:
        return known
    context = "GET /me"
    response = session.get("/me")
    expect_status(response, 200, context=context)
    organization = expect_json_object(response, context).get("organizationId")
    expect(isinstance(organization, str), "an organizationId", repr(organization), context)
    return organization
