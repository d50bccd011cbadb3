"""The token memo: the one cache of verified tokens.

A SHA-256 of the whole token and the methodArn's API and stage -> the
principal and its effective-policy entry. An entry is served only while

- the token has not expired (``exp`` against the wall clock, as the
  verifier would check it),
- the documents entry it was built from is fresh (monotonic clock), and
- no epoch move emptied the caches since (the generation it was built in).

At most ``max_entries`` tokens are remembered, least recently used first
out. A repeated token costs one hash, one lookup and one compiled decision.

The memo keeps a slim principal (identity, groups, scopes and only the
claims the principal's policies read), so ``Outcome.principal`` of a memo
hit carries no other claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, NamedTuple

from authz.cache import BoundedMap
from authz.policy import Selector
from authz.policy.variables import claim_key
from authz.service.caches import Effective, SelectorSet
from authz.token.principal import Principal

__all__ = ["MemoEntry", "TokenMemo", "token_digest"]

_NO_CLAIMS: MappingProxyType[str, Any] = MappingProxyType({})


def token_digest(token: object) -> bytes | None:
    """The memo key's token part; None for a token that cannot be one (not ASCII text)."""
    if type(token) is str and token.isascii():
        return hashlib.sha256(token.encode("ascii")).digest()
    return None


class MemoEntry(NamedTuple):
    """A verified token and the policy it resolved to (a NamedTuple: one is
    built per new token, and it is cheaper to build than a frozen dataclass)."""

    principal: Principal
    selectors: tuple[Selector, ...]
    effective: Effective
    generation: int
    fresh_until: float  # monotonic: the documents entry's expiry


class TokenMemo:
    """Verified tokens per (digest, API+stage); see the module docstring."""

    def __init__(
        self,
        max_entries: int,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        # An expanded policy is for one API and stage, hence the key's second part.
        # Built-in keys (a digest, and text of the methodArn an event's JSON
        # carried), so that the read every request makes takes no lock.
        self._entries: BoundedMap[tuple[bytes, str], MemoEntry] = BoundedMap(
            max_entries, builtin_keys=True
        )
        # One (issuer, client id) pair per distinct pair: its strings are shared
        # by the principals that have them, only sharing is lost on eviction.
        self._origins: BoundedMap[tuple[str, str | None], tuple[str, str | None]] = BoundedMap(
            max_entries
        )

    def get(self, digest: bytes, api_key: str, generation: int) -> MemoEntry | None:
        entry = self._entries.get((digest, api_key))
        if (
            entry is not None
            and entry.generation == generation
            and self._clock() < entry.fresh_until
            and self._wall_clock() < entry.principal.expires_at
        ):
            return entry
        return None

    def put(self, digest: bytes, api_key: str, entry: MemoEntry) -> None:
        self._entries[digest, api_key] = entry

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def slim(
        self, principal: Principal, shared: SelectorSet, variables: tuple[str, ...]
    ) -> Principal:
        """The principal as the memo keeps it.

        A verified principal holds the whole claim set; the memo needs only
        what the response and the decision line report, plus the claims this
        principal's policies read (so that ``variables()`` still yields what
        the effective policy was built from). Groups, scopes, issuer and
        client id are shared with the other principals that have the same ones.
        """
        claims = principal.claims
        kept = {k: claims[k] for k in map(claim_key, variables) if k in claims} if variables else {}
        issuer, client_id = self._share(principal.issuer, principal.client_id)
        return Principal(
            principal.sub,
            principal.username,
            client_id,
            principal.token_use,
            shared.groups,
            shared.scopes,
            issuer,
            principal.expires_at,
            MappingProxyType(kept) if kept else _NO_CLAIMS,
        )

    def _share(self, issuer: str, client_id: str | None) -> tuple[str, str | None]:
        # One lookup for both: an app client belongs to one issuer's pool.
        origin = (issuer, client_id)
        found = self._origins.get(origin)
        if found is None:
            self._origins[origin] = found = origin
        return found
