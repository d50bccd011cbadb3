"""The authorizer's caches never change an answer beyond their documented staleness bound.

A Hypothesis state machine edits policies in an in-memory store, moves the
clock, takes the store down and up, and asks for decisions for the tokens of
a few principals. After every decision: ``authorize()`` agrees with
``simulate()`` on the store's contents at some moment the documented bound
allows -- now or within ``epoch_check_seconds`` before now; while the store
is down, also within ``epoch_check_seconds`` before it went down or within
the TTL plus ``stale_if_error_seconds`` before now (an entry read then may
still serve) -- and a store failure is either an error or such an answer.
Admin writes happen only while the store is up: while DynamoDB is down none
can land, which is what the authorizer's stale-if-error relies on.

Deterministic: a hand-moved clock, a verifier that knows its tokens, no
network and no real time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from authz.errors import ExpiredTokenError, StoreError
from authz.policy import PolicyDocument, Selector
from authz.service import Authorizer, Outcome, simulate
from authz.store.memory import MemoryRepository
from authz.token.principal import Principal
from tests.functional.authorizer.support import (
    EPOCH_CHECK,
    STALE_IF_ERROR,
    TTL,
    WALL_START,
    Clock,
    KnownTokens,
    SnapshotReads,
    Switched,
    WallClock,
    machine_cache,
    principal,
)

API = "arn:aws:execute-api:us-east-1:123456789012:abcdef123"


def _doc(*statements: tuple[str, str]) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
                for effect, resource in statements
            ],
        }
    )


# Shorthand and full ARNs, with and without ${sub}: the shapes the caches key differently.
DOCUMENTS = [
    _doc(("Allow", "execute-api:/*/GET/health")),
    _doc(("Allow", "execute-api:/*/GET/users/${sub}")),
    _doc(("Allow", f"{API}/prod/GET/orders/*")),
    _doc(("Allow", "execute-api:/prod/*/orders/*"), ("Deny", "execute-api:/*/POST/orders/*")),
    _doc(("Deny", f"{API}/*/GET/users/*")),
    _doc(("Allow", "execute-api:/*/*/users/${sub}"), ("Allow", f"{API}/dev/GET/health")),
]
SELECTORS = [Selector.parse(s) for s in ("default", "group:readers", "group:writers", "scope:api")]
ARNS = [
    f"{API}/prod/GET/health",
    f"{API}/dev/GET/health",
    f"{API}/prod/GET/orders/1",
    f"{API}/prod/POST/orders/1",
    f"{API}/dev/GET/orders/1",
    f"{API}/prod/GET/users/alice",
    f"{API}/prod/GET/users/bob",
    f"{API}/prod/GET/users/erin",
    f"{API}/dev/PUT/users/bob",
]


def _principal(sub: str, groups: tuple[str, ...], scopes: tuple[str, ...], exp: float) -> Principal:
    return principal(sub, exp, groups=groups, scopes=scopes)


PRINCIPALS = {
    "token-alice": _principal("alice", ("readers",), (), WALL_START + 86_400),
    "token-bob": _principal("bob", ("readers", "writers"), ("api",), WALL_START + 86_400),
    "token-bob-2": _principal("bob", ("readers", "writers"), ("api",), WALL_START + 86_400),
    "token-carol": _principal("carol", (), (), WALL_START + 86_400),
    # Alice's groups, another sub: shares her documents, not a ${sub} policy.
    "token-erin": _principal("erin", ("readers",), (), WALL_START + 86_400),
    # Expires while the machine runs: the memo must stop serving it then.
    "token-dave": _principal("dave", ("writers",), (), WALL_START + 40),
}


class Passthrough(Switched):
    """Everything else the authorizer asks of the store, unswitched."""

    def __getattr__(self, name: str) -> Any:
        if name == "get_many_with_epoch":
            raise AttributeError(name)  # only PassthroughSnapshot offers the cold-start read
        return getattr(self.inner, name)


class PassthroughSnapshot(SnapshotReads, Passthrough):
    pass


@dataclass(frozen=True)
class Version:
    """The store's contents from ``since`` until the next write."""

    since: float
    store: MemoryRepository


class CacheMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.wall_clock = WallClock(self.clock, WALL_START)
        self.inner = MemoryRepository()
        self.history: list[Version] = [Version(self.clock.now, MemoryRepository())]
        self.down_since: float | None = None
        self.answers: dict[tuple[int, str, str], tuple[bool, Mapping[str, Any]]] = {}
        self.authorizer: Authorizer
        self.store: Passthrough

    @initialize(snapshots=st.booleans(), max_entries=st.sampled_from([1, 3, 1000]))
    def build(self, snapshots: bool, max_entries: int) -> None:
        self.store = (PassthroughSnapshot if snapshots else Passthrough)(self.inner)
        config = machine_cache(max_entries=max_entries)
        self.authorizer = Authorizer(
            KnownTokens(self.wall_clock, PRINCIPALS.__getitem__),
            self.store,
            cache=config,
            clock=self.clock,
            wall_clock=self.wall_clock,
        )

    def _record(self) -> None:
        contents = {s: r.document for s, r in self.inner.records.items()}
        self.history.append(Version(self.clock.now, MemoryRepository(contents)))

    @precondition(lambda self: self.down_since is None)
    @rule(selector=st.sampled_from(SELECTORS), document=st.sampled_from(DOCUMENTS))
    def put(self, selector: Selector, document: PolicyDocument) -> None:
        self.inner.put(selector, document, actor="machine")
        self._record()

    @precondition(lambda self: self.down_since is None)
    @rule(selector=st.sampled_from(SELECTORS))
    def delete(self, selector: Selector) -> None:
        if selector in self.inner.records:
            self.inner.delete(selector, actor="machine")
            self._record()

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 4.9, 5.0, 12.0, 31.0, 61.0, 120.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(down=st.booleans())
    def switch(self, down: bool) -> None:
        self.store.down = down
        if not down:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = self.clock.now

    @rule()
    def epoch_moved_by_someone_else(self) -> None:
        self.authorizer.clear()

    def _allowed_versions(self) -> list[int]:
        """Indexes of the versions the documented staleness bound allows now."""
        now = self.clock.now
        oldest = now - EPOCH_CHECK
        if self.down_since is not None:
            # Entries read before the outage serve until their TTL and the stale window end.
            oldest = min(self.down_since - EPOCH_CHECK, now - TTL - STALE_IF_ERROR)
        return [
            i
            for i, version in enumerate(self.history)
            if i == len(self.history) - 1 or self.history[i + 1].since >= oldest
        ]

    def _answer(self, index: int, token: str, method_arn: str) -> tuple[bool, Mapping[str, Any]]:
        key = (index, token, method_arn)
        if key not in self.answers:
            result = simulate(self.history[index].store, PRINCIPALS[token], method_arn)
            self.answers[key] = (result.allowed, result.effective_policy)
        return self.answers[key]

    @rule(token=st.sampled_from(sorted(PRINCIPALS)), method_arn=st.sampled_from(ARNS))
    def authorize(self, token: str, method_arn: str) -> None:
        expired = self.wall_clock() >= PRINCIPALS[token].expires_at
        try:
            outcome = self.authorizer.authorize(token, method_arn)
        except ExpiredTokenError:
            assert expired, "a valid token was refused"
            return
        except StoreError:
            assert self.down_since is not None, "the store is up, yet the decision failed"
            return
        assert not expired, "an expired token was served from the memo"
        self._check(outcome, token, method_arn)

    def _check(self, outcome: Outcome, token: str, method_arn: str) -> None:
        got = (outcome.allowed, outcome.policy)
        allowed = [self._answer(i, token, method_arn) for i in self._allowed_versions()]
        assert got in allowed, (
            f"{token} {method_arn}: {got} is none of the answers the bound allows: {allowed}"
        )
        if outcome.stale:
            assert self.down_since is not None, "served stale while the store is up"


CacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_cache_state_machine = pytest.mark.filterwarnings("error")(CacheMachine.TestCase)
