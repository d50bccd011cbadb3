"""Fixtures for the pre token trigger tests: a repository, seeded groups, a captured logger."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from authz.handlers.pretoken import PreTokenTrigger
from authz.policy.selector import Selector
from authz.settings import Settings
from tests.functional.pretoken.helpers import DOCUMENT

LOGGER_NAME = "tests.pretoken"


@pytest.fixture
def repository(store_settings: Settings) -> Iterator[Any]:
    """The plugin's ``repository``, with timeouts for a loaded CI machine.

    One HTTP attempt keeps request counts exact (a botocore retry would be a
    second request); long timeouts keep a busy DynamoDB Local from failing a
    test that is not about failure.
    """
    from authz.store import DynamoRepository, StoreTimeouts

    repo = DynamoRepository(
        store_settings, timeouts=StoreTimeouts(connect=10.0, read=20.0, attempts=1)
    )
    repo.create_table(wait=True)
    try:
        yield repo
    finally:
        repo.delete_table()


@pytest.fixture
def seed(repository: Any) -> Callable[..., None]:
    """``seed(group, token=...)`` stores group:<group> with a plain document and those settings.

    The token is written as given, without validation, as an item written
    around the admin API would be.
    """

    def put(group: str, token: Mapping[str, Any] | None = None) -> None:
        repository.put(Selector("group", group), DOCUMENT, actor="test", token=token)

    return put


@pytest.fixture
def trigger_log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    """A standard logger whose records (with their ``extra`` fields) land in caplog."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    return logging.getLogger(LOGGER_NAME)


@pytest.fixture
def trigger(repository: Any, trigger_log: logging.Logger) -> PreTokenTrigger:
    """The trigger on the test's DynamoDB Local table."""
    return PreTokenTrigger(repository, logger=trigger_log)
