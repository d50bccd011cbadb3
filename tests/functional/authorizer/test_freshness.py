"""Caching, the policy epoch, request counts and DynamoDB failures, with a hand-moved clock."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from authz.dev.dynamodb import DynamoDBLocal
from authz.errors import StoreError
from authz.handlers.authorizer import AuthorizerApp, AuthorizerUnavailable
from authz.handlers.observability import Telemetry
from authz.policy import PolicyDocument, Selector, evaluate
from authz.service import Authorizer
from authz.settings import Settings
from authz.token import JwksCache, Verifier
from tests.functional.authorizer.conftest import KEY, Harness, no_fetch, token
from tests.functional.authorizer.support import ANY_API, Clock, allow, arn, document, event, load
from tests.tokens import CLIENT_ID, jwks, settings_for


def rest(tok: str, verb: str = "GET", path: str = "orders/1") -> dict[str, Any]:
    return event("rest_token", tok, methodArn=arn(verb, path))


def allowed(response: dict[str, Any], verb: str, path: str) -> bool:
    return evaluate(PolicyDocument.from_dict(response["policyDocument"]), arn(verb, path)).allowed


def test_cache_miss_costs_one_request_and_hits_cost_none(
    harness: Callable[..., Harness], loaded: Any, count_requests: Any
) -> None:
    """A cold start reads epoch and policies in one request, a new selector set then costs one
    BatchGetItem, and repeats cost nothing."""
    h = harness()
    counter = count_requests(loaded)
    h(rest(token("a", groups=("readers",))))
    # Cold: epoch + policies at once, then the revocation set.
    assert dict(counter.by_operation) == {"TransactGetItems": 1, "Query": 1}
    assert h.authorizer.epoch == loaded.epoch()
    counter.reset()
    h(rest(token("b", groups=("admins",))))
    assert dict(counter.by_operation) == {"BatchGetItem": 1}
    counter.reset()
    for sub in ("a", "c", "d"):  # known selector sets, new and repeated tokens
        h(rest(token(sub, groups=("readers",))))
    h(rest(token("e", groups=("admins",)), "DELETE", "orders/2"))
    assert counter.total == 0
    flags = [(d["token_cache"], d["policy_cache"]) for d in h.decisions()]
    assert flags[:2] == [("miss", "miss"), ("miss", "miss")]
    assert flags[2] == ("miss", "hit")


def test_repeated_token_is_served_from_the_token_memo(harness: Callable[..., Harness]) -> None:
    """The same token twice: the second decision is a token-cache hit with the same policy."""
    h = harness()
    tok = token("memo", groups=("readers",))
    first = h(rest(tok))
    second = h(rest(tok, "GET", "health"))
    assert second["policyDocument"] == first["policyDocument"]
    assert [d["token_cache"] for d in h.decisions()] == ["miss", "hit"]


def test_epoch_change_is_seen_within_the_check_interval_and_read_at_most_once_per_interval(
    harness: Callable[..., Harness], loaded: Any, count_requests: Any, clock: Clock
) -> None:
    """A write is picked up at the first request after epoch_check_seconds, not before, and the
    epoch is read once per interval however many requests arrive."""
    h = harness(epoch_check_seconds=5.0)
    tok = token("w", groups=("readers",))
    assert not allowed(h(rest(tok)), "POST", "orders")
    counter = count_requests(loaded)
    loaded.put(Selector("group", "readers"), document(allow(f"{ANY_API}/*/*/orders")), actor="t")
    counter.reset()
    for _ in range(20):
        clock.advance(0.2)  # 4 s in all: still inside the interval
        assert not allowed(h(rest(tok)), "POST", "orders")
    assert counter.total == 0
    clock.advance(1.0)
    assert allowed(h(rest(tok)), "POST", "orders")
    assert dict(counter.by_operation) == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    counter.reset()
    for _ in range(30):
        clock.advance(0.2)
        h(rest(tok))
    assert counter.by_operation["GetItem"] == 1  # 6 s more: the next interval's one read


def test_expired_entry_is_served_stale_while_the_store_is_down_then_fails(
    harness: Callable[..., Harness], clock: Clock
) -> None:
    """Within stale_if_error_seconds past expiry the cached policy serves (marked stale); after it
    the answer is a 500-type error, never Unauthorized, never a Deny."""
    h = harness(ttl_seconds=300, stale_if_error_seconds=60)
    tok = token("s", groups=("readers",))
    fresh = h(rest(tok))
    h.store.down = True
    clock.advance(200)  # fresh: no store call needed at all
    assert h(rest(tok))["policyDocument"] == fresh["policyDocument"]
    clock.advance(130)  # 30 s past expiry
    stale = h(rest(tok))
    assert stale["policyDocument"] == fresh["policyDocument"]
    assert h.decisions()[-1]["stale"] is True
    assert h(rest(token("s2", groups=("readers",))))["principalId"] == "s2"  # new token, same set
    clock.advance(31)  # 61 s past expiry
    with pytest.raises(AuthorizerUnavailable) as info:
        h(rest(tok))
    assert str(info.value) != "Unauthorized"
    assert h.decisions()[-1]["outcome"] == "error"
    assert h.decisions()[-1]["StoreErrors"] == 1
    h.store.down = False
    assert allowed(h(rest(tok)), "GET", "orders/1")  # recovers on the next request


def test_store_down_without_any_cache_is_a_500_type_error(harness: Callable[..., Harness]) -> None:
    """A cold authorizer with DynamoDB down answers neither Allow nor Deny: it raises."""
    h = harness()
    h.store.down = True
    with pytest.raises(AuthorizerUnavailable):
        h(rest(token("cold", groups=("readers",))))


def test_failed_epoch_read_keeps_fresh_entries_serving_and_is_retried(
    harness: Callable[..., Harness], clock: Clock
) -> None:
    """An epoch read that fails does not fail requests with fresh cached policies; the next
    request tries the epoch again."""
    h = harness(epoch_check_seconds=5.0)
    tok = token("e", groups=("readers",))
    h(rest(tok))
    h.store.down = True
    clock.advance(6)
    before = h.store.calls["epoch"]
    assert allowed(h(rest(tok)), "GET", "orders/1")
    assert allowed(h(rest(tok)), "GET", "orders/1")
    assert h.store.calls["epoch"] == before + 2
    h.store.down = False
    h(rest(tok))
    assert h.store.calls["epoch"] == before + 3
    h(rest(tok))
    assert h.store.calls["epoch"] == before + 3


@pytest.fixture
def private_dynamodb() -> Iterator[DynamoDBLocal]:
    """A DynamoDB Local of this test's own, so stopping it disturbs no other test."""
    with DynamoDBLocal() as ddb:
        yield ddb


