"""Worst-case decision time: hostile policies against hostile methodArns.

The request path is attacker-controlled, and a policy may be any valid
document within ``AUTHZ_POLICY_MAX_BYTES`` (8192 bytes of JSON by default).
This searches both for the slowest decision:

- policies: families built to make matchers work (many inner ``*``,
  ``*a/*/N*``, ``*a*a*a*b``, near-miss literals, long literal runs, ``?``
  segments, many distinct short segments), each filled with as many
  patterns as fit in the byte budget, plus random mixes of hostile pieces
  (fixed seed, so every run tries the same ones);
- methodArns: ``a/a/a/...``, ``aaaa...`` and near misses, 256 characters,
  1 KB and 8 KB long.

Reported: the worst decision found (target: at most 1000 µs), the worst for
methodArns of at most 256 characters, and the ratio of the worst time at
8 KB to the worst at 1 KB (linear cost gives about 8; quadratic about 64).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from authz.policy import PolicyDocument, compile_policy
from authz.policy.arn import check_resource

POLICY_MAX_BYTES = 8192
LENGTHS = (256, 1024, 8192)
ARN_HEAD = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/"
ANY = "arn:aws:execute-api:*:*:*"
TARGET_US = 1000.0
RANDOM_POLICIES = 40
SEED = 12


def _tag(i: int) -> str:
    """A short distinct literal per pattern: 0-9, a-z, A-Z, then two characters."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = digits[i % len(digits)]
    while i >= len(digits):
        i = i // len(digits) - 1
        out = digits[i % len(digits)] + out
    return out


FAMILIES: dict[str, Callable[[int], str]] = {
    "*a/*/N*": lambda i: f"{ANY}/*/GET/*a/*/N{_tag(i)}*",
    "*a/*/*a/N": lambda i: f"{ANY}/*/GET/*a/*/*a/N{_tag(i)}",
    "*a*a*a*b": lambda i: f"{ANY}/*/GET/*a*a*a*b{_tag(i)}",
    "many inner *": lambda i: f"{ANY}/*/*/*a/*a/*a/*a/*a/*a/*N{_tag(i)}*",
    "near-miss literal": lambda i: f"{ANY}/*/GET/*{'a/' * 12}N{_tag(i)}*",
    "long literal run": lambda i: f"{ANY}/*/GET/*{'a' * 60}b{_tag(i)}*",
    "miss in mid-literal": lambda i: f"{ANY}/*/GET/*{'a' * 25}b{'a' * 25}{_tag(i)}*",
    "? segments": lambda i: f"{ANY}/*/GET/*a?a?a?a?N{_tag(i)}*",
    "distinct short middles": lambda i: f"{ANY}*N{_tag(i)}*",
    "diverging after *": lambda i: f"{ANY}/*/GET/*{_tag(i)}a/*/N*",
}

_PIECES = ("*", "a", "/", "a/", "*a/", "N", "*/", "?", "a?")


def _size(patterns: list[str]) -> int:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": patterns}],
    }
    return len(json.dumps(doc, separators=(",", ":")))


def fill(make: Callable[[int], str]) -> PolicyDocument:
    """As many valid, distinct patterns from ``make`` as fit in the byte budget."""
    patterns: list[str] = []
    for i in range(4000):
        p = make(i)
        if check_resource(p) or p in patterns:
            continue
        if _size([*patterns, p]) > POLICY_MAX_BYTES:
            break
        patterns.append(p)
    statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": patterns}
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": [statement]})


def random_policies(count: int = RANDOM_POLICIES, seed: int = SEED) -> Iterator[PolicyDocument]:
    """Random mixes of hostile pieces under a few heads (fixed seed: the same every run)."""
    rnd = random.Random(seed)  # noqa: S311  # reproducible test inputs, not secrets
    heads = (f"{ANY}/*/GET/", f"{ANY}/*/*/", f"{ANY}/*/", ANY)
    for _ in range(count):
        head = rnd.choice(heads)
        bodies = ["".join(rnd.choices(_PIECES, k=rnd.randint(2, 8))) for _ in range(4)]

        def make(i: int, head: str = head, bodies: list[str] = bodies) -> str:
            return head + bodies[i % len(bodies)] + f"N{_tag(i)}" + ("", "*", "N*")[i % 3]

        if not check_resource(make(0)):
            yield fill(make)


def methodarns(length: int) -> dict[str, str]:
    """Hostile requests of exactly ``length`` characters."""
    room = length - len(ARN_HEAD)
    return {
        "a/a/a/...": ARN_HEAD + ("a/" * length)[:room],
        "aaaa...": ARN_HEAD + ("a" * length)[:room],
        "a/a/.../N": ARN_HEAD + ("a/" * length)[: room - 1] + "N",
        "aaa...b": ARN_HEAD + ("a" * length)[: room - 1] + "b",
    }


def decision_us(doc: PolicyDocument, arn: str, repeat: int = 3) -> float:
    """Best of ``repeat`` timings of one decision (compiled once, as in the authorizer)."""
    compiled = compile_policy(doc)
    compiled.decide(arn)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        compiled.decide(arn)
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def search() -> dict[str, Any]:
    """Time every policy against every hostile methodArn; keep the worst per length."""
    policies = [(name, fill(make)) for name, make in FAMILIES.items()]
    policies += [(f"random #{i}", d) for i, d in enumerate(random_policies())]
    worst: dict[int, tuple[float, str]] = dict.fromkeys(LENGTHS, (0.0, ""))
    for name, doc in policies:
        for length in LENGTHS:
            for arn_name, arn in methodarns(length).items():
                us = decision_us(doc, arn)
                if us > worst[length][0]:
                    worst[length] = (us, f"{name} x {arn_name}")
    return {"worst": worst, "policies": len(policies)}


def run() -> list[dict[str, Any]]:
    found = search()
    worst: dict[int, tuple[float, str]] = found["worst"]
    overall = max(worst.values())
    rows: list[dict[str, Any]] = [
        {
            "name": f"worst decision (hostile policies <= {POLICY_MAX_BYTES} B, methodArn <= 8 KB)",
            "value": overall[0],
            "unit": "µs",
            "target": f"<= {TARGET_US:.0f}",
        },
        {"name": f"worst case of {found['policies']} policies", "value": overall[1]},
    ]
    for length in LENGTHS:
        us, where = worst[length]
        rows.append({"name": f"worst at {length} characters: {where}", "value": us, "unit": "µs"})
    rows.append(
        {
            "name": "worst at 8 KB / worst at 1 KB (linear: about 8)",
            "value": worst[8192][0] / worst[1024][0],
            "unit": "x",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
