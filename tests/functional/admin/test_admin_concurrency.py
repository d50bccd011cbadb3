"""Two editors racing on one policy: the conditional headers let exactly one of them win."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.functional.admin.helpers import Reply, call, doc, policy_path


class Rendezvous:
    """The real repository, but every put waits until all editors have reached it,
    so the writes really overlap in DynamoDB instead of running one after the other."""

    def __init__(self, inner: Any, parties: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(parties, timeout=30)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        self.barrier.wait()
        return self.inner.put(*args, **kwargs)


def race(apps: list[Any], requests: list[dict[str, Any]]) -> list[Reply]:
    path = policy_path("group", "editors")
    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        futures = [
            pool.submit(call, app, "PUT", path, **request)
            for app, request in zip(apps, requests, strict=True)
        ]
        return [f.result(timeout=60) for f in futures]


def test_same_if_match_from_two_editors_exactly_one_wins(
    make_app: Any, app: Any, repository: Any
) -> None:
    """Two containers PUT with the same If-Match at once: one 200, one 412, history consistent."""
    assert call(app, "PUT", policy_path("group", "editors"), body={"document": doc()}).status == 201
    shared = Rendezvous(repository, parties=2)
    editors = [make_app(repository=shared), make_app(repository=shared)]
    for version in (1, 2, 3):
        bodies = [{"document": doc(f"arn:aws:execute-api:*:*:*/*/GET/editor{i}/*")} for i in (0, 1)]
        replies = race(
            editors,
            [
                {"body": b, "headers": {"If-Match": f'"{version}"'}, "username": f"editor{i}"}
                for i, b in enumerate(bodies)
            ],
        )
        assert sorted(r.status for r in replies) == [200, 412], [r.body for r in replies]
        winner = next(i for i, r in enumerate(replies) if r.status == 200)
        current = call(app, "GET", policy_path("group", "editors"))
        assert current.headers["etag"] == f'"{version + 1}"'
        assert current.body["document"] == replies[winner].body["policy"]["document"]
        assert current.body["updated_by"] == f"editor{winner}"
    history = call(app, "GET", policy_path("group", "editors", "/history")).body["items"]
    assert [(e["action"], e["version"]) for e in history] == [
        ("update", 4),
        ("update", 3),
        ("update", 2),
        ("create", 1),
    ]


def test_two_create_only_editors_one_creates_one_gets_409(make_app: Any, repository: Any) -> None:
    """Two If-None-Match: * creators at once: one 201, one 409, a single history entry."""
    shared = Rendezvous(repository, parties=2)
    editors = [make_app(repository=shared), make_app(repository=shared)]
    replies = race(
        editors,
        [{"body": {"document": doc()}, "headers": {"If-None-Match": "*"}} for _ in editors],
    )
    assert sorted(r.status for r in replies) == [201, 409]
    history = call(editors[0], "GET", policy_path("group", "editors", "/history")).body["items"]
    assert [(e["action"], e["version"]) for e in history] == [("create", 1)]