def test_really_stopped_dynamodb_serves_stale_then_fails(
    private_dynamodb: DynamoDBLocal, dynamodb_local: Any
) -> None:
    """With the DynamoDB Local process stopped, cached policies serve within the stale window
    and a 500-type error follows after it."""
    from authz.store.repository import DynamoRepository

    store = Settings(
        table=f"authz-stop-{uuid.uuid4().hex[:8]}",
        dynamodb_endpoint=private_dynamodb.endpoint,
        region="us-east-1",
    )
    repo = DynamoRepository(store)
    repo.create_table(wait=True)
    load(repo)
    clock = Clock()
    settings = settings_for(jwks_json=jwks(KEY))
    verifier = Verifier(settings, jwks=JwksCache(fetcher=no_fetch))
    cache = replace(settings.cache, ttl_seconds=10, stale_if_error_seconds=20)
    authorizer = Authorizer(verifier, repo, cache=cache, clock=clock)
    app = AuthorizerApp(settings, authorizer, Telemetry(stream=io.StringIO(), environ={}))
    tok = token("real", groups=("readers",))
    assert allowed(app(rest(tok)), "GET", "orders/1")
    private_dynamodb.stop()
    with pytest.raises(StoreError):
        repo.epoch()  # really down
    clock.advance(15)  # expired 5 s ago
    assert allowed(app(rest(tok)), "GET", "orders/1")
    clock.advance(20)  # 25 s past expiry
    with pytest.raises(AuthorizerUnavailable):
        app(rest(tok))


