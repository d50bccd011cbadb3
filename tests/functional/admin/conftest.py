"""Fixtures of the admin API tests: the handler on DynamoDB Local with a fake flusher and clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from authz.handlers.admin.app import AdminApp, build_app
from authz.settings import Settings
from tests.fixtures.dynamodb import scan_all
from tests.functional.admin.helpers import ADMIN_GROUP

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class FakeFlusher:
    """Records flushes; raises for the stages named in ``failing``."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failing = failing

    def __call__(self, rest_api_id: str, stage: str) -> None:
        self.calls.append((rest_api_id, stage))
        if f"{rest_api_id}/{stage}" in self.failing:
            raise RuntimeError(f"TooManyRequestsException flushing {rest_api_id}/{stage}")


@pytest.fixture
def admin_settings(store_settings: Settings) -> Settings:
    """The store's settings with the admin knobs these tests rely on spelled out."""
    return dataclasses.replace(
        store_settings, admin_group=ADMIN_GROUP, epoch_check_seconds=5.0, result_ttl_seconds=300
    )


@pytest.fixture
def flusher() -> FakeFlusher:
    return FakeFlusher()


@pytest.fixture
def make_app(
    admin_settings: Settings, repository: Any, flusher: FakeFlusher
) -> Callable[..., AdminApp]:
    """``make_app(**overrides)``: an admin app on the test's table; overrides go to build_app."""

    def make(**overrides: Any) -> AdminApp:
        kwargs: dict[str, Any] = {
            "settings": admin_settings,
            "repository": repository,
            "flusher": flusher,
            "clock": lambda: NOW,
        }
        kwargs.update(overrides)
        return build_app(**kwargs)

    return make


@pytest.fixture
def app(make_app: Callable[..., AdminApp]) -> AdminApp:
    return make_app()


@pytest.fixture
def table(dynamodb_client: Any, store_settings: Settings) -> Callable[[], list[dict[str, Any]]]:
    """``table()``: every item of the test's table, for before/after comparisons."""
    return lambda: scan_all(dynamodb_client, store_settings.table)


@pytest.fixture
def bare_app(admin_settings: Settings, flusher: FakeFlusher) -> AdminApp:
    """An admin app whose table does not exist: for requests that must never reach the store."""
    from authz.store.repository import DynamoRepository

    return build_app(admin_settings, DynamoRepository(admin_settings), flusher=flusher)
