"""Fuzz target ``policy``: ``PolicyDocument.from_dict`` and everything that
decides with a validated document.

The first input byte picks where the document comes from: 0 ``json.loads``
of the rest; 1 a structure-aware generator (statements built from ARN parts
with wildcards, variables and near-miss spellings); 2 a document from
``policies/`` (the repository's own) mutated structurally; 3 is a side
target, a group's token settings (``TokenSettings.from_dict``), which the
admin API validates with the document.

Invariants:

- ``from_dict`` raises nothing but ``PolicyValidationError`` with a
  non-empty ``.errors`` list of ``{"path", "message"}`` strings;
- a valid document round-trips through ``to_dict`` and JSON unchanged, and
  is valid Unicode text (storable in DynamoDB, returnable to API Gateway);
- for generated request ARNs (instances of the document's own patterns,
  near misses, arbitrary text) ``evaluate`` equals an independent oracle
  (:func:`expected`: a two-pointer glob matcher and IAM's Deny-Allow-implicit
  order, written without any authz code), and so do ``compact``, ``merge``,
  the list form of ``evaluate``, ``explain``, and ``substitute`` with fuzzed
  claims against the oracle's own substitution;
- shorthand resources (``execute-api:/{stage}/{VERB}/{path}``) are decided by
  the oracle segment by segment (stage and verb one segment each, the path
  by glob), and so are the document expanded for the request's API and stage
  (``expand``) and the policy the authorizer would return for it
  (substituted, expanded, merged, compacted).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from atheris import FuzzedDataProvider

from authz.errors import PolicyTooLargeError, PolicyValidationError, TokenSettingsError
from authz.policy import (
    PolicyDocument,
    api_stage,
    compact,
    evaluate,
    expand,
    explain,
    merge,
    substitute,
)
from authz.token_settings import TokenSettings
from tests.fuzz.common import Vocabulary, fail, mutations, pick

__all__ = ["check", "expected", "glob_match", "seeds"]

POLICIES = Path(__file__).resolve().parents[2] / "policies"

_VARIABLE = re.compile(r"\$\{(sub|username|client_id|claim:[A-Za-z0-9_:.-]+)\}")
_USABLE = re.compile(r"[A-Za-z0-9._@+=,-]+")
_INVOKE = frozenset({"execute-api:invoke", "execute-api:*", "*"})
SHORTHAND = "execute-api:/"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# A request whose API and stage are concrete: what a shorthand can be read against.
_REQUEST = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):execute-api:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:"
    r"[A-Za-z0-9]+/(\$?[A-Za-z0-9_-]+)((?:/.*)?)",
    re.DOTALL,
)
_HEADS = (
    "arn:aws:execute-api:us-east-1:123456789012:abc123",
    "arn:aws-cn:execute-api:cn-north-1:123456789012:zz9",
    "arn:aws:execute-api:us-east-1:123456789012:a*c",
)

_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "AWS", "", "aws*")
_REGIONS = ("us-east-1", "eu-west-3", "*", "us-*", "?s-east-1", "", "US-EAST-1", "us_east_1")
_ACCOUNTS = ("123456789012", "*", "12345678901?", "", "1234", "12345678901a")
_APIS = ("abc123", "*", "a?c123", "a-b", "wsapi12345", "")
_STAGES = ("prod", "$default", "*", "pr?d", "dev", "$", "pro d")
_VERBS = ("GET", "POST", "DELETE", "*", "G?T", "get", "ANY", "P*", "GET*", "")
_PATH_PARTS = (
    "orders",
    "*",
    "?",
    "${sub}",
    "${username}",
    "${client_id}",
    "${claim:tenant}",
    "${claim:a.b-c}",
    "${unknown}",
    "${sub",
    "users",
    "locked-*",
    "a?c",
    "%2F",
    "é",
    "",
    " ",
    "\n",
    "[a]",
    "(x)+",
    "\\",
    "$",
    "$x",
    "a" * 70,
    "{id}",
    "{proxy+}",
    "x}",
)
_CLAIM_VALUES: tuple[Any, ...] = (
    "alice",
    "u-1",
    "a.b@c+d=e,f",
    "a/b",
    "*",
    "?",
    "a*",
    "",
    " ",
    "é",
    "x" * 600,
    None,
    5,
    -3,
    True,
    1.5,
    ["x"],
    {"a": 1},
)
VOCAB = Vocabulary(
    keys=(
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Action",
        "Resource",
        "NotAction",
        "NotResource",
        "Principal",
        "Condition",
        "effect",
        "resource",
    ),
    strings=(
        "2012-10-17",
        "2008-10-17",
        "Allow",
        "Deny",
        "allow",
        "execute-api:Invoke",
        "execute-api:invoke",
        "EXECUTE-API:*",
        "*",
        "execute-api:ManageConnections",
        "s3:GetObject",
        "arn:aws:execute-api:*:*:*",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/*",
        "arn:aws:execute-api:*:*:*/*/GET/users/${sub}",
        "arn:aws:execute-api:*:*:*/*/*/*",
        "arn:aws:execute-api:*:*:abc123/*",
        "Sid1",
        "sid 1",
    ),
)


# -- the oracle ---------------------------------------------------------------------


def glob_match(pattern: str, text: str) -> bool:
    """IAM wildcards by the classic two-pointer algorithm: ``*`` any run, ``?`` one char."""
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star != -1:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def shorthand_match(resource: str, arn: str) -> bool | None:
    """A shorthand read one segment at a time: its stage against the request's
    stage, its verb against the request's (a real HTTP verb), its path by glob
    against the rest. None when ``arn`` names no concrete API and stage."""
    m = _REQUEST.fullmatch(arn)
    if m is None:
        return None
    stage, after = m.group(1), m.group(2)
    rest = resource[len(SHORTHAND) :]
    if rest == "*":
        return after.startswith("/")
    parts = rest.split("/", 2)
    if not glob_match(parts[0], stage):
        return False
    if len(parts) == 2:
        return after.startswith("/")
    verb, sep, path = after[1:].partition("/")
    return (
        after.startswith("/")
        and bool(sep)
        and verb in _METHODS
        and glob_match(parts[1], verb)
        and glob_match(parts[2], path)
    )


def _matches(effect: str, pattern: str, arn: str) -> bool:
    if not pattern.startswith(SHORTHAND):
        return glob_match(pattern, arn)
    found = shorthand_match(pattern, arn)
    # No API and stage to read: like an unusable variable, only access is taken away.
    return effect == "Deny" if found is None else found


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _resolved(resource: str, effect: str, claims: Mapping[str, Any]) -> str | None:
    """An unusable value drops an Allow resource and widens a Deny one."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        raw = claims.get(name[6:] if name.startswith("claim:") else name)
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, str) and _USABLE.fullmatch(raw):
            return raw
        if effect == "Allow":
            raise LookupError(name)
        return "*"

    try:
        return _VARIABLE.sub(value, resource)
    except LookupError:
        return None


