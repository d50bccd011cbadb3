"""Authorization decisions: token -> principal -> effective policy -> decision.

Orchestrates the token verifier, the repository, the policy caches
(``caches.py``), the token memo (``memo.py``) and the pure policy engine;
knows nothing of Lambda, API Gateway events or Powertools. Collaborators
are injected (``Authorizer(verifier, repository, cache=..., clock=...)``) so
tests drive time and failures with real components and no mocks.

Freshness. The policy epoch (bumped by every admin write) is read with one
GetItem at most every ``epoch_check_seconds``, before any policy read. At a
cold start, when nothing is cached that could be stale, a
``SnapshotRepository`` reads it in the same request as the first
principal's documents instead (one TransactGetItems, a snapshot that holds
all of an admin write or none of it). When the epoch moved, every cache
level is dropped (a generation counter makes entries computed concurrently
from older data unusable too). If the epoch read fails, cached entries keep
serving (fresh ones normally, expired ones within the stale window) and the
next request reads it again: while DynamoDB is down no admin write can land
either, so nothing newer exists to be missed.

Revocations (``revocations.py``): every new token is checked against the
live revocations the container holds, after its documents were read (on a
cold start that read is the epoch snapshot, and the set must not be older
than it). When the set is read again is that module's docstring.

DynamoDB failure on a miss: an entry expired less than
``stale_if_error_seconds`` ago is served (``Outcome.stale``) and the store
is tried again on the next request; otherwise the ``StoreError`` propagates
(the handler answers 500, which API Gateway does not cache). A failure is
never turned into a Deny or an Allow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from authz.cache import EpochGuard
from authz.errors import StoreError
from authz.policy import Decision, Selector, api_stage_key
from authz.service.caches import Documents, Effective, PolicyCaches, SelectorSet
from authz.service.memo import MemoEntry, TokenMemo, token_digest
from authz.service.outcome import Outcome
from authz.service.revocations import RevocationHolder
from authz.settings import CacheConfig
from authz.store.types import (
    PolicyRecord,
    PolicyRepository,
    RevocationSource,
    SnapshotRepository,
)
from authz.token.principal import Principal

__all__ = ["Authorizer", "TokenVerifier"]

_NO_VARIABLES: Mapping[str, Any] = {}


class TokenVerifier(Protocol):
    """What the Authorizer needs from ``authz.token.Verifier``."""

    def verify(self, token: str) -> Principal: ...


class Authorizer:
    """Decides requests for bearer tokens; one instance per Lambda container.

    ``cache`` holds the knobs (``CacheConfig()`` defaults when omitted).
    ``clock`` is monotonic seconds (TTLs, epoch checks); ``wall_clock`` is
    seconds since the epoch (token ``exp``).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        repository: PolicyRepository,
        *,
        cache: CacheConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self.repository = repository
        self.config = cache if cache is not None else CacheConfig()
        self._clock = clock
        self._snapshots = repository if isinstance(repository, SnapshotRepository) else None
        self._caches = PolicyCaches(self.config, clock)
        self._memo = TokenMemo(self.config.max_entries, clock=clock, wall_clock=wall_clock)
        self.revocations = RevocationHolder(
            repository if isinstance(repository, RevocationSource) else None,
            max_entries=self.config.revocations_max_entries,
            stale_if_error_seconds=self.config.stale_if_error_seconds,
            refresh_seconds=self.config.epoch_check_seconds,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._lock = threading.Lock()
        # The guard calls clear() (below) when it reads a moved epoch.
        self._guard = EpochGuard(
            interval=self.config.epoch_check_seconds, clock=clock, caches=[self]
        )

    @property
    def epoch(self) -> int | None:
        """The last policy epoch read (None before the first successful read)."""
        return self._guard.epoch

    def clear(self) -> None:
        """Drop every cached policy and verified token; reload the revocations before next use."""
        # Locked because the local gateway calls from several threads (Lambda never does).
        with self._lock:
            # Revocations first: a request between these steps must not find fresh
            # caches and a set not yet marked outdated, and remember what it decided.
            self.revocations.clear()
            self._caches.clear()
            self._memo.clear()

    def authorize(self, token: str, method_arn: str) -> Outcome:
        """Decide ``method_arn`` for the bearer of ``token``.

        Raises TokenError (not authenticated; RevokedTokenError for a revoked
        token), StoreError (no policy or revocation set could be read or served
        stale; RevocationsOverflowError), PolicyTooLargeError (naming the selectors).
        """
        with_epoch = self._check_epoch()
        digest = token_digest(token)
        api_key = api_stage_key(method_arn)
        if digest is not None:
            memo = self._memo.get(digest, api_key, self._caches.generation)
            if memo is not None:
                return self._from_memo(memo, method_arn)

        principal = self.verifier.verify(token)
        shared = self._caches.selector_set(principal.groups, principal.scopes)
        entry, docs_hit, stale = self._documents(shared, with_epoch)
        if not self.revocations.check(principal.claims):
            stale = True
        # Most policies read no variables; then the claims need not be copied.
        variables = principal.variables() if entry.variables else _NO_VARIABLES
        eff = self._caches.effective_for(shared, entry, variables, api_key)
        decision = eff.compiled.decide(method_arn)
        # Not remembered when the caches were dropped since the documents were
        # read (a concurrent epoch move), nor when they were served stale.
        if digest is not None and not stale and entry.generation == self._caches.generation:
            memo = MemoEntry(
                self._memo.slim(principal, shared, entry.variables),
                shared.selectors,
                eff,
                entry.generation,
                entry.expires,  # fresh_until
            )
            self._memo.put(digest, api_key, memo)
        return self._outcome(
            principal,
            shared.selectors,
            eff,
            decision=decision,
            token_cache_hit=False,
            policy_cache_hit=docs_hit,
            stale=stale,
        )

    # -- internals --------------------------------------------------------------

    def _check_epoch(self) -> bool:
        """Read the epoch if due; True when it is to be read with the documents instead."""
        if not self._guard.due():
            return False
        if self._snapshots is not None and self._caches.empty() and not len(self._memo):
            # Nothing cached can be stale yet: the epoch is read together
            # with the documents this request needs (one request, not two).
            return True
        # A failed read keeps serving what is cached; the next request reads again.
        try:
            self._guard.check(self.repository.epoch)
        except StoreError:
            # Documents are re-read when their TTL ends; the revocations get the same bound.
            self.revocations.expire(self.config.ttl_seconds)
        return False

    def _from_memo(self, memo: MemoEntry, method_arn: str) -> Outcome:
        return self._outcome(
            memo.principal,
            memo.selectors,
            memo.effective,
            decision=memo.effective.compiled.decide(method_arn),
            token_cache_hit=True,
            policy_cache_hit=True,
            stale=False,
        )

    def _outcome(
        self,
        principal: Principal,
        selectors: tuple[Selector, ...],
        eff: Effective,
        *,
        decision: Decision,
        token_cache_hit: bool,
        policy_cache_hit: bool,
        stale: bool,
    ) -> Outcome:
        # Positional, in Outcome's field order (each name matches its field):
        # one is built per request, and a keyword call costs more.
        return Outcome(
            principal,
            selectors,
            eff.document,
            eff.policy,
            decision,
            self._guard.epoch,
            token_cache_hit,
            policy_cache_hit,
            stale,
            eff.size,  # policy_bytes
        )

    def _documents(self, shared: SelectorSet, with_epoch: bool) -> tuple[Documents, bool, bool]:
        """(entry, cache hit, served stale) for ``shared``'s selectors."""
        caches = self._caches
        entry = shared.documents
        if entry is not None and caches.current(entry):
            return entry, True, False
        found = caches.cached_documents(shared.key)
        if found is not None:
            shared.documents = found
            return found, True, False
        try:
            records, generation = self._read(shared, with_epoch)
        except StoreError:
            stale = caches.stale_documents(shared.key)
            if stale is not None:
                shared.documents = stale
                return stale, True, True
            raise
        entry = caches.store_documents(shared.key, records, generation)
        shared.documents = entry
        return entry, False, False

    def _read(
        self, shared: SelectorSet, with_epoch: bool
    ) -> tuple[Mapping[Selector, PolicyRecord], int]:
        """The records of ``shared``'s selectors and the generation they belong to."""
        if with_epoch and self._snapshots is not None:
            read_at = self._clock()
            records, epoch = self._snapshots.get_many_with_epoch(shared.selectors)
            # The documents are at least as new as this epoch, so they
            # belong to whatever generation recording it leaves.
            self._guard.observe(epoch, at=read_at)
            return records, self._caches.generation
        generation = self._caches.generation
        return self.repository.get_many(shared.selectors), generation
