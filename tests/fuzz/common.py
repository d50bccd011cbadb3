"""What every fuzz target shares: findings, structure-aware JSON generation and
mutation driven by ``atheris.FuzzedDataProvider``, and a few small fakes.

Generation and mutation consume the fuzzer's bytes, so libFuzzer's coverage
feedback steers them: a mutation that reaches new code is kept and mutated
further. The vocabularies put the strings each parser cares about (keys,
enum values, wildcards, variables, odd Unicode) within a single choice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from atheris import FuzzedDataProvider

from authz.policy.document import PolicyDocument
from authz.store.memory import MemoryRepository

__all__ = [
    "COMMON_STRINGS",
    "NOW",
    "Finding",
    "NullStream",
    "Vocabulary",
    "deterministic_rsa_key",
    "fail",
    "gen_json",
    "memory_repository",
    "mutate",
    "mutate_string",
    "mutations",
    "pick",
    "strings_in",
]

# The fixed "now" of every target, so a saved input replays identically.
NOW = 1_700_000_000
_NOW_UTC = datetime.fromtimestamp(NOW, UTC)


def memory_repository(seed: Mapping[str, PolicyDocument]) -> MemoryRepository:
    """An in-memory store seeded with ``seed`` whose timestamps are all ``NOW``."""
    return MemoryRepository(seed, clock=lambda: _NOW_UTC)


# Strings that have broken parsers before: empty, whitespace, wildcards and
# variables, JSON-looking text, lone surrogates (json.loads yields them from
# "\ud800"), control characters, long runs, percent escapes, non-ASCII.
COMMON_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\t\n",
    "*",
    "?",
    "**",
    "${sub}",
    "${username}",
    "${claim:tenant}",
    "${bad}",
    "${",
    "}",
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",
    "é",
    "\u210c",
    "\U0001d518",
    "\ufeff",
    "null",
    "true",
    "NaN",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999",
    "%",
    "%2F",
    "%ff",
    "%00",
    "/",
    "//",
    "..",
    ",",
    ":",
    "A" * 300,
    "a" * 5000,
)


class Finding(AssertionError):
    """An invariant broke; the input that caused it reproduces a bug."""


def fail(message: str, **details: Any) -> NoReturn:
    """Raise a Finding whose message carries ``details`` (repr'd, truncated)."""
    lines = [message]
    for name, value in details.items():
        text = repr(value)
        lines.append(f"  {name} = {text[:2000]}{'...' if len(text) > 2000 else ''}")
    raise Finding("\n".join(lines))


class NullStream:
    """A text stream that drops everything (log lines would flood the fuzzer's output)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@dataclass(frozen=True)
class Vocabulary:
    """Keys and strings a target's generator and mutator choose from."""

    keys: Sequence[str] = ()
    strings: Sequence[str] = ()
    values: Sequence[Any] = field(default_factory=tuple)


def pick(fdp: FuzzedDataProvider, items: Sequence[Any]) -> Any:
    """One of ``items`` (the first when the input is exhausted)."""
    return items[fdp.ConsumeIntInRange(0, len(items) - 1)]


def _string(fdp: FuzzedDataProvider, vocab: Vocabulary) -> str:
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0 and vocab.strings:
        return str(pick(fdp, vocab.strings))
    if choice == 1:
        return str(pick(fdp, COMMON_STRINGS))
    if choice == 2:
        return str(fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 24)))
    return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 24)))


def _key(fdp: FuzzedDataProvider, vocab: Vocabulary) -> str:
    if vocab.keys and fdp.ConsumeIntInRange(0, 3) != 0:
        return str(pick(fdp, vocab.keys))
    return _string(fdp, vocab)