def expected(raw: Mapping[str, Any], arn: str, claims: Mapping[str, Any]) -> str:
    """The effect IAM gives ``arn`` under the raw (valid) document ``raw``."""
    statements = raw["Statement"]
    statements = [statements] if isinstance(statements, Mapping) else statements
    matched = set()
    for s in statements:
        if not any(a.lower() in _INVOKE for a in _as_list(s["Action"])):
            continue
        for r in _as_list(s["Resource"]):
            pattern = _resolved(r, s["Effect"], claims)
            if pattern is not None and _matches(s["Effect"], pattern, arn):
                matched.add(s["Effect"])
    if "Deny" in matched:
        return "Deny"
    return "Allow" if "Allow" in matched else "ImplicitDeny"


# -- generation ---------------------------------------------------------------------


def _shorthand(fdp: FuzzedDataProvider, path: str) -> str:
    form = fdp.ConsumeIntInRange(0, 7)
    if form == 0:
        return SHORTHAND + "*"
    stage = pick(fdp, _STAGES)
    if form == 1:
        return f"{SHORTHAND}{stage}/*"
    if form == 2:
        return f"{SHORTHAND}{stage}"
    return f"{SHORTHAND}{stage}/{pick(fdp, _VERBS)}/{path}"


def _resource(fdp: FuzzedDataProvider) -> str:
    if fdp.ConsumeIntInRange(0, 15) == 0:
        return "*"
    path = "/".join(pick(fdp, _PATH_PARTS) for _ in range(fdp.ConsumeIntInRange(0, 4)))
    if fdp.ConsumeBool():
        return _shorthand(fdp, path)
    parts = [
        f"arn:{pick(fdp, _PARTITIONS)}:execute-api:{pick(fdp, _REGIONS)}",
        pick(fdp, _ACCOUNTS),
        f"{pick(fdp, _APIS)}/{pick(fdp, _STAGES)}/{pick(fdp, _VERBS)}/{path}",
    ]
    text = ":".join(parts)
    if fdp.ConsumeIntInRange(0, 5) == 0:
        # End early after a part that ends in * (valid), or anywhere (invalid).
        text = text[: fdp.ConsumeIntInRange(0, len(text))]
    return text


