"""Authorization decisions: token -> principal -> effective policy -> decision.

Composes the token verifier, the policy repository, the caches and the pure
policy engine; knows nothing of Lambda, API Gateway events or Powertools.
Collaborators are injected (``Authorizer(verifier, repository, clock=...)``)
so tests drive time and failures with real components and no mocks.

Caching (DESIGN.md section 7), three levels, each bounded by ``max_entries``:

1. **documents per selector set**: ``{selector: PolicyDocument}`` for the
   principal's ``default``/group/scope selectors and the union of the policy
   variables they read. A miss is exactly one ``repository.get_many`` call
   (one BatchGetItem). TTL ``cache_ttl``.
2. **effective policy per (selector set, values of the variables read)**:
   substituted, merged, compacted, compiled, and the dict API Gateway gets.
   Principals that share groups, scopes and the claims their policies read
   share one entry, so a new token of a known kind of principal costs one
   RSA verification and no DynamoDB request. Derived entries remember the
   documents entry they came from and are rebuilt when it is replaced.
3. **verified tokens**: a SHA-256 of the whole token -> the principal and its
   effective-policy entry, until the token's ``exp`` (wall clock) or the
   policy entry's expiry, whichever comes first. A repeated token is one
   hash, one dict lookup and one compiled-regex decision.

Freshness. The policy epoch (bumped by every admin write) is read with one
GetItem at most every ``epoch_check_seconds``, before any policy read (so a
cold start's first decision costs the epoch read plus the BatchGetItem).
When it moved, every cache level is dropped (a generation counter makes
entries computed concurrently from older data unusable too). If the epoch
read fails, cached entries keep serving (fresh ones normally, expired ones
within the stale window) and the next request reads it again (a store that
is down fails fast; see ``authz.store.repository`` for the timeouts): while
DynamoDB is down no admin write can land either, so nothing newer exists to
be missed.

DynamoDB failure on a miss: an entry expired less than
``stale_if_error_seconds`` ago is served (``Outcome.stale``) and the store
is tried again on the next request; otherwise the ``StoreError`` propagates
(the handler answers 500, which API Gateway does not cache). A failure is
never turned into a Deny or an Allow.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any, NamedTuple, Protocol

from authz.cache import MISSING, EpochGuard, TTLCache
from authz.errors import PolicyTooLargeError, StoreError
from authz.policy import (
    CompiledPolicy,
    Decision,
    Explanation,
    PolicyDocument,
    Selector,
    compact,
    compile_policy,
    explain,
    json_size,
    merge,
    selectors_for,
    substitute,
)
from authz.policy.variables import claim_key, usable_value
from authz.settings import Settings
from authz.store.types import PolicyRepository
from authz.token.principal import Principal

__all__ = [
    "DENY_ALL_RESOURCE",
    "Authorizer",
    "EffectivePolicyTooLargeError",
    "Outcome",
    "Simulation",
    "Timings",
    "TokenVerifier",
    "deny_all_policy",
    "effective_policy",
    "response_policy",
    "simulate",
]

DENY_ALL_RESOURCE = "arn:aws:execute-api:*:*:*"


class TokenVerifier(Protocol):
    """What the Authorizer needs from ``authz.token.Verifier``."""

    def verify(self, token: str) -> Principal: ...


class EffectivePolicyTooLargeError(PolicyTooLargeError):
    """A principal's effective policy is over budget; names the selectors so the
    operator knows which policies to shrink (the authorizer fails closed)."""

    def __init__(self, size: int, max_bytes: int, selectors: Sequence[Selector]) -> None:
        super().__init__(size, max_bytes)
        self.selectors = tuple(selectors)
        self.args = (
            f"effective policy of {', '.join(map(str, self.selectors))} is {size} bytes "
            f"after compaction; budget is {max_bytes}",
        )


# -- pure helpers ---------------------------------------------------------------------


def deny_all_policy() -> dict[str, Any]:
    """An explicit Deny of every execute-api route: what a principal that no
    statement allows gets, so API Gateway caches a 403 for every route."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": DENY_ALL_RESOURCE}
        ],
    }


def response_policy(document: PolicyDocument) -> dict[str, Any]:
    """The ``policyDocument`` for API Gateway: ``document`` itself, or the
    explicit deny-all when it allows nothing (an empty Statement is invalid)."""
    if any(s.effect == "Allow" and s.invokes for s in document.statements):
        return document.to_dict()
    return deny_all_policy()


