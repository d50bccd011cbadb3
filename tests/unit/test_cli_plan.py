"""The sync plan: files vs stored records, its diff, and applying it with expected versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from authz.cli.plan import apply_plan, compute_plan, plan_impact
from authz.errors import AlreadyExistsError, ConflictError, NotFoundError, StoreError
from authz.matrix import routes_from_strings
from authz.policy import PolicyDocument
from authz.policy.selector import DEFAULT, Selector
from authz.store.files import PolicyFile
from authz.store.types import Page, PolicyRecord, WriteResult


def _doc(path: str) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:*:*:*/*/GET/{path}",
                }
            ],
        }
    )


def _record(selector: Selector, doc: PolicyDocument, version: int = 1, **kw: Any) -> PolicyRecord:
    return PolicyRecord(
        selector,
        doc,
        kw.get("description", ""),
        version,
        datetime(2024, 1, 1, tzinfo=UTC),
        "test",
        kw.get("token"),
    )


def _file(
    selector: Selector, doc: PolicyDocument, token: Mapping[str, Any] | None = None
) -> PolicyFile:
    return PolicyFile(
        selector,
        Path(f"policies/{selector.kind}/{selector.name}.json"),
        doc,
        token,
        Path("t.token.json") if token else None,
    )


ADMINS, READERS, OLD = (
    Selector("group", "admins"),
    Selector("group", "readers"),
    Selector("scope", "old"),
)


class _Repo:
    """Records calls; raises what a test scripts for a selector."""

    def __init__(self, fail: Mapping[Selector, Exception] | None = None) -> None:
        self.calls: list[tuple[str, Selector, dict[str, Any]]] = []
        self.fail = dict(fail or {})

    def _do(self, op: str, selector: Selector, kw: dict[str, Any]) -> WriteResult:
        self.calls.append((op, selector, kw))
        if selector in self.fail:
            raise self.fail[selector]
        return WriteResult(None, "delete" if op == "delete" else "update", len(self.calls))

    def put(self, selector: Selector, document: PolicyDocument, **kw: Any) -> WriteResult:
        return self._do("put", selector, kw)

    def delete(self, selector: Selector, **kw: Any) -> WriteResult:
        return self._do("delete", selector, kw)

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        raise NotImplementedError

    def get(self, selector: Selector) -> PolicyRecord:
        raise NotImplementedError

    def list(self, **kw: Any) -> Page[PolicyRecord]:
        raise NotImplementedError

    def history(self, selector: Selector, **kw: Any) -> Any:
        raise NotImplementedError

    def epoch(self) -> int:
        raise NotImplementedError


def test_plan_classifies_every_selector() -> None:
    """Files only -> add, differing -> change, equal -> unchanged, table only -> keep or remove."""
    files = {
        DEFAULT: _file(DEFAULT, _doc("a")),
        ADMINS: _file(ADMINS, _doc("new")),
        READERS: _file(READERS, _doc("r")),
    }
    records = [
        _record(ADMINS, _doc("old"), 3),
        _record(READERS, _doc("r")),
        _record(OLD, _doc("o")),
    ]
    kept = compute_plan(files, records, prune=False)
    assert [(c.action, c.selector) for c in kept.changes] == [
        ("add", DEFAULT),
        ("change", ADMINS),
        ("keep", OLD),
    ]
    assert kept.unchanged == 1
    assert [c.selector for c in kept.writes] == [DEFAULT, ADMINS]
    pruned = compute_plan(files, records, prune=True)
    assert [c.selector for c in pruned.writes] == [DEFAULT, ADMINS, OLD]
    assert compute_plan({READERS: files[READERS]}, records[1:2], prune=True).empty


def test_change_diff_is_unified_canonical_json() -> None:
    """A change's diff names the table version and the file and shows removed and added lines."""
    change = compute_plan(
        {ADMINS: _file(ADMINS, _doc("new"))}, [_record(ADMINS, _doc("old"), 7)], prune=False
    ).changes[0]
    diff = change.diff()
    assert "--- group:admins (table, version 7)" in diff
    assert "+++ policies/group/admins.json" in diff
    assert '-        "arn:aws:execute-api:*:*:*/*/GET/old"' in diff
    assert '+        "arn:aws:execute-api:*:*:*/*/GET/new"' in diff