def _statement(fdp: FuzzedDataProvider, index: int) -> dict[str, Any]:
    st: dict[str, Any] = {}
    if fdp.ConsumeIntInRange(0, 3) == 0:
        st["Sid"] = pick(fdp, (f"S{index}", "S0", "", "a b", "x" * 129, 7))
    st["Effect"] = pick(fdp, ("Allow", "Allow", "Deny", "deny"))
    actions = ["execute-api:Invoke", "execute-api:*", "*", "EXECUTE-API:INVOKE", "s3:*"]
    st["Action"] = (
        pick(fdp, actions)
        if fdp.ConsumeBool()
        else [pick(fdp, actions) for _ in range(fdp.ConsumeIntInRange(1, 3))]
    )
    resources = [_resource(fdp) for _ in range(fdp.ConsumeIntInRange(1, 4))]
    st["Resource"] = resources[0] if len(resources) == 1 and fdp.ConsumeBool() else resources
    if fdp.ConsumeIntInRange(0, 15) == 0:
        st[pick(fdp, ("Condition", "NotAction", "Principal", "resource"))] = {}
    return st


def _generated(fdp: FuzzedDataProvider) -> Any:
    statements = [_statement(fdp, i) for i in range(fdp.ConsumeIntInRange(1, 6))]
    doc: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": statements[0] if len(statements) == 1 and fdp.ConsumeBool() else statements,
    }
    return mutations(fdp, doc, VOCAB, 1)


@lru_cache(maxsize=1)
def stored_policies() -> tuple[dict[str, Any], ...]:
    """The repository's own policy files: realistic starting points for mutation."""
    return tuple(json.loads(p.read_text()) for p in sorted(POLICIES.rglob("*.json")))


def _instance(fdp: FuzzedDataProvider, pattern: str) -> str:
    """A concrete text that ``pattern`` matches (or nearly does)."""
    if pattern.startswith(SHORTHAND):
        pattern = pick(fdp, _HEADS) + "/" + pattern[len(SHORTHAND) :]
    out: list[str] = []
    for c in _VARIABLE.sub(lambda m: pick(fdp, ("alice", "u-1", "*", "")), pattern):
        if c == "*":
            out.append(
                pick(
                    fdp,
                    (
                        "",
                        "x",
                        "a/b",
                        "orders/42",
                        "/",
                        "?",
                        "${sub}",
                        "\n",
                        "é" * 3,
                        "GET/x",
                        "prod",
                    ),
                )
            )
        elif c == "?":
            out.append(pick(fdp, ("a", "/", "?", "*", "é")))
        else:
            out.append(c)
    text = "".join(out)
    if text and fdp.ConsumeIntInRange(0, 3) == 0:
        at = fdp.ConsumeIntInRange(0, len(text) - 1)
        text = text[:at] + pick(fdp, ("", "x", "/", "A")) + text[at + 1 :]
    return text


def _arns(fdp: FuzzedDataProvider, raw: Mapping[str, Any]) -> list[str]:
    statements = raw["Statement"]
    statements = [statements] if isinstance(statements, Mapping) else statements
    patterns = [r for s in statements for r in _as_list(s["Resource"])]
    arns = [
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/42",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/",
    ]
    for _ in range(fdp.ConsumeIntInRange(1, 6)):
        if fdp.ConsumeIntInRange(0, 4):
            arns.append(_instance(fdp, pick(fdp, patterns)))
        else:
            arns.append(fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 80)))
    return arns


def _claims(fdp: FuzzedDataProvider) -> dict[str, Any]:
    names = ("sub", "username", "client_id", "tenant", "a.b-c")
    return {n: pick(fdp, _CLAIM_VALUES) for n in names if fdp.ConsumeIntInRange(0, 4)}


# -- the target ---------------------------------------------------------------------


def _checked(raw: Any) -> PolicyDocument | None:
    try:
        return PolicyDocument.from_dict(raw)
    except PolicyValidationError as exc:
        errors = exc.errors
        if not errors or not all(
            isinstance(e, dict)
            and set(e) == {"path", "message"}
            and all(isinstance(v, str) for v in e.values())
            for e in errors
        ):
            fail("PolicyValidationError.errors is not a list of {path, message}", errors=errors)
        str(exc)
        return None


