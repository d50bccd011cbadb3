"""Revocations reach the authorizer within the documented bound, and only revocations refuse.

A Hypothesis state machine signs users in, refreshes their sessions, revokes
(each kind; a ``sub`` with and without ``until``) and lifts revocations in an in-memory
store, moves the clocks by less and more than the epoch check interval, takes
the store down and up, and asks for decisions. Every policy allows
everything, so any answer is an Allow. After every decision:

- a token refused (``RevocationSet.match``) by a live revocation written at
  least the bound ago is never answered. The bound is ``EPOCH_CHECK`` while
  the store is up; while it is down (``DOWN_BOUND``), a decision can rest on
  documents read up to ``TTL + STALE_IF_ERROR`` ago, whose request saw the
  epoch of up to ``EPOCH_CHECK`` before, so the bound is their sum;
- ``RevokedTokenError`` comes only for a token that some state of the store's
  revocations within that bound refuses;
- with the store up, nothing else fails (``RevocationsOverflowError`` only
  while the store held more revocations than the authorizer keeps).

Revocations are written only while the store is up, as in the cache state
machine: while DynamoDB is down, no write can land.

Deterministic: hand-moved clocks (MemoryRepository's clock is the same wall
clock) stepped by sums of exact binary fractions, a verifier that knows its
tokens, no network, and derandomized examples without the example database,
so every run, under any Hypothesis profile, plays the same programs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from authz.errors import (
    ExpiredTokenError,
    RevocationsOverflowError,
    RevokedTokenError,
    StoreError,
)
from authz.policy import PolicyDocument
from authz.revocations import KINDS, Revocation, RevocationKind, RevocationSet, Target
from authz.service import Authorizer
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

DOWN_BOUND = TTL + STALE_IF_ERROR + EPOCH_CHECK
# Short, so that revocations expire while the machine runs.
LIFETIME = 240
USERS = ("alice", "bob", "carol")
# Few tokens, so that revocations, refreshes and decisions meet the same ones often.
MAX_TOKENS = 6
ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders/1"
ALLOW_ALL = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}],
    }
)


class SwitchedRevocations(Switched):
    """Also the revocations, switched like the policies (and so held by the authorizer)."""

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        self._up()
        return self.inner.live_revocations(max_entries=max_entries)


class SwitchedRevocationsSnapshot(SnapshotReads, SwitchedRevocations):
    pass


def _principal(claims: dict[str, Any]) -> Principal:
    return principal(claims["sub"], claims["exp"], claims=claims)


@dataclass(frozen=True)
class State:
    """The store's revocations from ``since`` (monotonic) until the next write,
    each with the monotonic time it was written."""

    since: float
    revocations: tuple[tuple[Revocation, float], ...]


class RevocationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.wall_clock = WallClock(self.clock, WALL_START)
        self.inner = MemoryRepository({"default": ALLOW_ALL}, clock=self.wall_clock.datetime)
        self.claims: dict[str, dict[str, Any]] = {}
        self.verifier = KnownTokens(self.wall_clock, lambda token: _principal(self.claims[token]))
        self.tokens: list[str] = []
        self.written: dict[Target, float] = {}
        self.states: list[State] = [State(self.clock.now, ())]
        self.down = False
        self.max_entries = 0
        self.authorizer: Authorizer
        self.store: SwitchedRevocations

    @initialize(snapshots=st.booleans(), max_entries=st.sampled_from([1, 1000]))
    def build(self, snapshots: bool, max_entries: int) -> None:
        self.max_entries = max_entries
        self.store = (SwitchedRevocationsSnapshot if snapshots else SwitchedRevocations)(self.inner)
        config = machine_cache(max_entries=1000, revocations_max_entries=max_entries)
        self.authorizer = Authorizer(
            self.verifier,
            self.store,  # type: ignore[arg-type]  # a PolicyRepository for what it reads
            cache=config,
            clock=self.clock,
            wall_clock=self.wall_clock,
        )

    # -- tokens ------------------------------------------------------------------

    def _mint(self, claims: dict[str, Any]) -> str:
        token = f"token-{len(self.tokens)}"
        self.tokens.append(token)
        self.claims[token] = claims
        return token

    @precondition(lambda self: len(self.tokens) < MAX_TOKENS)
    @rule(user=st.sampled_from(USERS))
    def sign_in(self, user: str) -> None:
        now = math.floor(self.wall_clock())
        n = len(self.tokens)
        self._mint(
            {
                "sub": user,
                "jti": f"jti-{n}",
                "origin_jti": f"origin-{n}",
                "iat": now,
                "auth_time": now,
                "exp": now + LIFETIME,
            }
        )

    @precondition(lambda self: 0 < len(self.tokens) < MAX_TOKENS)
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        old = self.claims[data.draw(st.sampled_from(self.tokens), label="token")]
        now = math.floor(self.wall_clock())
        self._mint({**old, "jti": f"jti-{len(self.tokens)}", "iat": now, "exp": now + LIFETIME})

    # -- revocations (only while the store is up) ----------------------------------

    def _record(self) -> None:
        live = tuple((r, self.written[t]) for t, r in sorted(self.inner.revocations.items()))
        self.states.append(State(self.clock.now, live))

    @precondition(lambda self: self.tokens and not self.down)
    @rule(
        data=st.data(),
        kind=st.sampled_from(KINDS),
        until=st.sampled_from([None, 1, 30, 300, 3000]),
    )
    def revoke(self, data: st.DataObject, kind: RevocationKind, until: int | None) -> None:
        claims = self.claims[data.draw(st.sampled_from(self.tokens), label="token")]
        at = self.wall_clock.datetime()
        revocation = Revocation.new(
            Target(kind, claims[kind]),
            reason="machine",
            revoked_by="machine",
            revoked_at=at,
            until=at + timedelta(seconds=until) if until is not None and kind == "sub" else None,
            max_token_lifetime=LIFETIME,
        )
        self.inner.revoke(revocation)
        self.written[revocation.target] = self.clock.now
        self._record()

    @precondition(lambda self: self.inner.revocations and not self.down)
    @rule(data=st.data())
    def lift(self, data: st.DataObject) -> None:
        now = self.wall_clock()
        live = sorted(t for t, r in self.inner.revocations.items() if r.live(now))
        if not live:
            return
        target = data.draw(st.sampled_from(live), label="target")
        self.inner.delete_revocation(target, actor="machine")
        self._record()

    # -- time and outages ----------------------------------------------------------

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 4.5, 5.0, 12.0, 20.0, 61.0, 200.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(down=st.booleans())
    def switch(self, down: bool) -> None:
        self.store.down = self.down = down

    @rule()
    def epoch_moved_by_someone_else(self) -> None:
        self.authorizer.clear()

    # -- decisions -----------------------------------------------------------------

    def _bound(self) -> float:
        return DOWN_BOUND if self.down else EPOCH_CHECK

    def _refused_by_old(self, claims: dict[str, Any]) -> Target | None:
        """The live revocation written at least the bound ago that refuses ``claims``."""
        now, wall = self.clock.now, self.wall_clock()
        old = [
            r
            for t, r in self.inner.revocations.items()
            if r.live(wall) and self.written[t] <= now - self._bound()
        ]
        return RevocationSet.of(old).match(claims)

    def _states_within_bound(self) -> list[State]:
        oldest = self.clock.now - self._bound()
        return [
            state
            for i, state in enumerate(self.states)
            if i == len(self.states) - 1 or self.states[i + 1].since >= oldest
        ]

    @precondition(lambda self: self.tokens)
    @rule(data=st.data())
    def authorize(self, data: st.DataObject) -> None:
        self._decide(data.draw(st.sampled_from(self.tokens), label="token"))

    @rule()
    def authorize_every_token(self) -> None:
        for token in self.tokens:
            self._decide(token)

    def _decide(self, token: str) -> None:
        claims = self.claims[token]
        expired = self.wall_clock() >= claims["exp"]
        refused_by = self._refused_by_old(claims)
        try:
            outcome = self.authorizer.authorize(token, ARN)
        except RevokedTokenError as error:
            self._check_revoked(claims, error)
            return
        except ExpiredTokenError:
            assert expired, "a valid token was refused as expired"
            return
        except RevocationsOverflowError:
            self._check_overflow()
            return
        except StoreError:
            assert self.down, "the store is up, yet the decision failed"
            return
        assert not expired, "an expired token was allowed"
        assert refused_by is None, (
            f"{token} was allowed although {refused_by} refuses it "
            f"(store {'down' if self.down else 'up'})"
        )
        assert outcome.allowed

    def _check_revoked(self, claims: dict[str, Any], error: RevokedTokenError) -> None:
        states = self._states_within_bound()
        assert any(
            RevocationSet.of(r for r, _ in state.revocations).match(claims) is not None
            for state in states
        ), f"refused ({error.actual}) although no revocation within the bound refuses it"

    def _check_overflow(self) -> None:
        assert any(
            len(state.revocations) > self.max_entries for state in self._states_within_bound()
        ), "overflow reported although the store never held more than the authorizer keeps"


RevocationMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, derandomize=True, database=None
)
test_revocation_state_machine = pytest.mark.filterwarnings("error")(RevocationMachine.TestCase)
