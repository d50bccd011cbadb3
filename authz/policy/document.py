"""The policy document model: an immutable, validated IAM policy for execute-api.

``PolicyDocument.from_dict`` is the only way untrusted JSON becomes a
document (the checks live in ``authz.policy.parse``); it reports every
problem at once, each with its JSON path, so an operator fixes a file in one
pass. Documents built directly (by merge, compact, substitute) are trusted
and not re-validated.

Documents are hashable values. What is derived from one (its variables,
its compiled matcher) is remembered on it through :meth:`PolicyDocument.memo`,
in a slot that takes no part in equality or hashing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from authz.policy.arn import SHORTHAND
from authz.policy.variables import scan

__all__ = ["ACTIONS", "VERSION", "Effect", "PolicyDocument", "Statement"]

VERSION = "2012-10-17"
Effect = Literal["Allow", "Deny"]

# Canonical spelling by lower-case form; IAM matches actions case-insensitively.
ACTIONS = {a.lower(): a for a in ("execute-api:Invoke", "execute-api:*", "*")}
INVOKE = "execute-api:Invoke"

_NOT_YET: Any = object()

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One statement. ``actions`` are in canonical spelling; ``resources`` as written."""

    sid: str | None = None
    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid is not None:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        out["Action"] = list(self.actions)
        out["Resource"] = list(self.resources)
        return out

    @property
    def invokes(self) -> bool:
        """Does any action cover execute-api:Invoke (the only action requests need)?"""
        return any(a.lower() in ACTIONS for a in self.actions)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """An IAM policy document restricted to what an API Gateway authorizer may return.

    A document with no statements is valid as a value (it denies everything,
    e.g. a merge of nothing) but ``from_dict`` never produces one: an authored
    policy without statements is a mistake.
    """

    statements: tuple[Statement, ...]
    version: str = VERSION
    _memo: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed the first time ``key`` is asked for on this document
        and remembered with it: a document never changes, so neither does what is
        derived from it. Each ``key`` must always be used with the same ``build``."""
        found = self._memo.get(key, _NOT_YET)
        if found is _NOT_YET:
            found = self._memo[key] = build()
        return found  # type: ignore[no-any-return]  # what build() returned for this key

    @classmethod
    def from_dict(cls, obj: object) -> PolicyDocument:
        """Validate ``obj`` (parsed JSON) and build the document.

        Raises PolicyValidationError listing every problem with its JSON path.
        """
        from authz.policy.parse import parse_statements  # noqa: PLC0415  # it imports us

        return cls(parse_statements(obj), VERSION)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-able form: Statement, Action and Resource always lists."""
        return {"Version": self.version, "Statement": [s.to_dict() for s in self.statements]}

    @property
    def variables(self) -> frozenset[str]:
        """Names of the policy variables used (``sub``, ``claim:tenant``, ...).

        Callers key caches on the claims named here only.
        """
        return self.memo(
            "variables",
            lambda: frozenset(
                name
                for s in self.statements
                for r in s.resources
                if "${" in r
                for _, _, name in scan(r)[0]
            ),
        )

    @property
    def shorthand(self) -> bool:
        """Does any resource use ``execute-api:/...``? Such a document decides
        per API and stage (``authz.policy.expand``), so callers key caches on those."""
        return self.memo(
            "shorthand",
            lambda: any(r.startswith(SHORTHAND) for s in self.statements for r in s.resources),
        )
