"""What a policy change does to the matrix: the cells whose value changes.

Both sides are drawn over the same subjects (the union of both sets of
selectors, so a new group's row compares against ``default`` alone, which is
what its members had before) and the same routes. Widenings, changes towards
access, come first; within each kind the matrix order is kept.

A cell that stays ``conditional`` is listed (``conditional -> conditional``)
when the patterns matching its route changed, since which principals or
requests get through may then have changed. So an empty list means that no
request of any route is allowed or refused differently, for any principal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from authz.matrix.analyzer import Analyzer
from authz.matrix.cells import Cell, Value
from authz.matrix.grid import build_matrix, subjects_for
from authz.matrix.routes import Route
from authz.matrix.samples import SampleApi
from authz.policy.document import PolicyDocument

__all__ = ["RANK", "Change", "impact"]

# From no access to full access; a change to a higher rank widens access.
RANK: dict[Value, int] = {"explicit-deny": 0, "deny": 1, "conditional": 2, "allow": 3}


@dataclass(frozen=True, slots=True)
class Change:
    subject: str
    route: Route
    before: Value
    after: Value

    @property
    def widening(self) -> bool:
        return RANK[self.after] > RANK[self.before]

    def to_dict(self) -> dict[str, str]:
        return {
            "subject": self.subject,
            "route": str(self.route),
            "before": self.before,
            "after": self.after,
        }


def impact(
    before: Mapping[str, PolicyDocument],
    after: Mapping[str, PolicyDocument],
    routes: Sequence[Route],
    *,
    principals: Iterable[str] = (),
    api: SampleApi | None = None,
) -> list[Change]:
    """Every cell that differs between the matrices of ``before`` and ``after``."""
    principals = list(principals)
    subjects = subjects_for({*before, *after}, principals)
    analyzer = Analyzer(routes, api)
    old = build_matrix(before, routes, subjects=subjects, analyzer=analyzer)
    new = build_matrix(after, routes, subjects=subjects, analyzer=analyzer)
    changes = [
        Change(s, r, old.value(s, r), new.value(s, r))
        for s in old.subjects
        for r in old.routes
        if _changed(old.cells[s][r], new.cells[s][r])
    ]
    return sorted(changes, key=lambda c: not c.widening)


def _changed(before: Cell, after: Cell) -> bool:
    if before.value != after.value:
        return True
    return before.value == "conditional" and before.matched != after.matched
