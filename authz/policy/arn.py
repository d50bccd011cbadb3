"""execute-api ARNs: the methodArn of a request and the Resource patterns that match it.

``arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}``

A Resource pattern is ``*``, the shorthand ``execute-api:/{stage}/{VERB}/{path}``
(checked and expanded by ``authz.policy.shorthand``), or such an ARN in which ``*``/``?`` may stand
inside any part after the service, and in which a part ending in ``*`` may end
the ARN (``arn:aws:execute-api:*:*:*`` or ``...:abc123/*``) because that ``*``
already covers everything after it. Each part is checked on its own so a
mistake is reported where it is, in words that say how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from authz.policy.variables import scan
from authz.policy.wildcard import matches

__all__ = [
    "FALLBACK_ACCOUNT",
    "FALLBACK_API",
    "FALLBACK_ARN_PREFIX",
    "FALLBACK_REGION",
    "FALLBACK_STAGE",
    "MAX_RESOURCE_LENGTH",
    "PARTITIONS",
    "REGION_PATTERN",
    "SHORTHAND",
    "VERBS",
    "MethodArn",
    "check_resource",
    "method_arn",
    "parse_method_arn",
    "path_problems",
    "stage_problem",
    "verb_problem",
]

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_RESOURCE_LENGTH = 512
# The prefix of the per-API resource shorthand (see ``authz.policy.shorthand``).
SHORTHAND = "execute-api:/"

# The API a simulation or a lock-out check assumes where nobody named one (a
# direct invocation, a test, ``authz simulate`` without --account/--api-id/--stage):
# a methodArn must be concrete, so these stand in for the parts not given.
FALLBACK_REGION = "us-east-1"
FALLBACK_ACCOUNT = "000000000000"
FALLBACK_API = "local"
FALLBACK_STAGE = "local"
FALLBACK_ARN_PREFIX = (
    f"arn:aws:execute-api:{FALLBACK_REGION}:{FALLBACK_ACCOUNT}:{FALLBACK_API}/{FALLBACK_STAGE}"
)

_SHAPE = "arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}"
# An AWS region name such as ``us-east-1``; settings and the shorthand reuse it.
REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
_REGION = re.compile(REGION_PATTERN)
_REGION_CHARS = re.compile(r"[a-z0-9*?-]+")
_ACCOUNT = re.compile(r"[0-9]{12}")
_ACCOUNT_CHARS = re.compile(r"[0-9*?]+")
_API_ID = re.compile(r"[A-Za-z0-9*?]+")
# ``$default`` is the stage name HTTP APIs use.
_STAGE = re.compile(r"\$?[A-Za-z0-9_*?-]+")
_VERB_CHARS = re.compile(r"[A-Za-z*?]+")
# Lone surrogates are excluded: they cannot be encoded as UTF-8, so a document
# holding one could be validated but never stored or returned as JSON.
_PATH = re.compile(r"[^\s\x00-\x1f\x7f\ud800-\udfff]*")
_WILD = re.compile(r"[*?]")


def _region_problem(part: str) -> str | None:
    if not part:
        return "region is empty; use a region such as us-east-1, or *"
    if not _REGION_CHARS.fullmatch(part) or (
        not _WILD.search(part) and not _REGION.fullmatch(part)
    ):
        return f"region {part!r} is not a region name such as us-east-1 (lower-case), or *"
    return None


def _account_problem(part: str) -> str | None:
    if _WILD.search(part):
        if not _ACCOUNT_CHARS.fullmatch(part):
            return f"account {part!r} may hold only digits and the wildcards * and ?"
        return None
    if not _ACCOUNT.fullmatch(part):
        return f"account {part!r} must be a 12-digit AWS account id, or *"
    return None


def _api_problem(part: str) -> str | None:
    if not _API_ID.fullmatch(part):
        return f"API id {part!r} must be letters and digits (e.g. a1b2c3d4e5), or *"
    return None


def stage_problem(part: str) -> str | None:
    if not _STAGE.fullmatch(part):
        return f"stage {part!r} must be letters, digits, - and _ (or $default), or *"
    return None


def verb_problem(part: str) -> str | None:
    if part == "*" or part in VERBS:
        return None
    if part.upper() in VERBS:
        return f"HTTP method {part!r} must be upper-case: {part.upper()}"
    if part == "ANY":
        return "HTTP method ANY is not a request method; use * for every method"
    if not _VERB_CHARS.fullmatch(part) or not _WILD.search(part) or not _matches_a_verb(part):
        return f"HTTP method {part!r} must be one of {', '.join(VERBS)} or *"
    return None


def _matches_a_verb(pattern: str) -> bool:
    return any(matches(pattern, verb) for verb in VERBS)


def path_problems(part: str) -> list[str]:
    """Problems of the path part of a Resource (full ARN or shorthand)."""
    problems: list[str] = []
    if not _PATH.fullmatch(part):
        problems.append("the path may not contain spaces or control characters")
    spans, errors = scan(part)
    problems.extend(errors)
    if not errors and _template(part, spans):
        # A methodArn carries the concrete path, so a route template never
        # matches: as an Allow it grants nothing, as a Deny it protects nothing.
        problems.append(
            "route templates such as {id} or {proxy+} never match: requests carry "
            "concrete paths; write * for a path segment (e.g. /orders/* for /orders/{id})"
        )
    return problems


def _template(part: str, spans: list[tuple[int, int, str]]) -> bool:
    """Is there a ``{`` or ``}`` outside the policy variables (``${sub}``)?"""
    pos = 0
    for start, end, _ in spans:
        if "{" in part[pos:start] or "}" in part[pos:start]:
            return True
        pos = end
    return "{" in part[pos:] or "}" in part[pos:]


def check_resource(pattern: str) -> list[str]:
    """Every problem with one Resource pattern, as messages (empty when valid)."""
    if pattern == "*":
        return []
    if pattern.startswith(SHORTHAND):
        from authz.policy.shorthand import check_shorthand  # noqa: PLC0415  # it imports us

        return check_shorthand(pattern)
    if not pattern:
        return [f"empty Resource; use * or an ARN like {_SHAPE}"]
    if len(pattern) > MAX_RESOURCE_LENGTH:
        return [f"Resource is {len(pattern)} characters; the limit is {MAX_RESOURCE_LENGTH}"]
    fields = pattern.split(":", 5)
    problem = _service_problem(fields)
    if problem is not None:
        return [problem]
    parts = fields[3:5] + (fields[5].split("/", 3) if len(fields) == 6 else [])
    return _part_problems(parts)


def _service_problem(fields: list[str]) -> str | None:
    """What is wrong before the region: ``arn``, the partition and the service."""
    if fields[0] != "arn":
        return (
            f"Resource must be * or an execute-api ARN like {_SHAPE}, "
            f"or the shorthand {SHORTHAND}{{stage}}/{{VERB}}/{{path}}"
        )
    if len(fields) < 2 or fields[1] not in PARTITIONS:
        got = fields[1] if len(fields) > 1 else ""
        return f"partition {got!r} must be one of {', '.join(PARTITIONS)}"
    if len(fields) < 3 or fields[2] != "execute-api":
        got = fields[2] if len(fields) > 2 else ""
        return f"service {got!r} must be execute-api (authorizer policies govern API calls)"
    return None


# The parts of an ARN after the service, in order, and how each is checked.
_PART_NAMES = ("region", "account", "API id", "stage", "HTTP method")
_PART_CHECKS = (_region_problem, _account_problem, _api_problem, stage_problem, verb_problem)


def _part_problems(parts: list[str]) -> list[str]:
    """Problems of the region, account, API id, stage, HTTP method and path parts."""
    problems: list[str] = []
    for part, check in zip(parts[:5], _PART_CHECKS, strict=False):
        if "${" in part:
            problems.append("policy variables may appear only in the path part of the ARN")
            continue
        problem = check(part)
        if problem:
            problems.append(problem)
    if not parts:
        problems.append(f"the ARN ends after the service: continue it as {_SHAPE}")
    elif len(parts) == 6:
        problems.extend(path_problems(parts[5]))
    elif parts[-1].endswith("*"):
        pass  # a trailing * covers everything after it
    elif len(parts) == 5:
        problems.append(
            "missing path after the HTTP method: end with /GET/ for the root resource "
            "or /GET/* for every path"
        )
    else:
        problems.append(
            f"the ARN ends after the {_PART_NAMES[len(parts) - 1]}: continue it as {_SHAPE}, "
            "or end that part with * to cover the rest"
        )
    return problems


@dataclass(frozen=True, slots=True)
class MethodArn:
    """A parsed methodArn. ``path`` keeps its leading ``/``."""

    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    method: str
    path: str

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:execute-api:{self.region}:{self.account}:"
            f"{self.api_id}/{self.stage}/{self.method}{self.path}"
        )

    @property
    def request(self) -> str:
        """``GET /orders/1``: how people name a request."""
        return f"{self.method} {self.path}"


def _concrete_problems(arn: MethodArn) -> list[str]:
    partition, region, account, api_id = arn.partition, arn.region, arn.account, arn.api_id
    stage, method, path = arn.stage, arn.method, arn.path
    problems: list[str] = []
    if partition not in PARTITIONS:
        problems.append(f"partition {partition!r} must be one of {', '.join(PARTITIONS)}")
    for value, what in (
        (region, "region"),
        (account, "account"),
        (api_id, "API id"),
        (stage, "stage"),
        (method, "HTTP method"),
    ):
        if _WILD.search(value):
            problems.append(f"{what} {value!r} may not contain wildcards in a request ARN")
    if not region or not _REGION.fullmatch(region):
        problems.append(f"region {region!r} is not a region name such as us-east-1")
    for problem in (_account_problem(account), _api_problem(api_id), stage_problem(stage)):
        if problem:
            problems.append(problem)
    if method not in VERBS:
        problems.append(f"HTTP method {method!r} must be one of {', '.join(VERBS)}")
    if not _PATH.fullmatch(path):
        problems.append("the path may not contain spaces or control characters")
    return problems


def method_arn(  # noqa: PLR0917  # mirrors the ARN's own field order
    region: str,
    account: str,
    api_id: str,
    stage: str,
    method: str,
    path: str,
    *,
    partition: str = "aws",
) -> str:
    """Build the methodArn API Gateway sends for a request; ``path`` with or without ``/``."""
    path = path if path.startswith("/") else "/" + path
    arn = MethodArn(partition, region, account, api_id, stage, method, path)
    problems = _concrete_problems(arn)
    if problems:
        raise ValueError("invalid method ARN: " + "; ".join(problems))
    return str(arn)


def parse_method_arn(arn: str) -> MethodArn:
    """Split a request's methodArn; ValueError naming the problem if it is malformed."""
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "execute-api":
        raise ValueError(f"invalid method ARN {arn!r}: expected {_SHAPE}")
    rest = fields[5].split("/", 3)
    if len(rest) != 4:
        raise ValueError(f"invalid method ARN {arn!r}: expected {_SHAPE}")
    api_id, stage, method, path = rest
    parsed = MethodArn(fields[1], fields[3], fields[4], api_id, stage, method, "/" + path)
    problems = _concrete_problems(parsed)
    if problems:
        raise ValueError(f"invalid method ARN {arn!r}: " + "; ".join(problems))
    return parsed
