"""Verify a Cognito JWT into a :class:`Principal`, fast and fail-closed.

The order of work is chosen so that cheap, key-free checks come first:

1. type, size cap and ASCII (``jwt.ascii_token``);
2. strict decomposition (``jwt.decode``): segments, base64url, JSON, ``alg``
   RS256, no ``crit``, ``kid``;
3. ``iss`` exact match, which also selects the only JWKS URL that may be
   fetched for this token;
4. key by ``kid`` (``JwksCache``) and the RS256 signature;
5. every other claim rule (``claims.check_claims``).

python-jose's ``jwt.decode`` is not on this path: it is several times slower
(``bench/token.py``) and lax where Cognito tokens should be strict (it accepts a
missing ``exp``, a future ``iat`` and unknown ``crit``). python-jose still
builds the keys (``JwksCache``).

There is no verified-token cache here: the authorizer's token memo is the one
cache of verified tokens, so each call verifies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from authz.errors import ConfigError, JwksError, SignatureError
from authz.settings import Settings, default_jwks_url
from authz.token.claims import ClaimRules, check_claims, check_issuer
from authz.token.jwks import JwksCache
from authz.token.jwt import MAX_TOKEN_BYTES, ascii_token, decode_ascii
from authz.token.principal import Principal

__all__ = ["Verifier"]


class Verifier:
    """Checks tokens against one ``Settings``; safe to share between threads.

    ``jwks`` defaults to a ``JwksCache`` fetching over HTTPS; when
    ``AUTHZ_JWKS_JSON`` is set its keys are installed first (into whichever
    cache is used, unless it already holds keys for that URL), so a cold
    start verifies without any fetch. ``clock`` returns seconds since the
    epoch.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        jwks: JwksCache | None = None,
        clock: Callable[[], float] = time.time,
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
        self._max_token_bytes = max_token_bytes

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
        """The production verifier: HTTPS key fetches, wall clock."""
        return cls(settings)

    def verify(self, token: str) -> Principal:
        """The principal ``token`` speaks for, or a ``TokenError`` saying why not."""
        raw = ascii_token(token, self._max_token_bytes)
        now = self._clock()
        header, payload, signing_input, signature = decode_ascii(raw)
        issuer = check_issuer(payload, self.rules.issuers)
        key = self.jwks.get_key(self._jwks_urls[issuer], header["kid"])
        if not signature or not key.verify(signing_input, signature):
            raise SignatureError("signature does not verify")
        return check_claims(payload, self.rules, now, checked_issuer=issuer)