def _decisions(fdp: FuzzedDataProvider, raw: Mapping[str, Any], doc: PolicyDocument) -> None:
    canonical = doc.to_dict()
    text = json.dumps(canonical, allow_nan=False)
    try:
        # It must be storable (DynamoDB) and sendable (API Gateway): valid Unicode text.
        json.dumps(canonical, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        fail("a valid document is not encodable as UTF-8", raw=raw)
    if PolicyDocument.from_dict(json.loads(text)) != doc:
        fail("to_dict/from_dict does not round-trip", raw=raw, canonical=canonical)
    if PolicyDocument.from_dict(canonical).to_dict() != canonical:
        fail("to_dict is not canonical", canonical=canonical)
    small = compact(doc)
    merged = merge([doc, small])
    claims = _claims(fdp)
    substituted = substitute(doc, claims)
    effective = compact(merge([substituted]))
    with contextlib.suppress(PolicyTooLargeError):
        compact(doc, max_bytes=fdp.ConsumeIntInRange(0, 4096))
    for arn in _arns(fdp, raw):
        want = expected(raw, arn, {})
        got = {
            "evaluate": evaluate(doc, arn).effect,
            "compact": evaluate(small, arn).effect,
            "merge": evaluate(merged, arn).effect,
            "list": evaluate([doc, small], arn).effect,
            "explain": explain([("group:fuzz", doc)], arn).decision.effect,
        }
        wrong = {k: v for k, v in got.items() if v != want}
        if wrong:
            fail("a decision differs from the oracle", raw=raw, arn=arn, want=want, got=wrong)
        if evaluate(doc, arn).allowed != (want == "Allow"):
            fail("Decision.allowed disagrees with its effect", raw=raw, arn=arn)
        want_sub = expected(raw, arn, claims)
        got_sub = (evaluate(substituted, arn).effect, evaluate(effective, arn).effect)
        if got_sub != (want_sub, want_sub):
            fail(
                "substitute decides differently from the oracle",
                raw=raw,
                claims=claims,
                arn=arn,
                want=want_sub,
                got=got_sub,
            )
        _expanded(raw, doc, substituted, arn, (want, want_sub))


def _expanded(
    raw: Mapping[str, Any],
    doc: PolicyDocument,
    substituted: PolicyDocument,
    arn: str,
    want: tuple[str, str],
) -> None:
    """The document expanded for the request's API and stage, and the policy the
    authorizer returns there, decide as the oracle does."""
    api = api_stage(arn)
    if (api is None) != (shorthand_match(SHORTHAND + "*", arn) is None):
        fail("api_stage and the oracle disagree on whether the request names an API", arn=arn)
    if api is None:
        return
    returned = compact(merge([expand(substituted, api)]))
    got = (evaluate(expand(doc, api), arn).effect, evaluate(returned, arn).effect)
    if got != want:
        fail("the expanded policy decides differently", raw=raw, arn=arn, want=want, got=got)
    for statement in returned.statements:
        for resource in statement.resources:
            if resource.startswith(SHORTHAND):
                fail("a shorthand survived expansion", raw=raw, arn=arn, resource=resource)


_TOKEN_SETTINGS: tuple[dict[str, Any], ...] = (
    {"scopes": ["orders/write"], "claims": {"tenant": "t1", "tier": 2, "flags": [True, None]}},
    {"claims": {"nested": {"a": [1.5, "x"]}}},
    {},
)


def _token_settings(data: bytes) -> None:
    """``TokenSettings.from_dict`` (the pre token trigger's per-group settings, validated
    by the admin API) raises only TokenSettingsError; valid settings round-trip.
    Input: JSON text, or else generator bytes mutating realistic settings."""
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):
        fdp = FuzzedDataProvider(data)
        raw = mutations(fdp, pick(fdp, _TOKEN_SETTINGS), VOCAB, 4)
    try:
        settings = TokenSettings.from_dict(raw)
    except TokenSettingsError as exc:
        if not exc.errors:
            fail("TokenSettingsError without errors", raw=raw)
        return
    again = TokenSettings.from_dict(json.loads(json.dumps(settings.to_dict(), allow_nan=False)))
    if again.to_dict() != settings.to_dict():
        fail("token settings do not round-trip", raw=raw, settings=settings.to_dict())


def check(data: bytes) -> None:
    """One fuzz input (first byte: where the document comes from); raises only for a finding."""
    if not data:
        return
    source = data[0] % 4
    fdp = FuzzedDataProvider(data[1:])
    if source == 3:
        _token_settings(data[1:])
        return
    if source == 0:
        try:
            raw = json.loads(data[1:])
        except (ValueError, RecursionError):
            return
    elif source == 1:
        raw = _generated(fdp)
    else:
        raw = mutations(fdp, pick(fdp, stored_policies()), VOCAB, 3)
    doc = _checked(raw)
    if doc is not None:
        _decisions(fdp, raw, doc)


def seeds() -> list[bytes]:
    """Each stored policy as JSON, and a few inputs for each generator."""
    out = [b"\x00" + json.dumps(p).encode() for p in stored_policies()]
    out += [bytes([m]) + bytes(range(i, i + 48)) for m in (1, 2, 3) for i in range(0, 200, 40)]
    return out
