"""Every DynamoDB failure leaves the repository as an ``authz.errors.StoreError`` of the right kind.

The failures are injected with a botocore ``before-call`` hook that answers in
DynamoDB's place, so the real client, pynamodb and the repository's own
mapping all run; nothing is sent anywhere.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from authz.dev.dynamodb import free_port
from authz.errors import ItemTooLargeError, StoreError, StoreUnavailableError
from authz.policy.selector import Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from tests.integration.store.helpers import doc

ADMINS = Selector("group", "admins")


class Answer:
    """A before-call hook returning a canned DynamoDB error for one operation."""

    def __init__(
        self,
        code: str,
        status: int = 400,
        reasons: list[dict[str, Any]] | None = None,
        message: str = "",
    ) -> None:
        self.code = code
        self.status = status
        self.reasons = reasons
        self.message = message or f"injected {code}"
        self.calls = 0

    def __call__(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        self.calls += 1
        parsed: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status, "HTTPHeaders": {}},
        }
        if self.reasons is not None:
            parsed["CancellationReasons"] = self.reasons
        return SimpleNamespace(status_code=self.status, headers={}), parsed


@pytest.fixture
def offline(fake_aws_env: None) -> tuple[DynamoRepository, list[float]]:
    """A repository whose endpoint has nothing listening, and a record of its retry pauses."""
    sleeps: list[float] = []
    settings = Settings(table="injected", dynamodb_endpoint=f"http://127.0.0.1:{free_port()}")
    return DynamoRepository(settings, sleep=sleeps.append), sleeps


def answer(repo: DynamoRepository, operation: str, hook: Answer) -> Answer:
    repo.events.register(f"before-call.dynamodb.{operation}", hook)
    return hook


def cancelled(*codes: str, message: str = "") -> Answer:
    reasons = [{"Code": c, "Message": message} if c != "None" else {"Code": "None"} for c in codes]
    return Answer("TransactionCanceledException", reasons=reasons)


def test_throttled_transaction_is_unavailable(
    offline: tuple[DynamoRepository, list[float]],
) -> None:
    """A transaction cancelled for throttling raises StoreUnavailableError."""
    repo, _ = offline
    answer(repo, "TransactWriteItems", cancelled("None", "None", "ThrottlingError"))
    with pytest.raises(StoreUnavailableError, match="throttled"):
        repo.put(ADMINS, doc(), actor="a", create_only=True)


def test_oversized_item_reported_by_dynamodb_is_item_too_large(
    offline: tuple[DynamoRepository, list[float]],
) -> None:
    """DynamoDB's own item-size refusal inside a transaction raises ItemTooLargeError."""
    repo, _ = offline
    hook = cancelled(
        "ValidationError", "None", "None", message="Item size has exceeded the maximum allowed size"
    )
    answer(repo, "TransactWriteItems", hook)
    with pytest.raises(ItemTooLargeError):
        repo.put(ADMINS, doc(), actor="a", create_only=True)


def test_oversized_item_outside_a_transaction_is_item_too_large(
    offline: tuple[DynamoRepository, list[float]],
) -> None:
    """A ValidationException about item size on a plain call also maps to ItemTooLargeError."""
    repo, _ = offline
    message = "Item size to update has exceeded the maximum allowed size"
    answer(repo, "GetItem", Answer("ValidationException", message=message))
    with pytest.raises(ItemTooLargeError):
        repo.get(ADMINS)


def test_persistent_transaction_conflicts_give_up_with_bounded_pauses(
    offline: tuple[DynamoRepository, list[float]],
) -> None:
    """TransactionConflict is retried a bounded number of times, then StoreUnavailableError."""
    repo, sleeps = offline
    hook = answer(repo, "TransactWriteItems", cancelled("TransactionConflict", "None", "None"))
    with pytest.raises(StoreUnavailableError, match="kept changing"):
        repo.put(ADMINS, doc(), actor="a", create_only=True)
    assert hook.calls == repo.timeouts.write_attempts
    assert len(sleeps) == repo.timeouts.write_attempts
    assert sum(sleeps) < 1.0


def test_history_collision_is_a_store_error_naming_the_cause(
    offline: tuple[DynamoRepository, list[float]],
) -> None:
    """A history entry that already exists for the new version is refused with a clear message."""
    repo, _ = offline
    answer(repo, "TransactWriteItems", cancelled("None", "ConditionalCheckFailed", "None"))
    with pytest.raises(StoreError, match="history") as info:
        repo.put(ADMINS, doc(), actor="a", create_only=True)
    assert not isinstance(info.value, StoreUnavailableError)


@pytest.mark.parametrize(
    "case",
    [
        ("ProvisionedThroughputExceededException", 400, StoreUnavailableError, "Provisioned"),
        ("ThrottlingException", 400, StoreUnavailableError, "Throttling"),
        ("InternalServerError", 500, StoreUnavailableError, "InternalServerError"),
        ("ResourceNotFoundException", 400, StoreError, "does not exist"),
        ("AccessDeniedException", 400, StoreError, "AccessDenied"),
    ],
)
@pytest.mark.parametrize("operation", ["GetItem", "BatchGetItem", "Query"])
def test_service_errors_map_to_store_errors(
    offline: tuple[DynamoRepository, list[float]],
    operation: str,
    case: tuple[str, int, type[StoreError], str],
) -> None:
    """Throttling and 5xx are StoreUnavailableError; a missing table or no access, StoreError."""
    code, status, error, text = case
    repo, _ = offline
    answer(repo, operation, Answer(code, status))
    call = {
        "GetItem": lambda: repo.get(ADMINS),
        "BatchGetItem": lambda: repo.get_many([ADMINS]),
        "Query": lambda: repo.history(ADMINS),
    }[operation]
    with pytest.raises(error, match=text) as info:
        call()
    if error is StoreError:
        assert not isinstance(info.value, StoreUnavailableError)
