"""Warnings about Allow resources that grant more than their text suggests.

IAM's ``*`` matches ``/`` too, so ``arn:aws:execute-api:*:*:*/*/GET/orders/*``
also allows ``DELETE /GET/orders/1``: the API id's ``*`` swallows
``abc/prod`` and the stage's ``*`` matches ``DELETE``. Such a pattern is
valid IAM and may be intended, so this is a warning, never an error.

A warning is only given with a request that proves it: a concrete methodArn
that the real evaluator allows under the resource, and that a segment-wise
reading of the resource (API id, stage and method one segment each) does not
allow. The request is searched for by letting one ``*`` of the API id, stage
or method absorb extra segments, and checked before it is reported; when no
such request is found there is no warning. Not warned about: Deny
statements (an over-broad Deny denies more, never less), wildcards in the
path (they keep IAM semantics on purpose), a ``*`` that ends the pattern
(``.../prod/*`` says "everything below" and means it), and the
``execute-api:/{stage}/{VERB}/{path}`` shorthand (expanded to one segment
each).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from authz.policy.arn import SHORTHAND, MethodArn, parse_method_arn
from authz.policy.document import INVOKE, PolicyDocument, Statement
from authz.policy.evaluate import evaluate
from authz.policy.variables import scan
from authz.policy.wildcard import matches

__all__ = ["PolicyWarning", "resource_warnings"]

# Stands in for every policy variable: a usable value, so the Allow survives.
SAMPLE_VALUE = "sample"
# The search stops here: a warning is advice, and a hostile document with
# hundreds of many-``*`` patterns must not make validation slow.
_MAX_ATTEMPTS = 400
_MAX_DOCUMENT_ATTEMPTS = 8000
# What compiling one resource's matcher costs, in attempts.
_RESOURCE_COST = 10
_MAX_EXTRA_SEGMENTS = 3
_POSITIONS = ("API id", "stage", "HTTP method")
# Every verb of ``arn.VERBS``, the usual read last: a warning naming DELETE says most.
_VERB_ORDER = ("DELETE", "POST", "PUT", "PATCH", "GET", "HEAD", "OPTIONS")
_SAMPLES = (("a1b2c3d4e5", "x9"), ("prod", "dev", "x"))
_REGIONS = ("us-east-1", "eu-west-1")
_ACCOUNTS = ("123456789012",)


@dataclass(frozen=True, slots=True)
class PolicyWarning:
    """One resource that allows a request its text seems to exclude."""

    path: str
    """JSON path of the resource, e.g. ``Statement[0].Resource[1]``."""
    message: str
    request: str
    """The request it allows, e.g. ``DELETE /GET/orders/1``."""
    method_arn: str
    """That request's whole methodArn (the evaluator allows it under the resource)."""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "request": self.request}


def resource_warnings(doc: PolicyDocument) -> list[PolicyWarning]:
    """A warning for every Allow resource whose API id, stage or method ``*`` crosses ``/``."""
    out: list[PolicyWarning] = []
    budget = [_MAX_DOCUMENT_ATTEMPTS]
    for i, statement in enumerate(doc.statements):
        if statement.effect != "Allow" or not statement.invokes:
            continue
        for j, resource in enumerate(statement.resources):
            found = _example(resource, budget)
            if found is not None:
                position, arn = found
                out.append(_warning(f"Statement[{i}].Resource[{j}]", position, arn))
    return out


def _warning(path: str, position: str, arn: MethodArn) -> PolicyWarning:
    message = (
        f"the * in the {position} also matches '/', so this Allow also allows "
        f"{arn.request} (API {arn.api_id}, stage {arn.stage}); write the API id, stage "
        f"and method literally, or use the {SHORTHAND}{{stage}}/{{VERB}}/{{path}} "
        "shorthand"
    )
    return PolicyWarning(path, message, arn.request, str(arn))


def _with_samples(resource: str) -> str:
    spans, _ = scan(resource)
    for start, end, _name in reversed(spans):
        resource = resource[:start] + SAMPLE_VALUE + resource[end:]
    return resource


