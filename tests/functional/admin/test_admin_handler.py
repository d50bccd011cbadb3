"""The Lambda entry point builds its app from the environment once and reuses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from authz.handlers.admin import app as admin
from tests.functional.admin.helpers import call, doc, event, policy_path, reply


@pytest.fixture
def fresh_handler(monkeypatch: pytest.MonkeyPatch, store_settings: Any) -> Iterator[None]:
    """The module's container state reset, with the environment naming the test's table."""
    for name in [n for n in os.environ if n.startswith("AUTHZ_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHZ_TABLE", store_settings.table)
    monkeypatch.setenv("AUTHZ_DYNAMODB_ENDPOINT", store_settings.dynamodb_endpoint)
    admin.install(None)
    yield
    admin.install(None)


def test_handler_builds_from_the_environment_once(fresh_handler: None, repository: Any) -> None:
    """The first invocation builds settings and repository; later ones reuse the same app."""
    r = reply(
        admin.handler(event("PUT", policy_path("group", "ops"), body={"document": doc()}), None)
    )
    assert r.status == 201
    first = admin.container.current
    assert first is not None
    assert reply(admin.handler(event("GET", policy_path("group", "ops")), None)).status == 200
    assert admin.container.current is first
    assert call(first, "GET", "/policies").body["items"][0]["selector"] == "group:ops"


def test_install_replaces_the_containers_app(fresh_handler: None, bare_app: Any) -> None:
    """install() lets a local stack run the handler with an app it built."""
    admin.install(bare_app)
    assert reply(admin.handler(event("GET", "/openapi.json"), None)).status == 200
    assert admin.container.current is bare_app
