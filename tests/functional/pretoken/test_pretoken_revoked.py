"""AUTHZ_PRETOKEN_BLOCK_REVOKED: a user revoked ``until`` a later time gets no new tokens.

Against DynamoDB Local: the revocation is written through the repository, the
trigger reads it with one GetItem, and the option off reads nothing at all.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from authz.errors import StoreUnavailableError
from authz.handlers import pretoken
from authz.handlers.pretoken import PreTokenTrigger, SignInBlockedError
from authz.revocations import Revocation, Target
from authz.settings import Settings
from tests.functional.pretoken.helpers import load_event, unreachable_repository, with_groups

TENANT = {"claims": {"tenant": "acme"}, "scopes": ["orders/read"]}
EVENT_SUB = load_event("pretoken_v2")["request"]["userAttributes"]["sub"]
MESSAGE = "sign-in is not allowed for this user at this time"


def revoke(
    repository: Any, sub: str = EVENT_SUB, *, until: timedelta | None = None, kind: str = "sub"
) -> Revocation:
    now = datetime.now(UTC)
    revocation = Revocation.new(
        Target(kind, sub),  # type: ignore[arg-type]
        reason="account under review",
        revoked_by="test",
        revoked_at=now,
        until=now + until if until is not None else None,
        max_token_lifetime=3600,
    )
    repository.revoke(revocation)
    return revocation


@pytest.fixture
def blocking(repository: Any, trigger_log: logging.Logger) -> PreTokenTrigger:
    return PreTokenTrigger(repository, logger=trigger_log, block_revoked=True)


def test_a_user_revoked_until_later_cannot_sign_in(
    blocking: PreTokenTrigger,
    repository: Any,
    seed: Callable[..., None],
    count_requests: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The trigger raises a message without internals, logs why, and reads nothing else."""
    seed("tenant-acme", TENANT)
    revocation = revoke(repository, until=timedelta(hours=1))
    event = with_groups("pretoken_v2", ["tenant-acme"])
    before = copy.deepcopy(event)
    counter = count_requests(repository)

    with pytest.raises(SignInBlockedError) as info:
        blocking(event)

    assert str(info.value) == MESSAGE
    assert "account under review" not in str(info.value)
    assert event == before
    assert dict(counter.by_operation) == {"GetItem": 1}
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.revocation == revocation.to_dict()  # type: ignore[attr-defined]


def test_a_user_without_groups_is_blocked_too(blocking: PreTokenTrigger, repository: Any) -> None:
    revoke(repository, until=timedelta(minutes=5))
    with pytest.raises(SignInBlockedError):
        blocking(with_groups("pretoken_v2", []))


@pytest.mark.parametrize("version", ["pretoken_v1", "pretoken_v2"])
def test_a_plain_revocation_does_not_block_a_fresh_sign_in(
    version: str, blocking: PreTokenTrigger, repository: Any, seed: Callable[..., None]
) -> None:
    """Without ``until`` the revocation refuses old tokens; signing in afresh is the way back."""
    seed("tenant-acme", TENANT)
    revoke(repository)
    out = blocking(with_groups(version, ["tenant-acme"]))
    assert out["response"] != {"claimsAndScopeOverrideDetails": None}


def test_the_block_ends_when_until_has_passed(
    repository: Any, trigger_log: logging.Logger, seed: Callable[..., None]
) -> None:
    """After ``until`` the revocation still refuses old tokens but lets a new sign-in through."""
    seed("tenant-acme", TENANT)
    revocation = revoke(repository, until=timedelta(minutes=10))
    assert revocation.until is not None
    until = revocation.until.timestamp()
    at_until = PreTokenTrigger(
        repository, logger=trigger_log, block_revoked=True, clock=lambda: until
    )
    after = PreTokenTrigger(
        repository, logger=trigger_log, block_revoked=True, clock=lambda: until + 1
    )
    with pytest.raises(SignInBlockedError):
        at_until(with_groups("pretoken_v2", ["tenant-acme"]))
    out = after(with_groups("pretoken_v2", ["tenant-acme"]))
    access = out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access["claimsToAddOrOverride"] == {"tenant": "acme"}