def effective_policy(
    docs: Mapping[Selector, PolicyDocument],
    variables: Mapping[str, Any],
    max_bytes: int | None = None,
) -> PolicyDocument:
    """The one document a principal gets: each selector's document with the
    principal's variables substituted, merged, then compacted.

    ``variables`` is what ``Principal.variables()`` returns (claims plus
    ``sub``, ``username``, ``client_id``). Decisions equal those of the
    substituted documents together. Raises PolicyTooLargeError when the
    compacted document's JSON exceeds ``max_bytes``.
    """
    substituted = [substitute(docs[s], variables) for s in sorted(docs)]
    return compact(merge(substituted), max_bytes=max_bytes)


_NO_VARIABLES: Mapping[str, Any] = {}


def _variables_read(docs: Iterable[PolicyDocument]) -> tuple[str, ...]:
    return tuple(sorted({name for d in docs for name in d.variables}))


def _values(names: tuple[str, ...], variables: Mapping[str, Any]) -> tuple[str | None, ...]:
    # Exactly what substitution will see: the usable text or None (fail closed),
    # so two principals with equal keys get equal effective policies.
    return tuple(usable_value(variables.get(claim_key(n))) for n in names)


# -- the Authorizer -------------------------------------------------------------------


class Timings(NamedTuple):
    """Where the time of one decision went, in microseconds."""

    verify_us: float
    policy_us: float
    total_us: float


class Outcome(NamedTuple):
    """One decision and everything the handler reports about it.

    ``policy`` is the dict API Gateway gets as ``policyDocument`` (the whole
    effective policy, or deny-all); it is shared between decisions served
    from cache and must not be mutated. (A NamedTuple rather than a frozen
    dataclass: one is built per request, and it is 3x cheaper to build.)
    """

    principal: Principal
    selectors: tuple[Selector, ...]
    document: PolicyDocument
    policy: dict[str, Any]
    decision: Decision
    epoch: int | None
    token_cache_hit: bool
    policy_cache_hit: bool
    stale: bool
    policy_bytes: int
    timings: Timings

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


class _Documents:
    """Level 1: the stored documents of one selector set."""

    __slots__ = ("docs", "expires", "generation", "variables")

    def __init__(
        self,
        docs: dict[Selector, PolicyDocument],
        variables: tuple[str, ...],
        generation: int,
        expires: float,
    ) -> None:
        self.docs = docs
        self.variables = variables
        self.generation = generation
        self.expires = expires  # monotonic; the documents cache holds it for the same TTL


class _Effective:
    """Level 2: one effective policy, ready to decide and to return."""

    __slots__ = ("compiled", "document", "policy", "size", "source")

    def __init__(self, source: _Documents, document: PolicyDocument) -> None:
        self.source = source
        self.document = document
        self.compiled: CompiledPolicy = compile_policy(document)
        self.policy = response_policy(document)
        self.size = json_size(document)


class _TooLarge:
    """Level 2, failed: the budget error is remembered so that repeated
    requests fail closed without merging and compacting again."""

    __slots__ = ("error", "source")

    def __init__(self, source: _Documents, error: EffectivePolicyTooLargeError) -> None:
        self.source = source
        self.error = error


class _Token:
    """Level 3: a verified token and the policy it resolved to."""

    __slots__ = ("effective", "expires_at", "fresh_until", "generation", "principal", "selectors")

    def __init__(
        self,
        principal: Principal,
        selectors: tuple[Selector, ...],
        effective: _Effective,
        generation: int,
        fresh_until: float,
    ) -> None:
        self.principal = principal
        self.selectors = selectors
        self.effective = effective
        self.generation = generation
        self.fresh_until = fresh_until
        self.expires_at = principal.expires_at


