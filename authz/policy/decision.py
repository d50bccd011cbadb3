"""What a policy decides for one request, and which statements decided it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from authz.policy.document import Effect

__all__ = ["IMPLICIT_DENY", "Decision", "DecisionEffect", "Match"]

DecisionEffect = Literal["Allow", "Deny", "ImplicitDeny"]


@dataclass(frozen=True, slots=True)
class Match:
    """A statement whose Resource pattern matched the request."""

    effect: Effect
    pattern: str
    sid: str | None
    statement: int
    """Index of the statement in its document."""
    document: int | None = None
    """Index of the document in the list evaluated, when a list was evaluated."""
    label: str | None = None
    """Selector of the document (``group:admins``), when known."""

    def to_dict(self) -> dict[str, object]:
        return {
            "selector": self.label,
            "document": self.document,
            "statement": self.statement,
            "sid": self.sid,
            "effect": self.effect,
            "pattern": self.pattern,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request and the statements that decided it."""

    allowed: bool
    effect: DecisionEffect
    statements: tuple[Match, ...] = ()


IMPLICIT_DENY = Decision(False, "ImplicitDeny", ())