def gen_json(fdp: FuzzedDataProvider, vocab: Vocabulary, depth: int = 0) -> Any:  # noqa: PLR0911  # one return per generated JSON kind
    """A JSON value (as json.loads could return it, NaN and huge ints included)."""
    kinds = 11 if depth < 4 else 8
    kind = fdp.ConsumeIntInRange(0, kinds)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-3, 3)
    if kind == 3:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 20))
    if kind == 4:
        return pick(fdp, (math.nan, math.inf, -math.inf, 0.5, -0.0, 1e308, NOW + 0.5))
    if kind == 5:
        return fdp.ConsumeFloat()
    if kind == 6 and vocab.values:
        return pick(fdp, vocab.values)
    if kind in (6, 7, 8):
        return _string(fdp, vocab)
    if kind in (9, 10):
        return [gen_json(fdp, vocab, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    return {
        _key(fdp, vocab): gen_json(fdp, vocab, depth + 1)
        for _ in range(fdp.ConsumeIntInRange(0, 5))
    }


def mutate_string(fdp: FuzzedDataProvider, text: str, vocab: Vocabulary) -> str:  # noqa: PLR0911  # one return per mutation kind
    """One edit of ``text``: replace, insert, delete, truncate, repeat, case-flip, or
    insert a character that is not valid Unicode text (lone surrogate) or a control."""
    op = fdp.ConsumeIntInRange(0, 8)
    at = fdp.ConsumeIntInRange(0, len(text))
    if op == 0:
        return _string(fdp, vocab)
    if op == 1:
        return text[:at] + _string(fdp, vocab) + text[at:]
    if op == 2:
        return text[:at] + text[at + fdp.ConsumeIntInRange(1, 8) :]
    if op == 3:
        return text[:at]
    if op == 4:
        return text * int(fdp.ConsumeIntInRange(2, 3))
    if op == 5:
        return text.swapcase()
    if op == 6 and text:
        i = min(at, len(text) - 1)
        return text[:i] + chr(fdp.ConsumeIntInRange(0, 0x10FFFF)) + text[i + 1 :]
    if op == 7:
        odd: str = pick(fdp, ("\ud800", "\udfff", "\x00", "\u2028", "\x7f"))
        return text[:at] + odd + text[at:]
    return " " + text + " "


def mutate(fdp: FuzzedDataProvider, value: Any, vocab: Vocabulary, depth: int = 0) -> Any:  # noqa: C901, PLR0912  # one branch per mutation operator, chosen by the input byte
    """``value`` with one structural edit somewhere inside it (never in place)."""
    op = fdp.ConsumeIntInRange(0, 9)
    if op == 9 or depth > 8:
        return gen_json(fdp, vocab)
    if isinstance(value, dict) and value:
        out = dict(value)
        key = pick(fdp, sorted(out))
        if op == 0:
            del out[key]
        elif op == 1:
            out[key] = gen_json(fdp, vocab)
        elif op == 2:
            out[_key(fdp, vocab)] = gen_json(fdp, vocab)
        elif op == 3:
            # Same value under a key differing only in case: header lookups,
            # duplicate-looking keys.
            out[key.swapcase()] = out[key]
        else:
            out[key] = mutate(fdp, out[key], vocab, depth + 1)
        return out
    if isinstance(value, list) and value:
        out_list = list(value)
        i = fdp.ConsumeIntInRange(0, len(out_list) - 1)
        if op == 0:
            del out_list[i]
        elif op == 1:
            out_list.insert(i, gen_json(fdp, vocab))
        elif op == 2:
            out_list.append(out_list[i])
        else:
            out_list[i] = mutate(fdp, out_list[i], vocab, depth + 1)
        return out_list
    if isinstance(value, str) and op < 7:
        return mutate_string(fdp, value, vocab)
    if isinstance(value, (dict, list)) and op < 5:
        return gen_json(fdp, vocab, depth + 1)
    return gen_json(fdp, vocab)


def mutations(fdp: FuzzedDataProvider, value: Any, vocab: Vocabulary, most: int = 4) -> Any:
    """``value`` after 0..``most`` structural edits."""
    for _ in range(fdp.ConsumeIntInRange(0, most)):
        value = mutate(fdp, value, vocab)
    return value


def strings_in(value: Any) -> list[str]:
    """Every string anywhere in a JSON value, keys included."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str):
                    out.append(k)
                stack.append(v)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return out


def dumps(value: Any) -> str:
    """JSON text of a generated value (NaN/inf allowed: json.loads accepts them)."""
    return json.dumps(value)


# -- a reproducible RSA key ---------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


def _probably_prime(n: int, rng: random.Random) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(8):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        # Top two bits set so the product has exactly 2 * bits bits.
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if _probably_prime(candidate, rng):
            return candidate


@cache
def deterministic_rsa_key(seed: int) -> Any:
    """A 2048-bit RSA private key derived from ``seed``.

    ``KeyPair.generate`` makes a fresh random key per process, so a token a
    fuzzer saved would not replay with the same signature bytes; a key fixed
    by a seed makes every saved input replay exactly. Test-only: the key is
    as public as this file. Deriving it costs seconds of pure-Python prime
    search, so it is kept in the temp directory between runs.
    """
    from cryptography.hazmat.primitives import serialization

    cached = Path(tempfile.gettempdir()) / f"authz-fuzz-rsa-{seed}.pem"
    with contextlib.suppress(OSError, ValueError, TypeError):
        key = serialization.load_pem_private_key(cached.read_bytes(), password=None)
        if _fingerprint(key) == _FINGERPRINTS.get(seed, _fingerprint(key)):
            return key
    key = _derive(seed)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with contextlib.suppress(OSError):
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pem)
        os.replace(partial, cached)
    return key


def _fingerprint(key: Any) -> str:
    n: int = key.public_key().public_numbers().n
    return hashlib.sha256(str(n).encode()).hexdigest()[:16]


# Seeds in use and the modulus each derives, so a stale or foreign cache file is ignored.
_FINGERPRINTS: dict[int, str] = {
    1: "5e4a9a3321c05588",
    2: "f3f41bca0577ee41",
    3: "2612393522e9ce93",
}


def _derive(seed: int) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    rng = random.Random(seed)  # noqa: S311  # reproducible on purpose; not a secret
    e = 65537
    while True:
        p, q = _prime(rng, 1024), _prime(rng, 1024)
        lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
        if p != q and math.gcd(e, lam) == 1:
            break
    d = pow(e, -1, lam)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key()