class Authorizer:
    """Decides requests for bearer tokens; one instance per Lambda container.

    Knobs default to ``settings`` (or to ``Settings()`` defaults); explicit
    keyword arguments win. ``clock`` is monotonic seconds (TTLs, epoch checks);
    ``wall_clock`` is seconds since the epoch (token ``exp``).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        repository: PolicyRepository,
        *,
        settings: Settings | None = None,
        cache_ttl: float | None = None,
        max_entries: int | None = None,
        epoch_check_seconds: float | None = None,
        stale_if_error_seconds: float | None = None,
        policy_max_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        s = settings if settings is not None else Settings()
        self.verifier = verifier
        self.repository = repository
        self.cache_ttl = float(s.cache_ttl_seconds if cache_ttl is None else cache_ttl)
        self.max_entries = s.cache_max_entries if max_entries is None else max_entries
        self.epoch_check_seconds = float(
            s.epoch_check_seconds if epoch_check_seconds is None else epoch_check_seconds
        )
        self.stale_if_error_seconds = float(
            s.stale_if_error_seconds if stale_if_error_seconds is None else stale_if_error_seconds
        )
        self.policy_max_bytes = s.policy_max_bytes if policy_max_bytes is None else policy_max_bytes
        self._clock = clock
        self._wall_clock = wall_clock
        self._documents: TTLCache[str, _Documents] = TTLCache(
            ttl=self.cache_ttl, max_entries=self.max_entries, clock=clock
        )
        self._effective: dict[tuple[str, tuple[str | None, ...]], _Effective | _TooLarge] = {}
        self._tokens: dict[bytes, _Token] = {}
        self._selector_sets: dict[
            tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[Selector, ...], str]
        ] = {}
        self._generation = 0
        self._lock = threading.Lock()
        # The guard calls clear() (below) when it reads a moved epoch.
        self._guard = EpochGuard(interval=self.epoch_check_seconds, clock=clock, caches=[self])

    @property
    def epoch(self) -> int | None:
        """The last policy epoch read (None before the first successful read)."""
        return self._guard.epoch

    def clear(self) -> None:
        """Drop every cached policy and verified token."""
        self._generation += 1
        self._documents.clear()
        self._effective.clear()
        self._tokens.clear()

    # -- the decision ---------------------------------------------------------

    def authorize(self, token: str, method_arn: str) -> Outcome:
        """Decide ``method_arn`` for the bearer of ``token``.

        Raises TokenError (not authenticated), StoreError (no policy could be
        read or served stale), PolicyTooLargeError (an
        EffectivePolicyTooLargeError naming the selectors).
        """
        started = perf_counter()
        if self._guard.due():
            # A failed read keeps serving what is cached; the next request reads again.
            with contextlib.suppress(StoreError):
                self._guard.check(self.repository.epoch)
        now = self._clock()
        digest = (
            hashlib.sha256(token.encode("ascii")).digest()
            if type(token) is str and token.isascii()
            else None
        )
        if digest is not None:
            memo = self._tokens.get(digest)
            if (
                memo is not None
                and memo.generation == self._generation
                and now < memo.fresh_until
                and self._wall_clock() < memo.expires_at
            ):
                eff = memo.effective
                verified = perf_counter()
                decision = eff.compiled.decide(method_arn)
                done = perf_counter()
                return Outcome(
                    memo.principal,
                    memo.selectors,
                    eff.document,
                    eff.policy,
                    decision,
                    self._guard.epoch,
                    True,
                    True,
                    False,
                    eff.size,
                    Timings(
                        (verified - started) * 1e6, (done - verified) * 1e6, (done - started) * 1e6
                    ),
                )

        principal = self.verifier.verify(token)
        verified = perf_counter()
        selectors, set_key = self._selectors_for(principal.groups, principal.scopes)
        generation = self._generation
        entry, docs_hit, stale = self._load_documents(selectors, set_key)
        # Most policies read no variables; then the claims need not be copied.
        variables = principal.variables() if entry.variables else _NO_VARIABLES
        key = (set_key, _values(entry.variables, variables))
        built = self._effective.get(key)
        if built is None or built.source is not entry:
            built = self._build_effective(entry, selectors, variables)
            self._bounded_put(self._effective, key, built)
        if isinstance(built, _TooLarge):
            raise built.error
        eff = built
        decision = eff.compiled.decide(method_arn)
        if digest is not None and not stale and generation == self._generation:
            memo = _Token(principal, selectors, eff, generation, entry.expires)
            self._bounded_put(self._tokens, digest, memo)
        done = perf_counter()
        return Outcome(
            principal,
            selectors,
            eff.document,
            eff.policy,
            decision,
            self._guard.epoch,
            False,
            docs_hit,
            stale,
            eff.size,
            Timings((verified - started) * 1e6, (done - verified) * 1e6, (done - started) * 1e6),
        )

    # -- internals --------------------------------------------------------------

    def _bounded_put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        # Oldest-inserted goes first: cheaper than LRU bookkeeping on every hit,
        # and an evicted entry only costs one recomputation. Locked because the
        # local gateway calls from several threads (Lambda never does).
        with self._lock:
            while len(table) >= self.max_entries:
                table.pop(next(iter(table)))
            table[key] = value

    def _selectors_for(
        self, groups: tuple[str, ...], scopes: tuple[str, ...]
    ) -> tuple[tuple[Selector, ...], str]:
        """The selectors and their cache key (one string: its hash is computed once
        and kept, where a tuple of dataclasses would rehash at every lookup).

        Memoised: validating and sorting 50 group names costs more than the RSA
        check, and the same group lists come back with every new token.
        """
        key = (groups, scopes)
        found = self._selector_sets.get(key)
        if found is None:
            selectors = selectors_for(groups, scopes)
            # Newline cannot occur in a valid group or scope name: the key is injective.
            found = (selectors, "\n".join(map(str, selectors)))
            self._bounded_put(self._selector_sets, key, found)
        return found

    def _load_documents(
        self, selectors: tuple[Selector, ...], key: str
    ) -> tuple[_Documents, bool, bool]:
        """(entry, cache hit, served stale)."""
        found = self._documents.get(key)
        if found is not MISSING and found.generation == self._generation:
            return found, True, False
        generation = self._generation
        try:
            records = self.repository.get_many(selectors)
        except StoreError:
            stale = self._documents.stale_get(key, self.stale_if_error_seconds)
            if stale is not MISSING and stale.generation == self._generation:
                return stale, True, True
            raise
        docs = {s: r.document for s, r in records.items()}
        entry = _Documents(
            docs, _variables_read(docs.values()), generation, self._clock() + self.cache_ttl
        )
        if generation == self._generation:
            self._documents.put(key, entry)
        return entry, False, False

    def _build_effective(
        self,
        entry: _Documents,
        selectors: tuple[Selector, ...],
        variables: Mapping[str, Any],
    ) -> _Effective | _TooLarge:
        try:
            document = effective_policy(entry.docs, variables, self.policy_max_bytes)
        except PolicyTooLargeError as exc:
            return _TooLarge(
                entry, EffectivePolicyTooLargeError(exc.size, exc.max_bytes, selectors)
            )
        return _Effective(entry, document)


# -- simulation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the authorizer would decide, and why (admin API ``POST /simulate``,
    ``authz simulate``)."""

    method_arn: str
    selectors: tuple[Selector, ...]
    """Every selector of the principal (``default``, its groups and scopes)."""
    found: tuple[Selector, ...]
    """Those of ``selectors`` that have a stored policy."""
    decision: Decision
    explanation: Explanation
    """Every matching statement with its selector and Sid (``str()`` reads well in a terminal)."""
    document: PolicyDocument
    """The effective document (substituted, merged, compacted)."""
    effective_policy: dict[str, Any]
    """The ``policyDocument`` the authorizer would return (deny-all when nothing allows)."""
    policy_bytes: int
    max_bytes: int | None
    """The budget checked against (``settings.policy_max_bytes``), if any."""

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def over_budget(self) -> bool:
        """True when the authorizer would fail closed (500) for this principal."""
        return self.max_bytes is not None and self.policy_bytes > self.max_bytes

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The explanation's matches as JSON-able dicts (selector, Sid, effect, pattern...)."""
        return [m.to_dict() for m in self.explanation.matches]

    def to_dict(self) -> dict[str, Any]:
        return {
            "methodArn": self.method_arn,
            "allowed": self.decision.allowed,
            "effect": self.decision.effect,
            "selectors": [str(s) for s in self.selectors],
            "found": [str(s) for s in self.found],
            "explanation": self.statements,
            "effectivePolicy": self.effective_policy,
            "policyBytes": self.policy_bytes,
            "overBudget": self.over_budget,
        }


