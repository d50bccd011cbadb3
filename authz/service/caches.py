"""The authorizer's policy caches: documents per selector set, effective policies, selector sets.

Caching, two policy levels (the third, verified tokens, is ``memo.py``), each
bounded by ``CacheConfig.max_entries``:

1. **documents per selector set**: ``{selector: PolicyDocument}`` for the
   principal's ``default``/group/scope selectors and the union of the policy
   variables they read. A miss is exactly one ``repository.get_many`` call
   (one BatchGetItem). TTL ``CacheConfig.ttl_seconds``.
2. **effective policy per (selector set, values of the variables read, and
   the API and stage when the documents use the ``execute-api:/`` shorthand)**:
   substituted, expanded for that API and stage, merged, compacted, compiled,
   and the dict API Gateway gets. Principals that share groups, scopes and
   the claims their policies read share one entry. Derived entries remember
   the documents entry they came from and are rebuilt when it is replaced.

Stored documents are shared between the selector sets that include them
(one object per distinct document), as are the group and scope tuples of
principals with the same groups and scopes, the expansions of the stored
documents, and the compiled matcher of the patterns without policy
variables (``compile_shared``): memory grows with the distinct effective
policies, and what a policy of one principal's own adds is its substituted
patterns, not a compiled copy of the rest.

``generation`` counts ``clear()`` calls: an entry computed from data read
before the last clear (a concurrent epoch move) is never served.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any

from authz.cache import MISSING, BoundedMap, TTLCache
from authz.errors import PolicyTooLargeError
from authz.policy import (
    CommonParts,
    CompiledPolicy,
    PolicyDocument,
    Selector,
    compile_shared,
    json_size,
    selectors_for,
)
from authz.service.effective import (
    api_of,
    effective_policy,
    fixed_patterns,
    response_policy,
    values_of,
    variables_read,
)
from authz.settings import CacheConfig
from authz.store.types import PolicyRecord

__all__ = ["Documents", "Effective", "EffectiveKey", "PolicyCaches", "SelectorSet", "TooLarge"]

EffectiveKey = tuple[str, tuple[str | None, ...], str]


@dataclass(slots=True, eq=False)
class Documents:
    """Level 1: the stored documents of one selector set."""

    docs: dict[Selector, PolicyDocument]
    variables: tuple[str, ...]
    generation: int
    expires: float  # monotonic; the documents cache holds it for the same TTL
    # Policies built from shorthand differ per API and stage.
    shorthand: bool = field(init=False)

    def __post_init__(self) -> None:
        self.shorthand = any(d.shorthand for d in self.docs.values())


@dataclass(slots=True, eq=False)
class Effective:
    """Level 2: one effective policy, ready to decide and to return.

    ``fixed`` are the patterns of its source documents that hold no policy
    variable: compiled once and shared with every other principal's policy
    that has the same ones, so a principal of its own costs no regex.
    """

    source: Documents
    document: PolicyDocument
    fixed: InitVar[frozenset[str]]
    parts: InitVar[CommonParts]
    compiled: CompiledPolicy = field(init=False)
    policy: dict[str, Any] = field(init=False)
    size: int = field(init=False)

    def __post_init__(self, fixed: frozenset[str], parts: CommonParts) -> None:
        self.compiled = compile_shared(self.document, fixed, parts)
        self.policy = response_policy(self.document)
        self.size = json_size(self.document)


@dataclass(slots=True, eq=False)
class TooLarge:
    """Level 2, failed: the budget error is remembered so that repeated
    requests fail closed without merging and compacting again."""

    source: Documents
    error: PolicyTooLargeError


@dataclass(slots=True, eq=False)
class SelectorSet:
    """The selectors of one (groups, scopes) pair and what is shared between
    the principals that have it: the cache key (one string, hashed once), the
    group and scope tuples the token memo's principals point to instead of
    copies, and the last documents entry read for it (a new token of a known
    kind of principal finds its documents here; the entry's generation and
    expiry are checked all the same)."""

    selectors: tuple[Selector, ...]
    key: str
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    documents: Documents | None = None


class PolicyCaches:
    """Levels 1 and 2 and the sharing tables, emptied together by ``clear()``."""

    def __init__(self, config: CacheConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self.generation = 0
        self.documents: TTLCache[str, Documents] = TTLCache(
            ttl=config.ttl_seconds, max_entries=config.max_entries, clock=clock
        )
        self.effective: BoundedMap[EffectiveKey, Effective | TooLarge] = BoundedMap(
            config.max_entries
        )
        self._selector_sets: BoundedMap[tuple[tuple[str, ...], tuple[str, ...]], SelectorSet] = (
            BoundedMap(config.max_entries)
        )
        # One object per distinct stored document, however many selector sets refer to it.
        self._shared_documents: BoundedMap[PolicyDocument, PolicyDocument] = BoundedMap(
            config.max_entries
        )
        # The compiled patterns without variables, shared by the effective policies that have them.
        self._common_parts = CommonParts(config.max_entries)

    def clear(self) -> None:
        self.generation += 1
        self.effective.clear()
        self._common_parts.clear()
        self._shared_documents.clear()
        self.documents.clear()

    def empty(self) -> bool:
        return not len(self.documents)

    def selector_set(self, groups: tuple[str, ...], scopes: tuple[str, ...]) -> SelectorSet:
        """The selectors of ``groups`` and ``scopes`` and their cache key.

        Memoised: validating and sorting many group names costs more than the
        signature check, and the same group lists come back with every new token.
        """
        key = (groups, scopes)
        found = self._selector_sets.get(key)
        if found is None:
            selectors = selectors_for(groups, scopes)
            # Newline cannot occur in a valid group or scope name: the key is injective.
            found = SelectorSet(selectors, "\n".join(map(str, selectors)), groups, scopes)
            self._selector_sets[key] = found
        return found

    def current(self, entry: Documents | None) -> bool:
        """True when ``entry`` may be served: fresh and from the current generation."""
        return (
            entry is not None
            and entry.generation == self.generation
            and self._clock() < entry.expires
        )

    def cached_documents(self, key: str) -> Documents | None:
        found = self.documents.get(key)
        if found is not MISSING and found.generation == self.generation:
            return found
        return None

    def stale_documents(self, key: str) -> Documents | None:
        """An expired entry still within ``stale_if_error_seconds`` (store down)."""
        found = self.documents.stale_get(key, self.config.stale_if_error_seconds)
        if found is not MISSING and found.generation == self.generation:
            return found
        return None

    def store_documents(
        self, key: str, records: Mapping[Selector, PolicyRecord], generation: int
    ) -> Documents:
        """A documents entry for ``records``, read in ``generation``; cached only
        if no clear() happened since."""
        shared = self._shared_documents
        docs: dict[Selector, PolicyDocument] = {}
        for selector, record in records.items():
            doc = shared.get(record.document)
            if doc is None:
                doc = shared[record.document] = record.document
            docs[selector] = doc
        entry = Documents(
            docs, variables_read(docs.values()), generation, self._clock() + self.config.ttl_seconds
        )
        if generation == self.generation:
            self.documents.put(key, entry)
        return entry

    def effective_for(
        self,
        shared: SelectorSet,
        entry: Documents,
        variables: Mapping[str, Any],
        api_key: str,
    ) -> Effective:
        """The effective policy of ``entry`` for these variables at ``api_key``
        (built once, then shared); raises the remembered PolicyTooLargeError."""
        key: EffectiveKey = (
            shared.key,
            values_of(entry.variables, variables) if entry.variables else (),
            api_key if entry.shorthand else "",
        )
        built = self.effective.get(key)
        if built is None or built.source is not entry:
            built = self._build(entry, shared.selectors, variables, api_key)
            self.effective[key] = built
        if isinstance(built, TooLarge):
            raise built.error
        return built

    def _build(
        self,
        entry: Documents,
        selectors: Sequence[Selector],
        variables: Mapping[str, Any],
        api_key: str,
    ) -> Effective | TooLarge:
        api = api_of(api_key, entry.docs.values()) if entry.shorthand else None
        try:
            document = effective_policy(entry.docs, variables, self.config.policy_max_bytes, api)
        except PolicyTooLargeError as exc:
            return TooLarge(entry, PolicyTooLargeError(exc.size, exc.max_bytes, tuple(selectors)))
        fixed = fixed_patterns(entry.docs.values(), api)
        return Effective(entry, document, fixed, self._common_parts)
