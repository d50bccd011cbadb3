"""Why a request is allowed or denied: every matching statement, by selector.

Works on the documents as stored (before merge and compaction) so Sids and
selectors survive; the decision is the same one ``evaluate`` gives for the
union of those documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authz.policy.arn import parse_method_arn
from authz.policy.decision import IMPLICIT_DENY, Decision, Match
from authz.policy.document import PolicyDocument
from authz.policy.evaluate import compile_policy

__all__ = ["ExplainedMatch", "Explanation", "explain"]


@dataclass(frozen=True, slots=True)
class ExplainedMatch:
    """A matching statement; ``deciding`` when it is of the effect that decided."""

    match: Match
    deciding: bool

    @property
    def selector(self) -> str | None:
        return self.match.label

    @property
    def sid(self) -> str | None:
        return self.match.sid

    @property
    def effect(self) -> str:
        return self.match.effect

    @property
    def pattern(self) -> str:
        return self.match.pattern

    def to_dict(self) -> dict[str, Any]:
        return {**self.match.to_dict(), "deciding": self.deciding}


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision and every statement that matched, deciding ones flagged."""

    method_arn: str
    decision: Decision
    matches: tuple[ExplainedMatch, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "methodArn": self.method_arn,
            "allowed": self.decision.allowed,
            "effect": self.decision.effect,
            "matches": [m.to_dict() for m in self.matches],
        }

    def __str__(self) -> str:
        try:
            request = parse_method_arn(self.method_arn).request
        except ValueError:
            request = self.method_arn
        effect = self.decision.effect
        head = "ALLOW" if self.decision.allowed else "DENY "
        if effect == "ImplicitDeny":
            lines = [f"{head} {request} — no statement allows it (implicit deny)"]
        else:
            deciders = [m.match for m in self.matches if m.deciding]
            first = deciders[0]
            kind = "explicit Deny" if effect == "Deny" else "Allow"
            lines = [f"{head} {request} — {kind} by {_describe(first)}"]
            lines += [f"      also {_describe(m)}" for m in deciders[1:]]
        lines += [
            f"      overridden: {m.match.effect} by {_describe(m.match)}"
            for m in self.matches
            if not m.deciding
        ]
        return "\n".join(lines)


def _describe(m: Match) -> str:
    who = m.label if m.label is not None else f"document[{m.document}]"
    sid = f" Sid={m.sid}" if m.sid else f" Statement[{m.statement}]"
    return f"{who}{sid} pattern {m.pattern}"


def explain(
    labelled: Sequence[tuple[str, PolicyDocument]] | Mapping[str, PolicyDocument],
    method_arn: str,
) -> Explanation:
    """Decision for ``method_arn`` under the union of the documents, with every match.

    ``labelled`` pairs a selector string (``group:admins``) with its document.
    """
    pairs = list(labelled.items()) if isinstance(labelled, Mapping) else list(labelled)
    deny: list[Match] = []
    allow: list[Match] = []
    for i, (label, doc) in enumerate(pairs):
        d, a = compile_policy(doc).matches(method_arn)
        deny += [Match(m.effect, m.pattern, m.sid, m.statement, i, label) for m in d]
        allow += [Match(m.effect, m.pattern, m.sid, m.statement, i, label) for m in a]
    if deny:
        decision = Decision(False, "Deny", tuple(deny))
    elif allow:
        decision = Decision(True, "Allow", tuple(allow))
    else:
        decision = IMPLICIT_DENY
    explained = tuple(ExplainedMatch(m, True) for m in deny) + tuple(
        ExplainedMatch(m, not deny) for m in allow
    )
    return Explanation(method_arn, decision, explained)
