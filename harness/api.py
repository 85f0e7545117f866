"""The check author's API: everything a check in `suites/` may import from the harness.

A suite module imports from here, from its own helper modules (relatively),
from the standard library and from the stack's libraries (pytest, httpx,
schemathesis, hypothesis, PyJWT, cryptography, pyotp); never from another
harness module and never from `reference_server` (a check speaks HTTP only).
`tests/harness/test_check_api.py` holds the suites to that. The fixtures a
check asks for by name (`target`, `clock`, `user`, `resources`, `two_factor`,
`live_deployment`, ...) are listed in `docs/writing-checks.md`; the types they
hand a check are exported here for annotations.
"""

from __future__ import annotations

import pytest

from bsk_conformance.harness.accounts import disable_two_factor, enable_two_factor, login, organization_of
from bsk_conformance.harness.clock import ClockStrategy, advance_to, held_at
from bsk_conformance.harness.contract import (
    ACCESS_TOKEN_TTL,
    DISPLAYED_SECRET_CHARS,
    KEY_PREFIXES,
    REFRESH_TOKEN_TTL,
    SCOPES,
    TOTP_STEP,
)
from bsk_conformance.harness.disturbances import touch as record_disturbance
from bsk_conformance.harness.evidence import SECRET_FIELDS, EvidenceLog, Exchange, RawExchange, Redactor
from bsk_conformance.harness.expect import (
    describe,
    expect,
    expect_error,
    expect_fields,
    expect_json_object,
    expect_status,
    fail,
    header,
    json_body,
)
from bsk_conformance.harness.inprocess import InProcessServer
from bsk_conformance.harness.phases import share_dir
from bsk_conformance.harness.profile import Account, Profile
from bsk_conformance.harness.session import Resources, TwoFactorRegistry, UserSession, log_out_for_good
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.timestamps import format_rfc3339, is_rfc3339_utc, parse_rfc3339
from bsk_conformance.harness.two_factor import TwoFactorAccount
from bsk_conformance.harness.verdicts import CheckFailed, CleanupFailed, NotVerified, PreconditionFailed, not_verified

#: `@requirement("BSK-TOK-004")`: the catalogue ID a check shows (fixtures/requirements/*.toml)
requirement = pytest.mark.requirement

__all__ = [
    # declaring a check
    "requirement",
    # claims about an answer, and the check's other ends
    "describe",
    "expect",
    "expect_error",
    "expect_fields",
    "expect_json_object",
    "expect_status",
    "fail",
    "header",
    "json_body",
    "not_verified",
    "CheckFailed",
    "CleanupFailed",
    "NotVerified",
    "PreconditionFailed",
    # what fixtures hand a check
    "Account",
    "ClockStrategy",
    "EvidenceLog",
    "Exchange",
    "InProcessServer",
    "Profile",
    "RawExchange",
    "Redactor",
    "Resources",
    "Target",
    "TwoFactorAccount",
    "TwoFactorRegistry",
    "UserSession",
    "log_out_for_good",
    "SECRET_FIELDS",
    # time
    "advance_to",
    "held_at",
    "format_rfc3339",
    "is_rfc3339_utc",
    "parse_rfc3339",
    # the contract's constants
    "ACCESS_TOKEN_TTL",
    "DISPLAYED_SECRET_CHARS",
    "KEY_PREFIXES",
    "REFRESH_TOKEN_TTL",
    "SCOPES",
    "TOTP_STEP",
    # account flows
    "disable_two_factor",
    "enable_two_factor",
    "login",
    "organization_of",
    # a parallel run (docs/parallel-runs.md): shared state a check disturbs, and
    # the directory every process of the run sees
    "record_disturbance",
    "share_dir",
]
