"""Authorization decisions: token -> principal -> effective policy -> decision.

Composes the token verifier, the policy repository, the caches and the pure
policy engine; knows nothing of Lambda, API Gateway events or Powertools.
Collaborators are injected (``Authorizer(verifier, repository, clock=...)``)
so tests drive time and failures with real components and no mocks.

Caching, three levels, each bounded by ``max_entries``:

1. **documents per selector set**: ``{selector: PolicyDocument}`` for the
   principal's ``default``/group/scope selectors and the union of the policy
   variables they read. A miss is exactly one ``repository.get_many`` call
   (one BatchGetItem). TTL ``cache_ttl``.
2. **effective policy per (selector set, values of the variables read, and
   the API and stage when the documents use the ``execute-api:/`` shorthand)**:
   substituted, expanded for that API and stage, merged, compacted, compiled,
   and the dict API Gateway gets.
   Principals that share groups, scopes and the claims their policies read
   share one entry, so a new token of a known kind of principal costs one
   RSA verification and no DynamoDB request. Derived entries remember the
   documents entry they came from and are rebuilt when it is replaced.
3. **verified tokens**: a SHA-256 of the whole token and the methodArn's API
   and stage -> the principal and its effective-policy entry, until the
   token's ``exp`` (wall clock) or the policy entry's expiry, whichever
   comes first. A repeated token is one
   hash, one dict lookup and one compiled-regex decision. The memo keeps a
   slim principal (identity, groups, scopes and only the claims the
   principal's policies read, see ``_memo_principal``), so ``Outcome.principal``
   of a token-cache hit carries no other claims.

Stored documents are shared between the selector sets that include them
(one object per distinct document), as are the group and scope tuples of
principals with the same groups and scopes: memory grows with the distinct
effective policies, not with the principals.

Freshness. The policy epoch (bumped by every admin write) is read with one
GetItem at most every ``epoch_check_seconds``, before any policy read. At a
cold start, when nothing is cached that could be stale, it is read in the
same request as the first principal's documents instead
(``get_many_with_epoch``: one TransactGetItems, a snapshot that holds all of
an admin write or none of it). When the epoch moved, every cache level is
dropped (a generation counter makes entries computed concurrently from older
data unusable too). If the epoch read fails, cached entries keep serving
(fresh ones normally, expired ones within the stale window) and the next
request reads it again (a store that is down fails fast; see
``authz.store.repository`` for the timeouts): while DynamoDB is down no
admin write can land either, so nothing newer exists to be missed.

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
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from authz.cache import MISSING, EpochGuard, TTLCache
from authz.errors import PolicyTooLargeError, StoreError
from authz.policy import (
    ApiStage,
    CompiledPolicy,
    Decision,
    Explanation,
    PolicyDocument,
    Selector,
    api_stage,
    api_stage_key,
    compact,
    compile_policy,
    expand,
    explain,
    json_size,
    merge,
    selectors_for,
    substitute,
)
from authz.policy.variables import claim_key, usable_value
from authz.settings import Settings
from authz.store.types import PolicyRepository, SnapshotRead
from authz.token.principal import Principal

__all__ = [
    "DENY_ALL_RESOURCE",
    "Authorizer",
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
    api: ApiStage | None = None,
) -> PolicyDocument:
    """The one document a principal gets at ``api``: each selector's document
    with the principal's variables substituted and its shorthand resources
    expanded for ``api``, merged, then compacted.

    ``variables`` is what ``Principal.variables()`` returns (claims plus
    ``sub``, ``username``, ``client_id``). Decisions equal those of the
    substituted documents together for every request of ``api`` (the API and
    stage the returned policy is for). Without ``api`` shorthand resources
    are kept as written (``evaluate`` expands them per request). Raises
    PolicyTooLargeError when the compacted document's JSON exceeds ``max_bytes``.
    """
    substituted = [substitute(docs[s], variables) for s in sorted(docs)]
    if api is not None:
        # Before merge and compact, so that compaction only compares full ARNs.
        substituted = [expand(d, api) for d in substituted]
    return compact(merge(substituted), max_bytes=max_bytes)


def _api_of(key: str, docs: Iterable[PolicyDocument]) -> ApiStage | None:
    """The API and stage to expand for; ValueError when shorthand needs one
    and the methodArn names none (no policy is built, the handler answers 500)."""
    api = api_stage(key)
    if api is None and any(d.shorthand for d in docs):
        raise ValueError(
            f"methodArn {key!r} names no API and stage to expand execute-api:/ resources for"
        )
    return api


_NO_VARIABLES: Mapping[str, Any] = {}
_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


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
    from cache and must not be mutated. ``principal`` is the verified one,
    or on a token-cache hit the memo's slim copy (same identity, groups and
    scopes; of the claims, only those its policies read). (A NamedTuple
    rather than a frozen dataclass: one is built per request, and it is 3x
    cheaper to build.)
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

    __slots__ = ("docs", "expires", "generation", "shorthand", "variables")

    def __init__(
        self,
        docs: dict[Selector, PolicyDocument],
        variables: tuple[str, ...],
        generation: int,
        expires: float,
    ) -> None:
        self.docs = docs
        self.variables = variables
        # Policies built from shorthand differ per API and stage.
        self.shorthand = any(d.shorthand for d in docs.values())
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

    def __init__(self, source: _Documents, error: PolicyTooLargeError) -> None:
        self.source = source
        self.error = error


class _SelectorSet:
    """The selectors of one (groups, scopes) pair and what is shared between
    the principals that have it: the cache key, the group and scope tuples
    the token memo's principals point to instead of copies, and the last
    documents entry read for it (a new token of a known kind of principal
    finds its documents here, without the documents cache's lock and LRU
    bookkeeping; the entry's generation and expiry are checked all the same)."""

    __slots__ = ("documents", "groups", "key", "scopes", "selectors")

    def __init__(
        self,
        selectors: tuple[Selector, ...],
        key: str,
        groups: tuple[str, ...],
        scopes: tuple[str, ...],
    ) -> None:
        self.selectors = selectors
        self.key = key
        self.groups = groups
        self.scopes = scopes
        self.documents: _Documents | None = None


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

    A repository whose class defines ``get_many_with_epoch`` (``DynamoRepository``
    does) gets the cold start's epoch and documents read in one request; any
    other ``PolicyRepository`` is read with ``epoch()`` and ``get_many()``.
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
        # Looked up on the class, not the instance: a wrapper that forwards
        # unknown attributes (a test double with a failure switch) must not
        # have its own get_many()/epoch() bypassed by the inner repository's.
        self._read_with_epoch: Callable[[Sequence[Selector]], SnapshotRead] | None = (
            getattr(repository, "get_many_with_epoch", None)
            if callable(getattr(type(repository), "get_many_with_epoch", None))
            else None
        )
        self._documents: TTLCache[str, _Documents] = TTLCache(
            ttl=self.cache_ttl, max_entries=self.max_entries, clock=clock
        )
        self._effective: dict[tuple[str, tuple[str | None, ...], str], _Effective | _TooLarge] = {}
        # Keyed by token digest and API+stage: an expanded policy is for one API and stage.
        self._tokens: dict[tuple[bytes, str], _Token] = {}
        self._selector_sets: dict[tuple[tuple[str, ...], tuple[str, ...]], _SelectorSet] = {}
        # One object per distinct stored document (and per distinct string below),
        # however many selector sets and principals refer to it.
        self._shared_documents: dict[PolicyDocument, PolicyDocument] = {}
        self._shared_strings: dict[str, str] = {}
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
        with self._lock:
            self._generation += 1
            self._effective.clear()
            self._tokens.clear()
            self._shared_documents.clear()
        self._documents.clear()

    # -- the decision ---------------------------------------------------------

    def authorize(self, token: str, method_arn: str) -> Outcome:
        """Decide ``method_arn`` for the bearer of ``token``.

        Raises TokenError (not authenticated), StoreError (no policy could be
        read or served stale), PolicyTooLargeError (naming the selectors).
        """
        started = perf_counter()
        with_epoch = False
        if self._guard.due():
            if self._read_with_epoch is not None and self._nothing_cached():
                # Nothing cached can be stale yet: the epoch is read together
                # with the documents this request needs (one request, not two).
                with_epoch = True
            else:
                # A failed read keeps serving what is cached; the next request reads again.
                with contextlib.suppress(StoreError):
                    self._guard.check(self.repository.epoch)
        digest = (
            hashlib.sha256(token.encode("ascii")).digest()
            if type(token) is str and token.isascii()
            else None
        )
        api_key = api_stage_key(method_arn)
        if digest is not None:
            memo = self._tokens.get((digest, api_key))
            if (
                memo is not None
                and memo.generation == self._generation
                and self._clock() < memo.fresh_until
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
        shared = self._selector_set(principal.groups, principal.scopes)
        selectors = shared.selectors
        entry = shared.documents
        if (
            entry is not None
            and entry.generation == self._generation
            and self._clock() < entry.expires
        ):
            docs_hit, stale = True, False
        else:
            entry, docs_hit, stale = self._load_documents(selectors, shared.key, with_epoch)
            shared.documents = entry
        # Most policies read no variables; then the claims need not be copied.
        variables = principal.variables() if entry.variables else _NO_VARIABLES
        key = (
            shared.key,
            _values(entry.variables, variables) if entry.variables else (),
            api_key if entry.shorthand else "",
        )
        built = self._effective.get(key)
        if built is None or built.source is not entry:
            built = self._build_effective(entry, selectors, variables, api_key)
            self._bounded_put(self._effective, key, built)
        if isinstance(built, _TooLarge):
            raise built.error
        eff = built
        decision = eff.compiled.decide(method_arn)
        # Not remembered when the caches were dropped since the documents were
        # read (a concurrent epoch move), nor when they were served stale.
        if digest is not None and not stale and entry.generation == self._generation:
            memo = _Token(
                self._memo_principal(principal, shared, entry.variables),
                selectors,
                eff,
                entry.generation,
                entry.expires,
            )
            self._bounded_put(self._tokens, (digest, api_key), memo)
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

    def _nothing_cached(self) -> bool:
        return not self._tokens and not len(self._documents)

    def _bounded_put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        # Oldest-inserted goes first: cheaper than LRU bookkeeping on every hit,
        # and an evicted entry only costs one recomputation. Locked because the
        # local gateway calls from several threads (Lambda never does); clear()
        # takes the same lock, so eviction never races an emptied table.
        with self._lock:
            while len(table) >= self.max_entries:
                table.pop(next(iter(table)))
            table[key] = value

    def _selector_set(self, groups: tuple[str, ...], scopes: tuple[str, ...]) -> _SelectorSet:
        """The selectors of ``groups`` and ``scopes`` and their cache key (one
        string: its hash is computed once and kept, where a tuple of
        dataclasses would rehash at every lookup).

        Memoised: validating and sorting 50 group names costs more than the RSA
        check, and the same group lists come back with every new token.
        """
        key = (groups, scopes)
        found = self._selector_sets.get(key)
        if found is None:
            selectors = selectors_for(groups, scopes)
            # Newline cannot occur in a valid group or scope name: the key is injective.
            found = _SelectorSet(selectors, "\n".join(map(str, selectors)), groups, scopes)
            self._bounded_put(self._selector_sets, key, found)
        return found

    def _memo_principal(
        self, principal: Principal, shared: _SelectorSet, variables: tuple[str, ...]
    ) -> Principal:
        """The principal as the token memo keeps it, ~10x smaller than the verified one.

        A verified principal holds the whole claim set (~2 KB for a Cognito
        token); the memo needs only what the response and the decision line
        report, plus the claims this principal's policies read (so that
        ``variables()`` still yields what the effective policy was built
        from). Groups, scopes, issuer and client id are shared with the other
        principals that have the same ones.
        """
        claims = principal.claims
        kept = {k: claims[k] for k in map(claim_key, variables) if k in claims} if variables else {}
        strings = self._shared_strings
        if len(strings) >= self.max_entries:
            strings.clear()  # only sharing is lost
        client_id = principal.client_id
        return Principal(
            principal.sub,
            principal.username,
            None if client_id is None else strings.setdefault(client_id, client_id),
            principal.token_use,
            shared.groups,
            shared.scopes,
            strings.setdefault(principal.issuer, principal.issuer),
            principal.expires_at,
            MappingProxyType(kept) if kept else _NO_CLAIMS,
        )

    def _load_documents(
        self, selectors: tuple[Selector, ...], key: str, with_epoch: bool
    ) -> tuple[_Documents, bool, bool]:
        """(entry, cache hit, served stale); ``with_epoch`` reads the epoch too."""
        found = self._documents.get(key)
        if found is not MISSING and found.generation == self._generation:
            return found, True, False
        generation = self._generation
        try:
            if with_epoch and self._read_with_epoch is not None:
                read_at = self._clock()
                records, epoch = self._read_with_epoch(selectors)
                # The documents are at least as new as this epoch, so they
                # belong to whatever generation recording it leaves.
                self._guard.observe(epoch, at=read_at)
                generation = self._generation
            else:
                records = self.repository.get_many(selectors)
        except StoreError:
            stale = self._documents.stale_get(key, self.stale_if_error_seconds)
            if stale is not MISSING and stale.generation == self._generation:
                return stale, True, True
            raise
        shared = self._shared_documents
        docs = {s: shared.setdefault(r.document, r.document) for s, r in records.items()}
        entry = _Documents(
            docs, _variables_read(docs.values()), generation, self._clock() + self.cache_ttl
        )
        if generation == self._generation:
            self._documents.put(key, entry)
            if len(shared) > self.max_entries:
                shared.clear()  # only sharing is lost
        return entry, False, False

    def _build_effective(
        self,
        entry: _Documents,
        selectors: tuple[Selector, ...],
        variables: Mapping[str, Any],
        api_key: str,
    ) -> _Effective | _TooLarge:
        api = _api_of(api_key, entry.docs.values()) if entry.shorthand else None
        try:
            document = effective_policy(entry.docs, variables, self.policy_max_bytes, api)
        except PolicyTooLargeError as exc:
            return _TooLarge(entry, PolicyTooLargeError(exc.size, exc.max_bytes, selectors))
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
    """The effective document (substituted, expanded for the methodArn's API and
    stage, merged, compacted)."""
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
            "effective_policy": self.effective_policy,
            "policy_bytes": self.policy_bytes,
            "over_budget": self.over_budget,
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
    api = _api_of(api_stage_key(method_arn), docs.values())
    explanation = explain([(str(s), substitute(d, variables)) for s, d in docs.items()], method_arn)
    document = effective_policy(docs, variables, api=api)
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