def _example(resource: str, budget: list[int]) -> tuple[str, MethodArn] | None:
    """(position of the crossing ``*``, a request proving it), or None.

    ``budget[0]`` is what is left of the document's attempts; this spends it.
    """
    if resource == "*" or resource.startswith(SHORTHAND):
        return None
    pattern = _with_samples(resource)
    fields = pattern.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        return None
    parts = fields[5].split("/", 3)
    if not any("*" in part for part in parts[:3]):
        return None
    budget[0] -= _RESOURCE_COST
    probe = _single_allow(pattern)
    attempts = 0
    for position, segments in _shifts(parts):
        for arn in _requests(fields, segments):
            attempts += 1
            budget[0] -= 1
            if attempts > _MAX_ATTEMPTS or budget[0] < 0:
                return None
            if evaluate(probe, str(arn)).allowed and not segment_reading_allows(parts, arn):
                return _POSITIONS[position], arn
    return None


def _single_allow(pattern: str) -> PolicyDocument:
    statement = Statement(effect="Allow", actions=(INVOKE,), resources=(pattern,))
    return PolicyDocument((statement,))


def _shifts(parts: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Segment patterns of requests in which one head ``*`` spans extra segments.

    A ``*`` at the very end of a pattern without a path covers everything
    below it, as its text says, so it is never the one shifted.
    """
    head = parts[:3]
    for j, part in enumerate(head):
        for k, char in enumerate(part):
            if char != "*":
                continue
            if len(parts) < 4 and j == len(parts) - 1 and k == len(part) - 1:
                continue
            for n in range(1, _MAX_EXTRA_SEGMENTS + 1):
                middle = [part[:k] + "*", *(["*"] * (n - 1)), "*" + part[k + 1 :]]
                below = "/".join(parts[j + 1 :]).split("/") if parts[j + 1 :] else []
                yield j, parts[:j] + middle + below


def _segment_regex(pattern: str) -> str:
    """``*`` and ``?`` confined to one segment: how a reader takes the text."""
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=1024)
def _segment_compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_segment_regex(pattern), re.DOTALL)


def _segment_matches(pattern: str, text: str) -> bool:
    return _segment_compiled(pattern).fullmatch(text) is not None


def segment_reading_allows(parts: list[str], arn: MethodArn) -> bool:
    """Does the pattern, read one segment per API id, stage and method, allow ``arn``?

    ``parts`` is the pattern after the account split at the first three
    ``/``. The path keeps IAM semantics; a pattern that ends early ends with
    ``*``, which covers everything below it.
    """
    values = [arn.api_id, arn.stage, arn.method]
    if len(parts) == 4:
        head_ok = all(_segment_matches(p, v) for p, v in zip(parts[:3], values, strict=True))
        return head_ok and matches(parts[3], arn.path[1:])
    last = len(parts) - 1
    if not all(_segment_matches(p, v) for p, v in zip(parts[:last], values, strict=False)):
        return False
    rest = "/".join([*values[last:], arn.path[1:]])
    tail = parts[last]
    if not tail.endswith("*"):
        return False
    return re.fullmatch(_segment_regex(tail[:-1]) + ".*", rest, re.DOTALL) is not None


def _filled(pattern: str, star: str) -> str:
    """``pattern`` with each ``*`` replaced by ``star`` and each ``?`` by ``x``."""
    return pattern.replace("*", star).replace("?", "x")


def _choices(pattern: str, position: int) -> list[str]:
    """Concrete values for one request segment that match its segment pattern."""
    if position == 2:
        return [v for v in _VERB_ORDER if _segment_matches(pattern, v)]
    if position > 2:
        return [_filled(pattern, "1")]
    found = [s for s in _SAMPLES[position] if _segment_matches(pattern, s)][:2]
    filled = _filled(pattern, "")
    return found if filled in found or not filled else [*found[:1], filled]


def _sample_value(pattern: str, samples: tuple[str, ...]) -> str:
    for s in samples:
        if matches(pattern, s):
            return s
    return _filled(pattern, "0")


def _requests(fields: list[str], segments: list[str]) -> Iterator[MethodArn]:
    """Plausible methodArns for the segment patterns; each is checked by the caller."""
    if len(segments) < 4:
        return
    head = [_choices(s, i) for i, s in enumerate(segments[:3])]
    path = "/".join(_choices(s, 3)[0] for s in segments[3:])
    region, account = _sample_value(fields[3], _REGIONS), _sample_value(fields[4], _ACCOUNTS)
    prefix = f"{fields[0]}:{fields[1]}:{fields[2]}:{region}:{account}:"
    for api, stage, verb in itertools.product(*head):
        try:
            yield parse_method_arn(f"{prefix}{api}/{stage}/{verb}/{path}")
        except ValueError:
            continue
