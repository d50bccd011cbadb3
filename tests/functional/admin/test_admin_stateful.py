"""A Hypothesis state machine drives the admin API's HTTP surface against a simple model.

Random PUT/DELETE/GET/list/history calls with random versions in If-Match,
If-None-Match: * or no precondition; after every call the status, ETag,
version, epoch and (for reads) the content must be what the model predicts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from authz.policy.selector import Selector
from tests.functional.admin.helpers import call, doc, policy_path

KINDS_NAMES = st.sampled_from([("group", "a"), ("group", "b/c"), ("scope", "x/read")])
DOCS = [doc(f"arn:aws:execute-api:*:*:*/*/GET/r{i}/*", sid=f"S{i}") for i in range(3)]
CONDITIONS = st.one_of(
    st.just(("none", None)),
    st.just(("create-only", None)),
    st.just(("current", None)),
    st.tuples(st.just("if-match"), st.integers(min_value=0, max_value=6)),
)


@dataclass
class Live:
    version: int
    document: dict[str, Any]
    description: str


@dataclass
class Model:
    live: dict[tuple[str, str], Live] = field(default_factory=dict)
    # The stored item's version, tombstones included: a delete also bumps it,
    # so a re-created policy never reuses an ETag a client may still hold.
    revision: dict[tuple[str, str], int] = field(default_factory=dict)
    history: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    writes: int = 0


def test_http_surface_matches_the_model(app: Any, repository: Any) -> None:  # noqa: C901  # a state machine declared in one factory so its rules share the fixtures
    """Every response of a random admin session agrees with the model of policies and history."""

    class AdminMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            # One table serves every example: names are unique to the example.
            self.prefix = f"t{uuid.uuid4().hex[:8]}-"
            self.epoch0 = repository.epoch()

        @initialize()
        def start(self) -> None:
            self.epoch0 = repository.epoch()

        def path(self, key: tuple[str, str], suffix: str = "") -> str:
            return policy_path(key[0], self.prefix + key[1], suffix)

        def headers(
            self, key: tuple[str, str], condition: tuple[str, int | None]
        ) -> dict[str, str]:
            kind, value = condition
            if kind == "create-only":
                return {"If-None-Match": "*"}
            if kind == "current":
                live = self.model.live.get(key)
                return {"If-Match": f'"{live.version if live else 1}"'}
            if kind == "if-match":
                return {"If-Match": f'"{value}"'}
            return {}

        @rule(
            key=KINDS_NAMES, which=st.integers(0, 2), condition=CONDITIONS, desc=st.text(max_size=5)
        )
        def put(self, key: tuple[str, str], which: int, condition: Any, desc: str) -> None:
            headers = self.headers(key, condition)
            body = {"document": DOCS[which], "description": desc}
            r = call(app, "PUT", self.path(key), body=body, headers=headers)
            live = self.model.live.get(key)
            if "If-None-Match" in headers:
                expected = 409 if live else 201
            elif "If-Match" in headers:
                wanted = int(headers["If-Match"].strip('"'))
                expected = 200 if live and live.version == wanted else 412
            else:
                expected = 200 if live else 201
            assert r.status == expected, (headers, r.body)
            if expected not in (200, 201):
                return
            version = self.model.revision.get(key, 0) + 1
            self.model.revision[key] = version
            self.model.live[key] = Live(version, DOCS[which], desc)
            self.model.history.setdefault(key, []).insert(
                0, ("create" if expected == 201 else "update", version)
            )
            self.model.writes += 1
            assert r.headers["etag"] == f'"{version}"'
            assert r.body["version"] == version
            assert r.body["epoch"] == self.epoch0 + self.model.writes

        @rule(key=KINDS_NAMES, condition=CONDITIONS)
        def delete(self, key: tuple[str, str], condition: Any) -> None:
            headers = self.headers(key, condition)
            headers.pop("If-None-Match", None)
            r = call(app, "DELETE", self.path(key), headers=headers)
            live = self.model.live.get(key)
            if "If-Match" in headers:
                wanted = int(headers["If-Match"].strip('"'))
                expected = 200 if live and live.version == wanted else 412
            else:
                expected = 200 if live else 404
            assert r.status == expected, (headers, r.body)
            if expected != 200:
                return
            assert live is not None
            assert r.body["version"] == live.version
            del self.model.live[key]
            self.model.revision[key] += 1
            self.model.history[key].insert(0, ("delete", live.version))
            self.model.writes += 1
            assert r.body["epoch"] == self.epoch0 + self.model.writes

        @rule(key=KINDS_NAMES)
        def get(self, key: tuple[str, str]) -> None:
            r = call(app, "GET", self.path(key))
            live = self.model.live.get(key)
            if live is None:
                assert r.status == 404
                return
            assert r.status == 200
            assert r.headers["etag"] == f'"{live.version}"'
            assert r.body["description"] == live.description
            assert r.body["document"]["Statement"][0]["Sid"] == live.document["Statement"][0]["Sid"]

        @rule(key=KINDS_NAMES, limit=st.integers(1, 3))
        def history(self, key: tuple[str, str], limit: int) -> None:
            seen: list[tuple[str, int]] = []
            cursor = None
            while True:
                query = {"limit": str(limit), **({"next": cursor} if cursor else {})}
                r = call(app, "GET", self.path(key, "/history"), query=query)
                if key not in self.model.history:
                    assert r.status == 404
                    return
                assert r.status == 200
                seen += [(e["action"], e["version"]) for e in r.body["items"]]
                cursor = r.body["next"]
                if cursor is None:
                    break
            assert seen == self.model.history[key]

        @rule(kind=st.sampled_from([None, "group", "scope"]), limit=st.integers(2, 4))
        def list_all(self, kind: str | None, limit: int) -> None:
            found: dict[str, int] = {}
            cursor = None
            while True:
                query = {"limit": str(limit)}
                if kind:
                    query["kind"] = kind
                if cursor:
                    query["next"] = cursor
                r = call(app, "GET", "/policies", query=query)
                assert r.status == 200
                found.update({i["selector"]: i["version"] for i in r.body["items"]})
                cursor = r.body["next"]
                if cursor is None:
                    break
            expected = {
                str(Selector(k, self.prefix + n)): live.version
                for (k, n), live in self.model.live.items()
                if kind in (None, k)
            }
            mine = {s: v for s, v in found.items() if self.prefix in s}
            assert mine == expected

        def teardown(self) -> None:
            # Leave the listing small for the next example.
            for kind, name in list(self.model.live):
                repository.delete(Selector(kind, self.prefix + name), actor="teardown")

    run_state_machine_as_test(
        AdminMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
