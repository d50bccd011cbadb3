"""Revoked tokens through the authorizer handler, on DynamoDB Local.

Revocations are written through the real repository behind the harness, so
each one moves the policy epoch; the authorizer sees it at its next epoch
check (``epoch_check_seconds`` on the hand-moved clock). Token times are real
seconds, as the verifier checks ``iat`` against the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from authz.errors import StoreUnavailableError
from authz.handlers.authorizer import AuthorizerUnavailable
from authz.policy import PolicyDocument, evaluate
from authz.revocations import Revocation, RevocationSet, Target
from tests.functional.authorizer.conftest import KEY, Harness, token
from tests.functional.authorizer.support import Clock, arn, event
from tests.tokens import access_claims, mint

INTERVAL = 5.0  # the harness's epoch_check_seconds


def rest(tok: str, verb: str = "GET", path: str = "orders/1") -> dict[str, Any]:
    return event("rest_token", tok, methodArn=arn(verb, path))


def allowed(response: dict[str, Any]) -> bool:
    document = PolicyDocument.from_dict(response["policyDocument"])
    return evaluate(document, arn("GET", "orders/1")).allowed


def refused(h: Harness, tok: str) -> bool:
    """True when the handler answers 401 (the exception API Gateway maps to it)."""
    try:
        h(rest(tok))
    except Exception as exc:  # told apart below: only Unauthorized is a 401
        if exc.args == ("Unauthorized",):
            return True
        raise
    return False


def revoke(
    repository: Any,
    kind: str,
    value: str,
    *,
    ago: float = 0.0,
    until_ago: float | None = None,
) -> Revocation:
    """Write a revocation made ``ago`` seconds before now (``until`` likewise, if given)."""
    now = time.time()
    written = Revocation.new(
        Target(kind, value),  # type: ignore[arg-type]  # Target checks the kind
        reason="test",
        revoked_by="tests",
        revoked_at=datetime.fromtimestamp(now - ago, UTC),
        until=None if until_ago is None else datetime.fromtimestamp(now - until_ago, UTC),
        max_token_lifetime=86_400,
    )
    result = repository.revoke(written).revocation
    assert isinstance(result, Revocation)
    return result


def reader(sub: str, *, age: int = 0, signed_in: int | None = None, **claims: Any) -> str:
    """A reader's token issued ``age`` seconds ago, from a sign-in ``signed_in`` seconds ago."""
    issued = int(time.time()) - age
    auth_time = issued if signed_in is None else int(time.time()) - signed_in
    return token(sub, groups=("readers",), iat=issued, auth_time=auth_time, **claims)


def next_check(clock: Clock) -> None:
    clock.advance(INTERVAL)


@pytest.fixture
def h(harness: Callable[..., Harness]) -> Harness:
    return harness(epoch_check_seconds=INTERVAL)


@pytest.mark.parametrize(
    ("kind", "claims"),
    [
        ("sub", {}),
        ("origin_jti", {"origin_jti": "session-1"}),
        ("jti", {"jti": "token-1"}),
    ],
)
def test_each_target_kind_is_refused_with_401(
    h: Harness, loaded: Any, clock: Clock, kind: str, claims: dict[str, Any]
) -> None:
    """After the epoch check, a token named by a sub, origin_jti or jti revocation gets 401;
    a token of another user, session and id is still allowed."""
    victim = reader("mallory", **claims)
    assert allowed(h(rest(reader("bob"))))  # warm: the set is loaded, empty
    value = {"sub": "mallory", **claims}[kind]
    revoke(loaded, kind, value)
    next_check(clock)
    assert refused(h, victim)
    assert allowed(h(rest(reader("bob"))))
    assert h.store.calls["live_revocations"] == 2  # once cold, once after the move


def test_cold_start_holds_the_revocations_already_written(h: Harness, loaded: Any) -> None:
    """An authorizer started after the revocation refuses the token on its first request."""
    revoke(loaded, "jti", "already")
    assert refused(h, reader("carol", jti="already"))


def test_until_keeps_refusing_tokens_issued_before_it(h: Harness, loaded: Any) -> None:
    """revoked 600 s ago, until 300 s ago: a token issued 400 s ago (after the revocation,
    before until) is refused; one issued, and signed in, 100 s ago is allowed."""
    revoke(loaded, "sub", "dave", ago=600, until_ago=300)
    assert refused(h, reader("dave", age=400))
    assert refused(h, reader("dave", age=700))
    assert allowed(h(rest(reader("dave", age=100))))


def test_fresh_sign_in_works_after_a_plain_sub_revocation(h: Harness, loaded: Any) -> None:
    """Revoked 60 s ago: the old sign-in's tokens are refused, refreshed ones too (auth_time
    before the cutoff), and a sign-in after the cutoff is let in."""
    revoke(loaded, "sub", "erin", ago=60)
    assert refused(h, reader("erin", age=120))
    assert refused(h, reader("erin", age=0, signed_in=120))  # refreshed from the old session
    assert allowed(h(rest(reader("erin", age=0))))


