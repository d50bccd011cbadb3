"""The access matrix: subjects x routes -> cells.

Subjects: ``default`` alone, each ``group:<name>`` together with ``default``,
each ``scope:<name>`` together with ``default``, then any combined principal
(``"group:a,group:b,scope:x"``, also with ``default``), in that order.

``Matrix.to_dict()`` is ``{"routes": [...], "subjects": [...], "cells":
{subject: {route: value}}}``. With ``explain=True`` each cell is instead
``{"value": value, "statements": [{"policy", "statement", "sid", "effect"}]}``
listing the statements whose resources match some or all of the route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from authz.matrix.analyzer import Analyzer
from authz.matrix.cells import Cell, Value
from authz.matrix.routes import Route
from authz.matrix.samples import SampleApi
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector

__all__ = [
    "Matrix",
    "Subject",
    "build_matrix",
    "parse_principal",
    "subjects_for",
    "with_principals",
]

_DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Subject:
    """A row: its name and the selectors whose policies apply, ``default`` first."""

    name: str
    selectors: tuple[str, ...]


def parse_principal(text: str) -> Subject:
    """``"group:a,group:b,scope:x"`` -> a subject with those selectors and ``default``.

    Raises SelectorError (from ``Selector.parse``) for a malformed part.
    """
    parts = [Selector.parse(p.strip()) for p in text.split(",") if p.strip()]
    names = [str(p) for p in parts if str(p) != _DEFAULT]
    return Subject(",".join(names) or _DEFAULT, (_DEFAULT, *dict.fromkeys(names)))


def subjects_for(selectors: Iterable[str], principals: Iterable[str] = ()) -> list[Subject]:
    """The rows for policies stored under ``selectors`` plus combined ``principals``."""
    found = {str(Selector.parse(s)) for s in selectors} - {_DEFAULT}
    ordered = sorted(found, key=lambda s: (not s.startswith("group:"), s))
    rows = [Subject(_DEFAULT, (_DEFAULT,))]
    rows.extend(Subject(s, (_DEFAULT, s)) for s in ordered)
    return with_principals(rows, principals)


def with_principals(rows: Iterable[Subject], principals: Iterable[str]) -> list[Subject]:
    """``rows``, then a row per combined principal not already there.

    The same principal written twice (or in another order) is one row.
    Raises SelectorError for a malformed principal.
    """
    out = list(rows)
    seen = {frozenset(s.selectors) for s in out}
    for text in principals:
        subject = parse_principal(text)
        if frozenset(subject.selectors) not in seen:
            seen.add(frozenset(subject.selectors))
            out.append(subject)
    return out


@dataclass(frozen=True, slots=True)
class Matrix:
    routes: tuple[Route, ...]
    subjects: tuple[str, ...]
    cells: Mapping[str, Mapping[Route, Cell]]

    def value(self, subject: str, route: Route) -> Value:
        return self.cells[subject][route].value

    def to_dict(self, explain: bool = False) -> dict[str, object]:
        """The JSON shape of ``authz matrix --json`` (see the module docstring)."""
        cells: dict[str, dict[str, object]] = {}
        for subject in self.subjects:
            row: dict[str, object] = {}
            for route in self.routes:
                cell = self.cells[subject][route]
                row[str(route)] = (
                    {"value": cell.value, "statements": [s.to_dict() for s in cell.statements]}
                    if explain
                    else cell.value
                )
            cells[subject] = row
        return {
            "routes": [str(r) for r in self.routes],
            "subjects": list(self.subjects),
            "cells": cells,
        }


def build_matrix(
    policies: Mapping[str, PolicyDocument],
    routes: Sequence[Route],
    *,
    principals: Iterable[str] = (),
    subjects: Sequence[Subject] | None = None,
    api: SampleApi | None = None,
    analyzer: Analyzer | None = None,
) -> Matrix:
    """The matrix of ``policies`` (by selector: ``default``, ``group:x``...) over ``routes``.

    ``subjects`` defaults to ``subjects_for(policies, principals)``; a selector
    without a policy contributes nothing (as in the authorizer). Pass one
    ``analyzer`` (built for these routes) to several calls to share its work.
    """
    ordered = tuple(dict.fromkeys(routes))
    if analyzer is None:
        analyzer = Analyzer(ordered, api)
    elif not set(ordered) <= set(analyzer.routes):
        raise ValueError("the analyzer was built for other routes")
    rows = list(subjects) if subjects is not None else subjects_for(policies, principals)
    cells: dict[str, dict[Route, Cell]] = {}
    for subject in rows:
        named = [(s, policies[s]) for s in subject.selectors if s in policies]
        entries = analyzer.entries(named)
        row = analyzer.cells(entries)
        cells[subject.name] = {r: row[r] for r in ordered}
    return Matrix(ordered, tuple(s.name for s in rows), cells)
