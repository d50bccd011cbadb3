"""A Hypothesis state machine drives the repository and a plain dict model side by side."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from authz.dev.dynamodb import DynamoDBLocal
from authz.errors import AlreadyExistsError, ConflictError, NotFoundError
from authz.policy.selector import DEFAULT, Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from tests.integration.store.helpers import doc

pytestmark = pytest.mark.integration

SELECTORS = [
    DEFAULT,
    Selector("group", "admins"),
    Selector("group", "a:b"),
    Selector("scope", "orders/read"),
]
DOCS = [doc("a"), doc("b", effect="Deny"), doc("c/*")]
# Weighted towards writes that succeed, so that listings and histories get long.
WRITE_MODES = ["upsert", "upsert", "upsert", "right_version", "create_only", "wrong_version"]
DELETE_MODES = ["any", "right_version", "wrong_version"]


@dataclass
class Live:
    version: int
    doc_index: int
    description: str
    actor: str


@dataclass
class Model:
    live: dict[Selector, Live] = field(default_factory=dict)
    revision: dict[Selector, int] = field(default_factory=dict)  # stored item version
    history: dict[Selector, list[tuple[str, int, str]]] = field(default_factory=dict)
    writes: int = 0

    def record(self, s: Selector, action: str, version: int, actor: str) -> None:
        self.history.setdefault(s, []).insert(0, (action, version, actor))
        self.writes += 1


def machine(endpoint: str) -> type[RuleBasedStateMachine]:  # noqa: C901  # a state machine declared in one factory so its rules share the fixtures
    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            table = f"authz-sm-{uuid.uuid4().hex[:12]}"
            self.repo = DynamoRepository(Settings(table=table, dynamodb_endpoint=endpoint))
            self.repo.create_table()
            self.model = Model()
            self.step = 0

        def teardown(self) -> None:
            self.repo.delete_table()

        @rule(
            s=st.sampled_from(SELECTORS),
            d=st.integers(0, len(DOCS) - 1),
            mode=st.sampled_from(WRITE_MODES),
            description=st.text(max_size=8),
        )
        def put(self, s: Selector, d: int, mode: str, description: str) -> None:
            self.step += 1
            actor = f"actor{self.step}"
            live = self.model.live.get(s)
            kwargs: dict[str, object] = {}
            expected: type[Exception] | None = None
            if mode == "create_only":
                kwargs["create_only"] = True
                expected = AlreadyExistsError if live else None
            elif mode == "right_version":
                kwargs["expected_version"] = live.version if live else 1
                expected = None if live else NotFoundError
            elif mode == "wrong_version":
                kwargs["expected_version"] = live.version + 7 if live else 1
                expected = ConflictError if live else NotFoundError
            call = lambda: self.repo.put(  # noqa: E731  # one call, two outcomes
                s, DOCS[d], actor=actor, description=description, **kwargs
            )
            if expected is not None:
                with pytest.raises(expected):
                    call()
                return
            result = call()
            version = self.model.revision.get(s, 0) + 1
            action = "update" if live else "create"
            assert result.action == action
            assert result.record is not None
            assert result.record.version == version
            self.model.live[s] = Live(version, d, description, actor)
            self.model.revision[s] = version
            self.model.record(s, action, version, actor)
            assert result.epoch == self.model.writes

        @rule(s=st.sampled_from(SELECTORS), mode=st.sampled_from(DELETE_MODES))
        def delete(self, s: Selector, mode: str) -> None:
            self.step += 1
            actor = f"actor{self.step}"
            live = self.model.live.get(s)
            version = None
            if mode == "right_version":
                version = live.version if live else 1
            elif mode == "wrong_version":
                version = live.version + 3 if live else 1
            if live is None:
                with pytest.raises(NotFoundError):
                    self.repo.delete(s, actor=actor, expected_version=version)
                return
            if mode == "wrong_version":
                with pytest.raises(ConflictError):
                    self.repo.delete(s, actor=actor, expected_version=version)
                return
            result = self.repo.delete(s, actor=actor, expected_version=version)
            assert (result.action, result.record) == ("delete", None)
            del self.model.live[s]
            self.model.revision[s] = live.version + 1
            self.model.record(s, "delete", live.version, actor)

        @rule(s=st.sampled_from(SELECTORS))
        def get(self, s: Selector) -> None:
            live = self.model.live.get(s)
            if live is None:
                with pytest.raises(NotFoundError):
                    self.repo.get(s)
                return
            record = self.repo.get(s)
            assert (record.version, record.document, record.description, record.updated_by) == (
                live.version,
                DOCS[live.doc_index],
                live.description,
                live.actor,
            )

        @rule(wanted=st.lists(st.sampled_from(SELECTORS), max_size=6))
        def get_many(self, wanted: list[Selector]) -> None:
            found = self.repo.get_many(wanted)
            expected = {s: self.model.live[s].version for s in wanted if s in self.model.live}
            assert {s: r.version for s, r in found.items()} == expected

        @rule(kind=st.sampled_from([None, "group", "scope", "default"]), limit=st.integers(1, 3))
        def list_all(self, kind: str | None, limit: int) -> None:
            seen = []
            cursor = None
            while True:
                page = self.repo.list(kind=kind, limit=limit, cursor=cursor)
                assert len(page.items) <= limit
                seen.extend((r.selector, r.version) for r in page.items)
                cursor = page.cursor
                if cursor is None:
                    break
            expected = sorted(
                ((s, live.version) for s, live in self.model.live.items()),
                key=lambda pair: str(pair[0]),
            )
            assert seen == [p for p in expected if kind is None or p[0].kind == kind]

        @rule(s=st.sampled_from(SELECTORS), limit=st.integers(1, 4))
        def history(self, s: Selector, limit: int) -> None:
            entries = []
            cursor = None
            while True:
                page = self.repo.history(s, limit=limit, cursor=cursor)
                entries.extend((e.action, e.version, e.by) for e in page.items)
                cursor = page.cursor
                if cursor is None:
                    break
            assert entries == self.model.history.get(s, [])

        @invariant()
        def epoch_counts_successful_writes(self) -> None:
            assert self.repo.epoch() == self.model.writes

    return StoreMachine


def test_repository_matches_a_dict_model(dynamodb_local: DynamoDBLocal) -> None:
    """Any sequence of puts, deletes and reads behaves like the dict model, epoch included."""
    run_state_machine_as_test(
        machine(dynamodb_local.endpoint),
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # Shrinking replays hundreds of runs against DynamoDB and outlives the
            # test timeout; 15 unshrunk steps are short enough to read.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
