"""Verify a Cognito JWT into a :class:`Principal`, fast and fail-closed.

The order of work is chosen so that cheap, key-free checks come first:

1. size cap, then the verified-token cache (a hash of the whole token);
2. strict decomposition (``jwt.decode``): segments, base64url, JSON, ``alg``
   RS256, no ``crit``, ``kid``;
3. ``iss`` exact match, which also selects the only JWKS URL that may be
   fetched for this token;
4. key by ``kid`` (``JwksCache``) and the RS256 signature;
5. every other claim rule (``claims.check_claims``).

python-jose's ``jwt.decode`` is not on this path: it costs 3-7x an RSA
verification and is lax where Cognito tokens should be strict (it accepts a
missing ``exp``, a future ``iat`` and unknown ``crit``). python-jose still
builds the keys (``JwksCache``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from authz.errors import ConfigError, JwksError, MalformedTokenError, SignatureError
from authz.settings import Settings, default_jwks_url
from authz.token.claims import ClaimRules, check_claims, check_issuer
from authz.token.jwks import JwksCache
from authz.token.jwt import MAX_TOKEN_BYTES, decode_ascii
from authz.token.principal import Principal

__all__ = ["Verifier"]

DEFAULT_CACHE_SIZE = 4096


class Verifier:
    """Checks tokens against one ``Settings``; safe to share between threads.

    ``jwks`` defaults to a ``JwksCache`` fetching over HTTPS; when
    ``AUTHZ_JWKS_JSON`` is set its keys are installed first (into whichever
    cache is used, unless it already holds keys for that URL), so a cold
    start verifies without any fetch. ``clock`` returns seconds since the
    epoch. ``cache_size=0`` turns the verified-token cache off.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        jwks: JwksCache | None = None,
        clock: Callable[[], float] = time.time,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_token_bytes: int = MAX_TOKEN_BYTES,
    ) -> None:
        settings.require_token_config()
        client_ids = None if settings.client_check_disabled else settings.client_ids
        self.rules = ClaimRules(
            issuers=frozenset(settings.issuers),
            client_ids=client_ids,
            token_use=settings.token_use,
            leeway=float(settings.leeway_seconds),
        )
        self._jwks_urls = {
            iss: settings.jwks_urls.get(iss) or default_jwks_url(iss) for iss in settings.issuers
        }
        self.jwks = jwks if jwks is not None else JwksCache()
        if settings.jwks_json is not None:
            for url in sorted(set(self._jwks_urls.values())):
                if self.jwks.key_set(url) is None:
                    self._preload(url, settings.jwks_json)
        self._clock = clock
        self._cache_size = cache_size
        self._max_token_bytes = max_token_bytes
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()
        self._lock = threading.Lock()

    def _preload(self, url: str, document: Mapping[str, Any]) -> None:
        try:
            self.jwks.preload(url, document)
        except JwksError as exc:
            raise ConfigError("AUTHZ_JWKS_JSON", str(exc)) from exc
        key_set = self.jwks.key_set(url)
        if key_set is None or not key_set.keys:
            reasons = key_set.unusable if key_set is not None else {}
            raise ConfigError("AUTHZ_JWKS_JSON", f"no usable RS256 signing key: {dict(reasons)}")

    @classmethod
    def from_settings(cls, settings: Settings) -> Verifier:
        """The production verifier: HTTPS key fetches, wall clock, default cache."""
        return cls(settings)

    def verify(self, token: str) -> Principal:
        """The principal ``token`` speaks for, or a ``TokenError`` saying why not."""
        if not isinstance(token, str):
            raise MalformedTokenError(f"token must be a string, not {type(token).__name__}")
        if len(token) > self._max_token_bytes:
            raise MalformedTokenError(f"token longer than {self._max_token_bytes} characters")
        if not token.isascii():
            raise MalformedTokenError("token contains non-ASCII characters")
        raw = token.encode("ascii")
        now = self._clock()
        if self._cache_size <= 0:
            return self._verify(raw, now)
        digest = hashlib.sha256(raw).digest()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None:
                # Checked on every hit, against the rounded-down exp: a cached
                # principal is never returned for a token at or past exp.
                if now < hit.expires_at:
                    self._cache.move_to_end(digest)
                    return hit
                del self._cache[digest]
        principal = self._verify(raw, now)
        if now < principal.expires_at:
            with self._lock:
                self._cache[digest] = principal
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return principal

    def clear_cache(self) -> None:
        """Forget every verified token (keys stay cached)."""
        with self._lock:
            self._cache.clear()

    def cached_tokens(self) -> int:
        """How many verified tokens are cached."""
        return len(self._cache)

    def _verify(self, raw: bytes, now: float) -> Principal:
        # The size, type and ASCII checks of ``jwt.decode`` were made by verify().
        header, payload, signing_input, signature = decode_ascii(raw)
        issuer = check_issuer(payload, self.rules.issuers)
        key = self.jwks.get_key(self._jwks_urls[issuer], header["kid"])
        if not signature or not key.verify(signing_input, signature):
            raise SignatureError("signature does not verify")
        return check_claims(payload, self.rules, now, checked_issuer=issuer)