def test_token_settings_count_as_a_change() -> None:
    """Different token settings alone make a change; empty settings equal none."""
    doc = _doc("x")
    token = {"scopes": ["orders/read"]}
    changed = compute_plan({ADMINS: _file(ADMINS, doc, token)}, [_record(ADMINS, doc)], prune=False)
    assert [c.action for c in changed.changes] == ["change"]
    assert '+  "scopes": [' in changed.changes[0].diff()
    same = compute_plan(
        {ADMINS: _file(ADMINS, doc, None)},
        [_record(ADMINS, doc, token={"scopes": [], "claims": {}})],
        prune=False,
    )
    assert same.empty


def test_apply_uses_the_versions_the_plan_read() -> None:
    """Adds are create-only, changes and removals carry the plan's version; description is kept."""
    files = {DEFAULT: _file(DEFAULT, _doc("a")), ADMINS: _file(ADMINS, _doc("new"))}
    records = [_record(ADMINS, _doc("old"), 3, description="kept"), _record(OLD, _doc("o"), 5)]
    repo = _Repo()
    outcomes = apply_plan(compute_plan(files, records, prune=True), repo, actor="cli:me")
    assert all(o.ok for o in outcomes)
    assert [(op, sel) for op, sel, _ in repo.calls] == [
        ("put", DEFAULT),
        ("put", ADMINS),
        ("delete", OLD),
    ]
    assert repo.calls[0][2]["create_only"] is True
    assert repo.calls[1][2]["expected_version"] == 3
    assert repo.calls[1][2]["description"] == "kept"
    assert repo.calls[2][2] == {"actor": "cli:me", "expected_version": 5}


def test_conflicts_fail_their_item_only() -> None:
    """A concurrent edit makes that item a conflict while the others still apply."""
    files = {DEFAULT: _file(DEFAULT, _doc("a")), ADMINS: _file(ADMINS, _doc("new"))}
    records = [_record(ADMINS, _doc("old"), 3), _record(OLD, _doc("o"), 5)]
    repo = _Repo(
        {
            DEFAULT: AlreadyExistsError("exists"),
            ADMINS: ConflictError("mismatch", expected=3, actual=4),
            OLD: NotFoundError("gone"),
        }
    )
    outcomes = apply_plan(compute_plan(files, records, prune=True), repo, actor="cli:me")
    assert [o.ok for o in outcomes] == [False, False, False]
    assert all(o.error and o.error.startswith("conflict:") for o in outcomes)
    assert "read version 3 (now version 4)" in (outcomes[1].error or "")
    assert len(repo.calls) == 3


class _ForcingRepo(_Repo):
    records_forced_writes = True


def test_forced_apply_marks_only_the_guarded_writes_as_forced() -> None:
    files = {DEFAULT: _file(DEFAULT, _doc("a")), READERS: _file(READERS, _doc("r"))}
    repo = _ForcingRepo()
    plan = compute_plan(files, [_record(ADMINS, _doc("x"))], prune=True)
    outcomes = apply_plan(plan, repo, actor="t", forced=frozenset({DEFAULT, ADMINS}))
    assert all(o.ok for o in outcomes)
    forced = {(op, s): kw.get("forced", False) for op, s, kw in repo.calls}
    assert forced == {("put", DEFAULT): True, ("put", READERS): False, ("delete", ADMINS): True}


def test_forced_apply_on_a_store_that_cannot_record_it_writes_nothing() -> None:
    repo = _Repo()
    plan = compute_plan({DEFAULT: _file(DEFAULT, _doc("a"))}, [], prune=False)
    with pytest.raises(StoreError, match="cannot record a forced write"):
        apply_plan(plan, repo, actor="t", forced=frozenset({DEFAULT}))
    assert repo.calls == []


ROUTES = routes_from_strings(
    ["GET /orders", "POST /orders", "GET /orders/{id}", "DELETE /orders/{id}", "GET /users/{id}"]
)
WRITERS, AUDITORS = Selector("group", "writers"), Selector("group", "auditors")


def _grants(*requests: str, effect: str = "Allow") -> PolicyDocument:
    """A document with one statement over ``"VERB /path"`` requests (shorthand resources)."""
    resources = [f"execute-api:/*/{r.replace(' /', '/', 1)}" for r in requests]
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resources}
            ],
        }
    )


def _cells(changes: Sequence[Any]) -> list[tuple[str, str, str, str]]:
    return [(c.subject, str(c.route), c.before, c.after) for c in changes]


