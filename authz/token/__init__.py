"""Cognito JWT verification: ``Verifier(settings).verify(token) -> Principal``.

Importing this package is cheap (no boto3; python-jose is imported when the
first key is prepared). Modules, one job each:

- ``jwt``       strict, key-free decomposition of a compact JWS
- ``claims``    pure claim rules, building the ``Principal``
- ``jwks``      the JWKS cache (keys by URL and kid, penalty box on refetches)
- ``fetch``     the HTTP(S) fetch of a JWKS, stdlib only, tight timeouts
- ``verifier``  the composition (no token cache: the authorizer's memo is the one)
"""

from authz.token.claims import ClaimRules, check_claims
from authz.token.fetch import Fetcher, HttpFetcher
from authz.token.jwks import JwksCache, KeySet, SigningKey, parse_jwks
from authz.token.jwt import MAX_TOKEN_BYTES, Decoded, decode
from authz.token.principal import Principal
from authz.token.verifier import Verifier

__all__ = [
    "MAX_TOKEN_BYTES",
    "ClaimRules",
    "Decoded",
    "Fetcher",
    "HttpFetcher",
    "JwksCache",
    "KeySet",
    "Principal",
    "SigningKey",
    "Verifier",
    "check_claims",
    "decode",
    "parse_jwks",
]