def test_other_users_and_other_kinds_do_not_block(
    blocking: PreTokenTrigger,
    repository: Any,
    seed: Callable[..., None],
    count_requests: Any,
) -> None:
    """Only a ``sub`` revocation of this user blocks; one GetItem, then the usual BatchGetItem."""
    seed("tenant-acme", TENANT)
    revoke(repository, "someone-else", until=timedelta(hours=1))
    revoke(repository, EVENT_SUB, kind="jti")
    counter = count_requests(repository)
    out = blocking(with_groups("pretoken_v2", ["tenant-acme"]))
    assert (
        "claimsToAddOrOverride"
        in out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    )
    assert dict(counter.by_operation) == {"GetItem": 1, "BatchGetItem": 1}


def test_off_by_default_reads_no_revocation(
    trigger: PreTokenTrigger,
    repository: Any,
    seed: Callable[..., None],
    count_requests: Any,
) -> None:
    """With the option off, even a blocking revocation is not read: one BatchGetItem only."""
    seed("tenant-acme", TENANT)
    revoke(repository, until=timedelta(hours=1))
    counter = count_requests(repository)
    out = trigger(with_groups("pretoken_v2", ["tenant-acme"]))
    assert out["response"]["claimsAndScopeOverrideDetails"] is not None
    assert dict(counter.by_operation) == {"BatchGetItem": 1}


def test_client_credentials_events_are_not_checked(
    blocking: PreTokenTrigger, repository: Any, count_requests: Any
) -> None:
    """A machine client has no user to block: no request at all."""
    counter = count_requests(repository)
    event = load_event("pretoken_v3_client_credentials")
    before = copy.deepcopy(event)
    assert blocking(event) == before
    assert counter.total == 0


def test_a_user_event_without_a_sub_is_refused(blocking: PreTokenTrigger) -> None:
    """Without the sub the block cannot be checked: fail closed."""
    with pytest.raises(ValueError, match=r"userAttributes\.sub is missing"):
        blocking(load_event("pretoken_v2", userAttributes={"email": "a@example.com"}))


def test_store_failure_refuses_the_sign_in(
    trigger_log: logging.Logger, caplog: pytest.LogCaptureFixture, dynamodb_local: Any
) -> None:
    """With the option on, an unreadable revocation fails the sign-in with the generic message."""
    repo = unreachable_repository()
    trigger = PreTokenTrigger(repo, logger=trigger_log, block_revoked=True)
    event = with_groups("pretoken_v2", [])

    with pytest.raises(StoreUnavailableError) as info:
        trigger(event)

    assert str(info.value) == "authorization data is unavailable; try again"
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "revocation could not be read; sign-in refused"
    assert error.sub == EVENT_SUB  # type: ignore[attr-defined]


def test_handler_reads_the_option_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, store_settings: Settings, repository: Any
) -> None:
    """AUTHZ_PRETOKEN_BLOCK_REVOKED=true turns the block on in the Lambda entry point."""
    revoke(repository, until=timedelta(hours=1))
    monkeypatch.setenv("AUTHZ_TABLE", store_settings.table)
    monkeypatch.setenv("AUTHZ_DYNAMODB_ENDPOINT", str(store_settings.dynamodb_endpoint))
    event = with_groups("pretoken_v2", [])
    pretoken.container.install(None)
    try:
        assert pretoken.handler(copy.deepcopy(event), None) == event
        pretoken.container.install(None)
        monkeypatch.setenv("AUTHZ_PRETOKEN_BLOCK_REVOKED", "true")
        with pytest.raises(SignInBlockedError):
            pretoken.handler(copy.deepcopy(event), None)
    finally:
        pretoken.container.install(None)
