"""Regression: settings stored before the identity rules can never forge a claim in a token."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from authz.handlers.pretoken import PreTokenTrigger
from tests.functional.pretoken.helpers import with_groups

STORED = {
    "claims": {
        "tenant": "acme",
        "email": "ceo@example.com",
        "Email": "ceo@example.com",
        "phone_number": "+15550100",
        "custom:tenant": "other",
        "Sub": "someone-else",
        "COGNITO:GROUPS": ["authz-admins"],
    },
    "scopes": ["orders/read", "openid", "PROFILE"],
}
REFUSED = [
    "token.claims.COGNITO:GROUPS",
    "token.claims.Email",
    "token.claims.Sub",
    "token.claims.custom:tenant",
    "token.claims.email",
    "token.claims.phone_number",
    "token.scopes[1]",
    "token.scopes[2]",
]


def stored_warning(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [warning] = [r for r in caplog.records if r.getMessage().startswith("stored token settings")]
    return warning


@pytest.mark.parametrize("version", ["2", "3"])
def test_stored_forged_email_and_case_variants_never_reach_v2_tokens(
    version: str,
    trigger: PreTokenTrigger,
    seed: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the legitimate claim and scope are emitted; every refused entry is logged."""
    seed("staff", STORED)
    event = with_groups("pretoken_v2", ["staff"])
    event["version"] = version
    out = trigger(event)
    details = out["response"]["claimsAndScopeOverrideDetails"]
    assert details["idTokenGeneration"] == {"claimsToAddOrOverride": {"tenant": "acme"}}
    assert details["accessTokenGeneration"] == {
        "claimsToAddOrOverride": {"tenant": "acme"},
        "scopesToAdd": ["orders/read"],
    }
    warning = stored_warning(caplog)
    assert warning.group == "staff"  # type: ignore[attr-defined]
    assert sorted(p["path"] for p in warning.problems) == REFUSED  # type: ignore[attr-defined]


def test_stored_forged_email_never_reaches_a_v1_id_token(
    trigger: PreTokenTrigger, seed: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """Version 1 carries the legitimate claim only."""
    seed("staff", STORED)
    out = trigger(with_groups("pretoken_v1", ["staff"]))
    details = out["response"]["claimsOverrideDetails"]
    assert details["claimsToAddOrOverride"] == {"tenant": "acme"}
    assert sorted(p["path"] for p in stored_warning(caplog).problems) == REFUSED  # type: ignore[attr-defined]


def test_group_whose_only_settings_are_forged_adds_nothing(
    trigger: PreTokenTrigger, seed: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing valid left: the event comes back without any override."""
    seed("staff", {"claims": {"email": "ceo@example.com"}, "scopes": ["openid"]})
    event = with_groups("pretoken_v2", ["staff"])
    before = dict(event["response"] or {})
    out = trigger(event)
    assert (out["response"] or {}) == before
    assert [p["path"] for p in stored_warning(caplog).problems] == [  # type: ignore[attr-defined]
        "token.scopes[0]",
        "token.claims.email",
    ]