def test_impact_names_each_writes_own_cells_against_the_table() -> None:
    """Two changes in one plan: each lists only what it alone does to the table's matrix."""
    records = [
        _record(READERS, _grants("GET /orders", "GET /orders/*")),
        _record(WRITERS, _grants("POST /orders", "DELETE /orders/*")),
    ]
    files = {
        READERS: _file(READERS, _grants("GET /orders", "GET /orders/*", "DELETE /orders/*")),
        WRITERS: _file(WRITERS, _grants("DELETE /orders/*")),
    }
    impacts = plan_impact(compute_plan(files, records, prune=False), records, ROUTES)
    assert _cells(impacts[READERS]) == [("group:readers", "DELETE /orders/{id}", "deny", "allow")]
    assert impacts[READERS][0].widening
    assert _cells(impacts[WRITERS]) == [("group:writers", "POST /orders", "allow", "deny")]
    assert not impacts[WRITERS][0].widening


def test_impact_shows_a_widening_that_two_writes_make_only_together() -> None:
    """Judged each alone, neither write changes the readers' DELETE cell; the plan does."""
    records = [
        _record(DEFAULT, _grants("DELETE /orders/*", effect="Deny")),
        _record(READERS, _grants("DELETE /orders/*")),
        _record(WRITERS, _grants("DELETE /orders/*", effect="Deny")),
    ]
    files = {
        DEFAULT: _file(DEFAULT, _grants("GET /orders")),
        READERS: _file(READERS, _grants("DELETE /orders/*")),
        WRITERS: _file(WRITERS, _grants("DELETE /orders/*")),
    }
    impacts = plan_impact(compute_plan(files, records, prune=False), records, ROUTES)
    every = [cell for changes in impacts.values() for cell in _cells(changes)]
    assert ("group:readers", "DELETE /orders/{id}", "explicit-deny", "allow") in every
    assert ("group:writers", "DELETE /orders/{id}", "explicit-deny", "allow") in every


def test_impact_lists_widenings_before_narrowings_within_one_write() -> None:
    records = [_record(READERS, _grants("GET /orders"))]
    files = {READERS: _file(READERS, _grants("POST /orders"))}
    changes = plan_impact(compute_plan(files, records, prune=False), records, ROUTES)[READERS]
    assert _cells(changes) == [
        ("group:readers", "POST /orders", "deny", "allow"),
        ("group:readers", "GET /orders", "allow", "deny"),
    ]


def test_impact_of_an_added_group_compares_with_default_alone() -> None:
    """A new group's members had only the default policy before: its row starts from there."""
    records = [_record(DEFAULT, _grants("GET /orders"))]
    files = {
        DEFAULT: _file(DEFAULT, _grants("GET /orders")),
        AUDITORS: _file(AUDITORS, _grants("GET /orders/*", "GET /users/${sub}")),
    }
    impacts = plan_impact(compute_plan(files, records, prune=False), records, ROUTES)
    assert set(impacts) == {AUDITORS}
    assert _cells(impacts[AUDITORS]) == [
        ("group:auditors", "GET /orders/{id}", "deny", "allow"),
        ("group:auditors", "GET /users/{id}", "deny", "conditional"),
    ]


def test_impact_of_a_pruned_policy_and_a_new_deny_narrow_access() -> None:
    records = [
        _record(DEFAULT, _grants("GET /orders")),
        _record(READERS, _grants("GET /orders/*")),
        _record(OLD, _grants("POST /orders")),
    ]
    files = {
        DEFAULT: _file(DEFAULT, _grants("GET /orders")),
        READERS: _file(READERS, _grants("GET /orders*", effect="Deny")),
    }
    impacts = plan_impact(compute_plan(files, records, prune=True), records, ROUTES)
    assert _cells(impacts[OLD]) == [("scope:old", "POST /orders", "allow", "deny")]
    assert _cells(impacts[READERS]) == [
        ("group:readers", "GET /orders", "allow", "explicit-deny"),
        ("group:readers", "GET /orders/{id}", "allow", "explicit-deny"),
    ]


def test_a_change_of_token_settings_alone_changes_no_cell() -> None:
    doc = _grants("GET /orders")
    records = [_record(READERS, doc)]
    files = {READERS: _file(READERS, doc, {"scopes": ["orders/read"]})}
    plan = compute_plan(files, records, prune=False)
    assert [c.action for c in plan.writes] == ["change"]
    assert plan_impact(plan, records, ROUTES) == {READERS: []}
