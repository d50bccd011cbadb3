"""``authz policies sync``: the plan (files vs table) and its application. No click here.

The plan remembers the version of every item it read, and applying it writes
with exactly that ``expected_version`` (or create-only for additions): an
edit that lands between plan and apply makes that item fail with a conflict
instead of being silently overwritten. ``plan_impact`` tells, for each
write, which access-matrix cells it changes, so a widening is seen before it
is applied.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from authz.errors import ConflictError, ItemTooLargeError, NotFoundError, StoreError
from authz.matrix import Change as CellChange
from authz.matrix import Route, impact
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store.files import PolicyFile, document_json, token_json
from authz.store.types import (
    ForcedWrites,
    PolicyRecord,
    PolicyRepository,
    WriteResult,
    forced_writer,
)

__all__ = ["Change", "Plan", "PlanOutcome", "apply_plan", "compute_plan", "plan_impact"]

Action = Literal["add", "change", "remove", "keep"]


@dataclass(frozen=True, slots=True)
class Change:
    """One selector the plan would touch (``keep``: only in the table, not pruned)."""

    action: Action
    selector: Selector
    current: PolicyRecord | None
    desired: PolicyFile | None

    def diff(self) -> str:
        """Unified diff of the canonical JSON (document, then token settings)."""
        old_doc = document_json(self.current.document.to_dict()) if self.current else ""
        new_doc = document_json(self.desired.document.to_dict()) if self.desired else ""
        old_name = (
            f"{self.selector} (table, version {self.current.version})"
            if self.current
            else "/dev/null"
        )
        new_name = str(self.desired.file) if self.desired else "/dev/null"
        parts = [_unified(old_doc, new_doc, old_name, new_name)]
        old_token = _token(self.current.token if self.current else None)
        new_token = _token(self.desired.token if self.desired else None)
        if old_token != new_token:
            parts.append(
                _unified(
                    token_json(old_token) if old_token else "",
                    token_json(new_token) if new_token else "",
                    f"{self.selector} token settings (table)" if old_token else "/dev/null",
                    str(self.desired.token_file)
                    if self.desired and self.desired.token_file and new_token
                    else "/dev/null",
                )
            )
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    unchanged: int

    def of(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def writes(self) -> list[Change]:
        """What applying would do, in order: removals last so a failed run never loses more."""
        return self.of("add") + self.of("change") + self.of("remove")

    @property
    def empty(self) -> bool:
        return not self.writes


def _token(token: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # No scopes and no claims means the same as no settings at all.
    if not token or not any(token.values()):
        return None
    return dict(token)


def _unified(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _same(record: PolicyRecord, file: PolicyFile) -> bool:
    return record.document.to_dict() == file.document.to_dict() and _token(record.token) == _token(
        file.token
    )


def compute_plan(
    files: Mapping[Selector, PolicyFile], records: Iterable[PolicyRecord], *, prune: bool
) -> Plan:
    """What it takes to make the table hold exactly ``files`` (minus removals unless ``prune``)."""
    current = {r.selector: r for r in records}
    changes: list[Change] = []
    unchanged = 0
    for selector in sorted(set(files) | set(current)):
        record, file = current.get(selector), files.get(selector)
        if record is None and file is not None:
            changes.append(Change("add", selector, None, file))
        elif record is not None and file is None:
            changes.append(Change("remove" if prune else "keep", selector, record, None))
        elif record is not None and file is not None:
            if _same(record, file):
                unchanged += 1
            else:
                changes.append(Change("change", selector, record, file))
    return Plan(tuple(changes), unchanged)


def plan_impact(
    plan: Plan, records: Iterable[PolicyRecord], routes: Sequence[Route]
) -> dict[Selector, list[CellChange]]:
    """For each write of ``plan``, the matrix cells it changes, in the order of applying.

    Each write is judged against the table with the writes before it applied,
    so every changed policy answers for its own lines and together the lines
    are every cell the whole plan changes: a widening that only two writes
    make together (a Deny dropped from ``default`` and from a group) is shown
    under the write that completes it.
    """
    state = {str(r.selector): r.document for r in records}
    out: dict[Selector, list[CellChange]] = {}
    for change in plan.writes:
        after = _applied(state, change)
        out[change.selector] = impact(state, after, routes)
        state = after
    return out


def _applied(before: Mapping[str, PolicyDocument], change: Change) -> dict[str, PolicyDocument]:
    after = dict(before)
    if change.desired is None:
        after.pop(str(change.selector), None)
    else:
        after[str(change.selector)] = change.desired.document
    return after


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    change: Change
    error: str | None  # None: written

    @property
    def ok(self) -> bool:
        return self.error is None


def apply_plan(
    plan: Plan,
    repository: PolicyRepository,
    *,
    actor: str,
    on_done: Callable[[PlanOutcome], None] = lambda _: None,
    forced: frozenset[Selector] = frozenset(),
) -> list[PlanOutcome]:
    """Write every change of ``plan``; a conflicting item fails alone, the rest still apply.

    ``StoreUnavailableError`` (and any other store failure than the per-item
    ones below) stops the run: the remaining items are not attempted. Writes
    to the ``forced`` selectors are recorded as forced past the lock-out
    guard; a store that cannot record that refuses the whole run up front.
    """
    writer = forced_writer(repository) if forced else None
    if forced and writer is None:
        raise StoreError("this store cannot record a forced write; nothing was written")
    outcomes: list[PlanOutcome] = []
    for change in plan.writes:
        error: str | None = None
        try:
            _write(change, repository, actor, writer if change.selector in forced else None)
        except ConflictError as exc:
            error = f"conflict: {_conflict_message(change, exc)}"
        except NotFoundError:
            error = "conflict: deleted by someone else since the plan was read; run sync again"
        except ItemTooLargeError as exc:
            error = f"too large: {exc}"
        outcome = PlanOutcome(change, error)
        outcomes.append(outcome)
        on_done(outcome)
    return outcomes


def _write(
    change: Change, repository: PolicyRepository, actor: str, forced: ForcedWrites | None
) -> None:
    desired, current = change.desired, change.current
    put: Callable[..., WriteResult] = repository.put
    delete: Callable[..., WriteResult] = repository.delete
    if forced is not None:
        put, delete = partial(forced.put, forced=True), partial(forced.delete, forced=True)
    if change.action == "add" and desired is not None:
        put(
            change.selector,
            desired.document,
            actor=actor,
            create_only=True,
            token=_token(desired.token),
        )
    elif change.action == "change" and desired is not None and current is not None:
        put(
            change.selector,
            desired.document,
            actor=actor,
            # Files carry no description; keep the one set through the admin API.
            description=current.description,
            expected_version=current.version,
            token=_token(desired.token),
        )
    elif change.action == "remove" and current is not None:
        delete(change.selector, actor=actor, expected_version=current.version)


def _conflict_message(change: Change, exc: ConflictError) -> str:
    if change.action == "add":
        return "created by someone else since the plan was read; run sync again"
    seen = change.current.version if change.current else None
    now = f" (now version {exc.actual})" if exc.actual is not None else ""
    return f"changed by someone else since the plan read version {seen}{now}; run sync again"
