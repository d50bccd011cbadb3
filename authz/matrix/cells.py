"""One cell of the matrix: what a subject's policies answer for one route.

Values, for every principal of the subject and every request of the route:

- ``allow``: always allowed;
- ``explicit-deny``: always refused by a Deny statement;
- ``deny``: never allowed (no Allow applies, or only a Deny that applies to
  some requests and no Allow at all);
- ``conditional``: allowed for some principals or requests and not others.

Each side (the Deny statements, the Allow statements) covers the route ALL,
SOME or NONE (``authz.matrix.language``). The cell is then, Deny first as in
IAM: Deny ALL -> explicit-deny; else Allow NONE -> deny; else Deny SOME ->
conditional; else Allow ALL -> allow, Allow SOME -> conditional. A side covers
ALL when one of its patterns does, when for an ANY route each verb is
covered by one of them, or when the union of its patterns without variables
does. The three settled values are exact. ``conditional`` errs on the safe
side: it can stand where every request is in fact refused (an Allow hidden
behind a Deny of the same values), or where a union was too large to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from authz.matrix.language import Coverage
from authz.policy.document import Effect

__all__ = ["NOTHING", "VALUES", "Cell", "Entry", "StatementRef", "Value", "value_of"]

Value = Literal["allow", "deny", "explicit-deny", "conditional"]
VALUES: tuple[Value, ...] = ("allow", "conditional", "deny", "explicit-deny")


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A statement of a named policy: ``policy`` is its selector (``group:readers``)."""

    policy: str
    statement: int
    sid: str | None
    effect: Effect

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "statement": self.statement,
            "sid": self.sid,
            "effect": self.effect,
        }

    def __str__(self) -> str:
        return f"{self.policy} {self.sid or f'Statement[{self.statement}]'} ({self.effect})"


@dataclass(frozen=True, slots=True)
class Cell:
    value: Value
    statements: tuple[StatementRef, ...] = ()
    """Statements whose resources match some or all requests of the route."""
    matched: frozenset[tuple[Effect, str]] = frozenset()
    """(effect, pattern) of every expanded resource that matches some request of the
    route. Two cells with equal ``matched`` decide every request of the route, for
    every principal, alike: no other pattern can match any of them."""


NOTHING = Cell("deny")
"""The cell of a route no statement matches."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource pattern of one statement, expanded for the sample API."""

    pattern: str
    ref: StatementRef


def value_of(deny: Coverage, allow: Coverage) -> Value:
    """The cell value for how much of a route the Deny and the Allow side cover."""
    if deny is Coverage.ALL:
        return "explicit-deny"
    if allow is Coverage.NONE:
        return "deny"
    if deny is Coverage.SOME or allow is Coverage.SOME:
        return "conditional"
    return "allow"