def simulate(
    repository: PolicyRepository,
    principal: Principal | None,
    method_arn: str,
    *,
    groups: Iterable[str] = (),
    scopes: Iterable[str] = (),
    sub: str | None = None,
    claims: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> Simulation:
    """Decide ``method_arn`` as the authorizer would, with an explanation.

    Either a verified (or hand-built) ``principal`` -- its groups, scopes and
    ``variables()`` are used and the keyword arguments are ignored -- or
    ``None`` and a described one: ``groups``, ``scopes``, ``sub`` and
    ``claims`` (``claims`` feed ``${claim:NAME}`` and may carry ``username``
    and ``client_id``). One ``get_many`` request, no cache; StoreError
    propagates. The byte budget is reported (``over_budget``), not enforced,
    so an operator can see why a principal gets a 500.
    """
    if principal is not None:
        selectors = selectors_for(principal.groups, principal.scopes)
        variables: dict[str, Any] = principal.variables()
    else:
        selectors = selectors_for(groups, scopes)
        variables = dict(claims or {})
        if sub:
            variables["sub"] = sub
    records = repository.get_many(selectors)
    docs = {s: records[s].document for s in selectors if s in records}
    explanation = explain([(str(s), substitute(d, variables)) for s, d in docs.items()], method_arn)
    document = effective_policy(docs, variables)
    return Simulation(
        method_arn=method_arn,
        selectors=selectors,
        found=tuple(docs),
        decision=explanation.decision,
        explanation=explanation,
        document=document,
        effective_policy=response_policy(document),
        policy_bytes=json_size(document),
        max_bytes=settings.policy_max_bytes if settings is not None else None,
    )
