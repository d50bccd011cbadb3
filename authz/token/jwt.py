"""Decompose a compact JWS strictly, without touching any key.

Everything here is pure and cheap, and runs before any key is looked up, so
a hostile token is refused for its shape (size, segments, encoding, JSON,
``alg``, ``crit``) before it can cost a fetch or an RSA operation. Only
RS256 is accepted: Cognito signs nothing else, and a fixed algorithm closes
the alg-confusion holes (``none``, HS256 keyed with the public key).
"""

from __future__ import annotations

import binascii
import json
from typing import Any, NamedTuple

from authz.cache import BoundedMap
from authz.errors import MalformedTokenError, UnsupportedTokenError
from authz.json_depth import reject_constant

__all__ = ["ALGORITHM", "MAX_TOKEN_BYTES", "Decoded", "ascii_token", "decode", "decode_ascii"]

ALGORITHM = "RS256"
# Cognito tokens are 1-4 KiB (groups and custom claims included); four times
# that still fits API Gateway's header limits and bounds the parsing work.
MAX_TOKEN_BYTES = 16 * 1024

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Value of each base64url byte; bytes outside the alphabet map to 0 here and
# are refused by strict_mode decoding.
_B64_VALUES = bytes(_ALPHABET.find(bytes([b])) % 64 for b in range(256))
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PAD = (b"", b"", b"==", b"=")
# An issuer's tokens share a handful of headers ({"kid": ..., "alg": "RS256"}
# per signing key), so headers that passed the checks are remembered (never
# mutated) by their encoded form. Bounded: a flood of distinct headers only
# costs what parsing costs anyway.
_HEADER_MEMO = 64
_HEADERS: BoundedMap[bytes, dict[str, Any]] = BoundedMap(_HEADER_MEMO, builtin_keys=True)


class Decoded(NamedTuple):
    """The parts of a compact JWS whose header passed the shape checks.

    A NamedTuple, so that it unpacks as ``header, payload, signing_input,
    signature``.
    """

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        kid: str = self.header["kid"]
        return kid


def decode(token: str, *, max_bytes: int = MAX_TOKEN_BYTES) -> Decoded:
    """Split and decode ``token``; raise a ``TokenError`` subclass on any defect.

    Checks, in order: type and size; ASCII; three segments (five is JWE);
    strict base64url; header a JSON object without duplicate keys;
    ``alg`` exactly RS256; no ``crit``; ``kid`` a non-empty string; payload
    a JSON object without duplicate keys.
    """
    decoded = decode_ascii(ascii_token(token, max_bytes))
    # A copy: the remembered header is shared and must stay as checked.
    return decoded._replace(header=dict(decoded.header))


def ascii_token(token: object, max_bytes: int = MAX_TOKEN_BYTES) -> bytes:
    """``token`` as ASCII bytes, after the checks that need no parsing: a
    string, at most ``max_bytes`` characters, ASCII only."""
    if not isinstance(token, str):
        raise MalformedTokenError(f"token must be a string, not {type(token).__name__}")
    if len(token) > max_bytes:
        raise MalformedTokenError(f"token longer than {max_bytes} characters")
    if not token.isascii():
        raise MalformedTokenError("token contains non-ASCII characters")
    return token.encode("ascii")


def decode_ascii(raw: bytes) -> Decoded:
    """``decode`` for a token that ``ascii_token`` has already checked and encoded.

    The header returned is the remembered one, shared by every token that
    carries it: read it, never change it.
    """
    parts = raw.split(b".", 5)
    if len(parts) != 3:
        dots = raw.count(b".")
        if dots == 4:
            raise UnsupportedTokenError("encrypted tokens (JWE) are not accepted")
        raise MalformedTokenError(f"a JWS has 3 segments, this token has {dots + 1}")
    h64, p64, s64 = parts
    header = _HEADERS.get(h64)
    if header is None:
        header = _checked_header(h64)
        _HEADERS[h64] = header
    payload = _json_object(_b64decode(p64, "payload"), "payload")
    signature = _b64decode(s64, "signature") if s64 else b""
    return Decoded(header, payload, raw[: len(h64) + 1 + len(p64)], signature)


def _checked_header(h64: bytes) -> dict[str, Any]:
    header = _json_object(_b64decode(h64, "header"), "header")
    alg = header.get("alg")
    if alg != ALGORITHM:
        if isinstance(alg, str):
            raise UnsupportedTokenError(f"alg {alg!r} is not accepted; only {ALGORITHM}")
        raise MalformedTokenError("header alg must be a string")
    if "crit" in header:
        # RFC 7515 4.1.11: a recipient must reject extensions it does not
        # understand, and authz understands none.
        raise UnsupportedTokenError(
            f"critical header extensions are not supported: {header['crit']!r}"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedTokenError("header kid must be a non-empty string")
    return header


def _b64decode(segment: bytes, what: str) -> bytes:
    # Strict: the URL-safe alphabet only (the standard alphabet's + and / and
    # any = are mapped to a byte strict_mode refuses), no impossible length,
    # and zero unused trailing bits, so each byte string has exactly one
    # encoding (a token cannot be re-spelt to dodge the authorizer's token memo).
    rem = len(segment) % 4
    if rem == 1 or not segment:
        raise MalformedTokenError(f"{what} is not base64url (bad length)")
    if rem and _B64_VALUES[segment[-1]] & (0x0F if rem == 2 else 0x03):
        raise MalformedTokenError(f"{what} is not canonical base64url")
    try:
        return binascii.a2b_base64(segment.translate(_TO_STANDARD) + _PAD[rem], strict_mode=True)
    except binascii.Error as exc:
        raise MalformedTokenError(f"{what} is not base64url") from exc


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = _parse(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedTokenError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedTokenError(f"{what} must be a JSON object")
    return value


def _parse(text: str) -> Any:
    # raw_decode skips decode()'s two whitespace scans (every new token's
    # payload passes here); a text with whitespace around the value, or
    # anything wrong, takes decode(), so what is accepted and the error
    # messages stay decode()'s.
    try:
        value, end = _JSON.raw_decode(text)
    except ValueError:
        return _JSON.decode(text)
    return value if end == len(text) else _JSON.decode(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different duplicates; refusing them removes the ambiguity.
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return out


# Built once: json.loads(..., object_pairs_hook=...) would build a decoder per call.
_JSON = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=reject_constant)