def test_module_handler_builds_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, store_settings: Settings, loaded: Any
) -> None:
    """``handler`` builds its verifier, repository and Authorizer once, from AUTHZ_* variables."""
    from authz.handlers import authorizer as module

    env = {
        "AUTHZ_USER_POOL_ID": "us-east-1_TestPool1",
        "AUTHZ_CLIENT_IDS": CLIENT_ID,
        "AUTHZ_JWKS_JSON": json.dumps(jwks(KEY)),
        # Any key fetch would go to a closed loopback port, never the network.
        "AUTHZ_JWKS_URL": "http://127.0.0.1:9/jwks.json",
        "AUTHZ_TABLE": store_settings.table,
        "AUTHZ_DYNAMODB_ENDPOINT": str(store_settings.dynamodb_endpoint),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    module.install(None)
    try:
        response = module.handler(rest(token("env", groups=("readers",))), None)
        app = module.container.current
        assert app is not None
        module.handler(rest(token("env2", groups=("readers",))), None)
        assert module.container.current is app  # built once per container
    finally:
        module.install(None)
    assert response["principalId"] == "env"
    assert allowed(response, "GET", "orders/1")
    assert not allowed(response, "POST", "orders")


class _Forwarding:
    """A wrapper that forwards every attribute to the repository it wraps, as test doubles
    with a failure switch do, except the snapshot read: it offers no get_many_with_epoch."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "get_many_with_epoch":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_a_repository_without_snapshot_reads_is_read_epoch_first(
    loaded: Any, count_requests: Any, clock: Clock
) -> None:
    """A repository whose class lacks get_many_with_epoch gets the cold start's epoch read
    first, then the policies (two requests), never the inner repository's snapshot read."""
    settings = settings_for(jwks_json=jwks(KEY))
    verifier = Verifier(settings, jwks=JwksCache(fetcher=no_fetch))
    authorizer = Authorizer(verifier, _Forwarding(loaded), cache=settings.cache, clock=clock)
    counter = count_requests(loaded)
    outcome = authorizer.authorize(token("fwd", groups=("readers",)), arn("GET", "orders/1"))
    assert outcome.allowed
    assert dict(counter.by_operation) == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    assert authorizer.epoch == loaded.epoch()


def test_cold_start_with_the_store_down_retries_its_one_read_next_time(
    harness: Callable[..., Harness], loaded: Any
) -> None:
    """A cold start whose combined epoch-and-policies read fails answers 500 and records no
    epoch; the next request makes that one read again and decides."""
    h = harness()
    h.store.down = True
    with pytest.raises(AuthorizerUnavailable):
        h(rest(token("c1", groups=("readers",))))
    assert h.authorizer.epoch is None
    h.store.down = False
    assert allowed(h(rest(token("c2", groups=("readers",)))), "GET", "orders/1")
    assert h.store.calls == {
        "get_many": 0,
        "epoch": 0,
        "get_many_with_epoch": 2,
        "live_revocations": 1,  # not reached by the failed cold start
    }
    assert h.authorizer.epoch == loaded.epoch()


def test_token_memo_keeps_a_slim_principal(harness: Callable[..., Harness]) -> None:
    """A repeated token is answered with its identity and the claims its policies read (here
    ${sub}), not the whole claim set; principals with equal groups share one groups tuple."""
    h = harness()
    arn_own = arn("GET", "users/bob")
    big = {"custom:blob": "x" * 500, "custom:tenant": "t1"}
    first = h.authorizer.authorize(token("bob", groups=("users", "readers"), **big), arn_own)
    tok = token("bob", groups=("users", "readers"), **big)
    h.authorizer.authorize(tok, arn_own)
    again = h.authorizer.authorize(tok, arn_own)
    assert again.token_cache_hit
    assert again.allowed
    verified, memo = first.principal, again.principal
    assert "custom:blob" in verified.claims
    assert dict(memo.claims) == {"sub": "bob"}
    assert memo.variables()["sub"] == "bob"
    for name in ("sub", "username", "client_id", "token_use", "groups", "scopes", "issuer"):
        assert getattr(memo, name) == getattr(verified, name)
    other = token("eve", groups=("users", "readers"))
    h.authorizer.authorize(other, arn_own)
    assert h.authorizer.authorize(other, arn_own).principal.groups is memo.groups