def test_token_without_iat_counts_as_revoked(h: Harness, loaded: Any) -> None:
    """A revoked user's token that carries no iat cannot prove it is newer: refused."""
    revoke(loaded, "sub", "frank", ago=60)
    claims = access_claims(sub="frank", groups=("readers",))
    del claims["iat"], claims["auth_time"]
    assert allowed(h(rest(mint({**claims, "sub": "other", "username": "other"}, KEY))))
    assert refused(h, mint(claims, KEY))


def test_deletion_lets_the_token_in_after_the_epoch_check(
    h: Harness, loaded: Any, clock: Clock
) -> None:
    """A lifted revocation keeps refusing until the next epoch check, then the token passes."""
    revoke(loaded, "jti", "lifted")
    tok = reader("gina", jti="lifted")
    assert refused(h, tok)
    loaded.delete_revocation(Target("jti", "lifted"), actor="tests")
    clock.advance(INTERVAL / 2)
    assert refused(h, tok)  # within the bound: the held set still names it
    clock.advance(INTERVAL / 2)
    assert allowed(h(rest(tok)))


def test_token_in_the_memo_is_refused_after_the_epoch_check(
    h: Harness, loaded: Any, clock: Clock
) -> None:
    """A token answered from the memo until the epoch check is refused right after it."""
    tok = reader("hank", jti="memo-1")
    assert allowed(h(rest(tok)))
    assert allowed(h(rest(tok)))
    assert h.decisions()[-1]["token_cache"] == "hit"
    revoke(loaded, "jti", "memo-1")
    clock.advance(INTERVAL / 2)
    assert allowed(h(rest(tok)))  # the staleness bound: not checked yet
    clock.advance(INTERVAL / 2)
    assert refused(h, tok)
    assert refused(h, tok)  # a refusal is never remembered as an answer


def test_failed_reload_serves_the_old_set_within_stale_if_error_then_fails(
    harness: Callable[..., Harness], loaded: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The epoch moved but the set cannot be read: for stale_if_error_seconds the old set
    decides (still refusing what it names, decisions marked stale), then every new token is
    a 500, never a 401 or an Allow; once the store answers, the new revocation holds."""
    h = harness(epoch_check_seconds=INTERVAL, stale_if_error_seconds=60)
    revoke(loaded, "sub", "ivan", ago=60)
    old = reader("ivan", age=120)
    assert refused(h, old)
    revoke(loaded, "jti", "new-1")

    def unreachable(*, max_entries: int) -> RevocationSet:
        raise StoreUnavailableError("injected: revocations unreadable")

    monkeypatch.setattr(h.store, "live_revocations", unreachable)
    next_check(clock)
    assert refused(h, old)  # the old set still names it
    assert allowed(h(rest(reader("judy", jti="new-1"))))  # unknown to the old set ...
    assert h.decisions()[-1]["stale"] is True  # ... and marked stale, not remembered
    clock.advance(60)
    for tok in (old, reader("judy", jti="new-1"), reader("kim")):
        with pytest.raises(AuthorizerUnavailable) as info:
            h(rest(tok))
        assert info.value.args != ("Unauthorized",)
    monkeypatch.undo()
    assert refused(h, reader("judy", jti="new-1"))
    assert allowed(h(rest(reader("kim"))))


def test_overflow_refuses_what_it_holds_and_fails_closed_for_the_rest(
    harness: Callable[..., Harness], loaded: Any
) -> None:
    """More live revocations than AUTHZ_REVOCATIONS_MAX_ENTRIES: a token the held part names
    gets 401, any other token (a revoked one beyond the limit included) a 500."""
    h = harness(AUTHZ_REVOCATIONS_MAX_ENTRIES="2", epoch_check_seconds=INTERVAL)
    for n in range(3):
        revoke(loaded, "jti", f"j{n}")
    assert refused(h, reader("lena", jti="j0"))
    for tok in (reader("lena", jti="j2"), reader("mona")):
        with pytest.raises(AuthorizerUnavailable):
            h(rest(tok))
    assert h.decisions()[-1]["outcome"] == "error"


def test_revoked_tokens_never_get_an_allow_on_any_event_flavour(
    harness: Callable[..., Harness], loaded: Any
) -> None:
    """REST TOKEN and REQUEST events, HTTP API 1.0 and 2.0 with IAM or simple responses: a
    revoked token is 401 (or isAuthorized false), cold and warm alike."""
    revoke(loaded, "sub", "nina", ago=10)
    tok = reader("nina", age=20)
    for response in ("iam", "simple"):
        h = harness(AUTHZ_RESPONSE=response, epoch_check_seconds=INTERVAL)
        for name in ("rest_token", "rest_request", "http_v1", "http_v2"):
            for _ in range(2):  # the second time warm: nothing remembered lets it in
                ev = event(name, tok)
                if name == "rest_token":
                    ev["methodArn"] = arn("GET", "orders/1")
                if response == "simple" and name == "http_v2":
                    assert h(ev) == {"isAuthorized": False}
                    continue
                with pytest.raises(Exception, match=r"^Unauthorized$"):
                    h(ev)
        assert [d for d in h.decisions() if d.get("outcome") == "allow"] == []
