"""Concrete samples of route templates, and the methodArn a sample is requested as.

A template's ``{name}`` stands for one path segment and ``{name+}`` for one
or more segments. The matrix itself decides from the templates (``cells``);
samples are what ``evaluate`` is shown, by the tests and by people checking
a cell by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from authz.matrix.routes import Route
from authz.policy.arn import method_arn
from authz.policy.shorthand import ApiStage, api_stage

__all__ = ["SampleApi", "Token", "sample_arns", "sample_path", "template_tokens"]

_PARAM = re.compile(r"\{([^{}]*)\}")

Token = str | int
"""A template token: a literal text, or ``SEGMENT`` / ``SEGMENTS``."""
SEGMENT = 1
SEGMENTS = 2


@dataclass(frozen=True, slots=True)
class SampleApi:
    """The API and stage a matrix is drawn for; shorthand resources expand for it."""

    region: str = "us-east-1"
    account: str = "123456789012"
    api_id: str = "a1b2c3d4e5"
    stage: str = "prod"

    def arn(self, verb: str, path: str) -> str:
        return method_arn(self.region, self.account, self.api_id, self.stage, verb, path)

    @property
    def api_stage(self) -> ApiStage:
        found = api_stage(self.arn("GET", "/"))
        if found is None:  # pragma: no cover - method_arn validated every part
            raise ValueError(f"no API and stage in {self}")
        return found

    @property
    def prefix(self) -> str:
        """The methodArn up to and including the ``/`` after the stage."""
        return self.arn("GET", "/")[: -len("GET/")]


def template_tokens(path: str) -> tuple[Token, ...]:
    """``/orders/{id}/items/{rest+}`` -> ``("/orders/", SEGMENT, "/items/", SEGMENTS)``."""
    out: list[Token] = []
    pos = 0
    for m in _PARAM.finditer(path):
        if m.start() > pos:
            out.append(path[pos : m.start()])
        out.append(SEGMENTS if m.group(1).endswith("+") else SEGMENT)
        pos = m.end()
    if pos < len(path):
        out.append(path[pos:])
    return tuple(out)


def sample_path(path: str, fillers: Sequence[str] = ()) -> str:
    """A concrete path of the template: ``{id}`` -> ``id1``, ``{proxy+}`` -> ``proxy1/proxy2``.

    ``fillers`` replace the parameters in order instead (a ``{name+}`` filler may
    hold ``/``); the tests draw them at random.
    """
    it = iter(fillers)

    def fill(m: re.Match[str]) -> str:
        given = next(it, None)
        if given is not None:
            return given
        name = m.group(1).rstrip("+") or "x"
        return f"{name}1/{name}2" if m.group(1).endswith("+") else f"{name}1"

    return _PARAM.sub(fill, path)


def sample_arns(route: Route, api: SampleApi, fillers: Sequence[str] = ()) -> tuple[str, ...]:
    """The methodArns of one sample of ``route``: one per verb (ANY has all of them)."""
    path = sample_path(route.path, fillers)
    return tuple(api.arn(verb, path) for verb in route.verbs)
