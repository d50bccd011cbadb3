"""The resource shorthand ``execute-api:/{stage}/{VERB}/{path}``, expanded per API.

In IAM's matching ``*`` also matches ``/``, so a full ARN such as
``arn:aws:execute-api:*:*:*/*/GET/orders/*`` also matches
``.../DELETE/GET/orders/1``: its stage ``*`` swallows a verb and a path.
The shorthand (the form API Gateway resource policies use) names the stage,
the verb and the path as separate parts, and the authorizer expands it for
the API and stage of the request it is answering: the head comes from the
methodArn, the stage is the request's own (when the pattern matches it), and
a verb pattern becomes each HTTP verb it matches. A ``*`` in those two places
thus covers exactly one segment. The path keeps IAM semantics.

Forms: ``execute-api:/*`` (everything of the calling API and stage),
``execute-api:/{stage}/*`` (every verb and path of that stage) and
``execute-api:/{stage}/{VERB}/{path}``. Standard library only: this runs on
the authorizer's cold start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from authz.policy.arn import (
    MAX_RESOURCE_LENGTH,
    PARTITIONS,
    REGION_PATTERN,
    SHORTHAND,
    VERBS,
    path_problems,
    stage_problem,
    verb_problem,
)
from authz.policy.wildcard import matches

__all__ = [
    "PREFIX",
    "ApiStage",
    "api_stage",
    "api_stage_key",
    "check_shorthand",
    "expand_resource",
    "is_shorthand",
]

PREFIX = SHORTHAND
_SHAPE = "execute-api:/{stage}/{VERB}/{path}"
_FORMS = f"{_SHAPE}, execute-api:/{{stage}}/* or execute-api:/*"

# A concrete methodArn head and stage: no wildcard may reach an expanded pattern.
_HEAD = re.compile(
    rf"arn:(?P<partition>[a-z-]+):execute-api:{REGION_PATTERN}:[0-9]{{12}}:[A-Za-z0-9]+"
)
_STAGE = re.compile(r"\$?[A-Za-z0-9_-]+")


def is_shorthand(resource: str) -> bool:
    """Is ``resource`` written in the shorthand (rather than ``*`` or a full ARN)?"""
    return resource.startswith(PREFIX)


def check_shorthand(resource: str) -> list[str]:
    """Every problem with one shorthand resource, as messages (empty when valid)."""
    if len(resource) > MAX_RESOURCE_LENGTH:
        return [f"Resource is {len(resource)} characters; the limit is {MAX_RESOURCE_LENGTH}"]
    rest = resource[len(PREFIX) :]
    if rest == "*":
        return []
    parts = rest.split("/", 2)
    if "${" in parts[0] or (len(parts) == 3 and "${" in parts[1]):
        return ["policy variables may appear only in the path part of the Resource"]
    if not parts[0]:
        return [f"the stage is missing: write {_FORMS}"]
    problem = stage_problem(parts[0])
    return ([problem] if problem else []) + _after_stage_problems(parts[1:])


def _after_stage_problems(parts: list[str]) -> list[str]:
    """Problems of what follows the stage: nothing, ``*``, or a verb and a path."""
    if not parts:
        return [
            f"the Resource ends after the stage: continue it as {_SHAPE}, "
            "or end it with /* for every verb and path of the stage"
        ]
    if len(parts) == 1:
        if parts[0] == "*":
            return []
        return [
            "missing path after the HTTP method: end with /GET/ for the root resource "
            "or /GET/* for every path"
        ]
    problem = verb_problem(parts[0])
    return ([problem] if problem else []) + path_problems(parts[1])


@dataclass(frozen=True, slots=True)
class ApiStage:
    """The API and stage a methodArn names: ``arn:...:{apiId}`` and the stage."""

    head: str
    stage: str

    def __str__(self) -> str:
        return f"{self.head}/{self.stage}"


def api_stage_key(method_arn: str) -> str:
    """``arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}`` of ``method_arn``.

    Not validated (``api_stage`` does that): it only keys caches, and costs
    two scans of the string on the per-request path. A text with fewer than
    two ``/`` keys as itself.
    """
    first = method_arn.find("/")
    second = method_arn.find("/", first + 1) if first >= 0 else -1
    return method_arn[:second] if second >= 0 else method_arn


@lru_cache(maxsize=256)
def api_stage(method_arn: str) -> ApiStage | None:
    """The API and stage of a request's methodArn (or of its key), or None when it
    names none: a head that is not a concrete execute-api ARN, a stage with a
    wildcard or a character no stage has. Only what is returned here is ever
    copied into an expanded pattern, so nothing the caller sends can widen one.
    """
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    m = _HEAD.fullmatch(head)
    if m is None or m.group("partition") not in PARTITIONS or not _STAGE.fullmatch(stage):
        return None
    return ApiStage(head, stage)


@lru_cache(maxsize=256)
def _verbs(pattern: str) -> tuple[str, ...]:
    return tuple(v for v in VERBS if matches(pattern, v))


def expand_resource(resource: str, api: ApiStage) -> tuple[str, ...]:
    """The full-ARN patterns a valid shorthand ``resource`` stands for at ``api``.

    Empty when its stage does not match ``api.stage``: it then matches no
    request of this API and stage (an Allow grants nothing there, a Deny
    refuses nothing there), so dropping it leaves every decision unchanged.
    """
    rest = resource[len(PREFIX) :]
    base = str(api)
    if rest == "*":
        return (base + "/*",)
    parts = rest.split("/", 2)
    if not matches(parts[0], api.stage):
        return ()
    if len(parts) == 2:
        return (base + "/*",)
    verb, path = parts[1], parts[2]
    return tuple(f"{base}/{v}/{path}" for v in _verbs(verb))
