"""pynamodb/botocore failures as ``authz.errors.StoreError`` subclasses.

pynamodb wraps every botocore exception it meets in a ``PynamoDBException``
whose ``cause`` is the botocore error, so this module never needs botocore
itself: it reads the DynamoDB error code, or for a failure below HTTP
(refused connection, timeout) the botocore class name.
"""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from authz.errors import (
    ItemTooLargeError,
    StoreCredentialsError,
    StoreError,
    StoreUnavailableError,
)

__all__ = ["UNAVAILABLE_CODES", "error_code", "is_item_too_large", "translate"]


# Worth retrying later: the service is busy, failing or was not reached.
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "TransactionConflictException",
        "ThrottlingError",  # a transaction cancellation reason
        "ProvisionedThroughputExceeded",  # same
    }
)

_CREDENTIAL_ERRORS = frozenset({"NoCredentialsError", "PartialCredentialsError", "NoRegionError"})


def error_code(exc: PynamoDBException) -> tuple[str | None, str | None]:
    """DynamoDB's error code and message, (None, None) below HTTP.

    Not pynamodb's ``cause_response_code``: it raises AttributeError when the
    cause is a botocore timeout, whose ``response`` attribute is None.
    """
    response = getattr(exc.cause, "response", None)
    if not isinstance(response, dict):
        return None, None
    error = response.get("Error") or {}
    return error.get("Code"), error.get("Message")


def is_item_too_large(code: str | None, message: str | None) -> bool:
    return code in ("ValidationException", "ValidationError") and "size" in (message or "").lower()


def translate(exc: PynamoDBException, what: str, table: str) -> StoreError:
    """The ``StoreError`` to raise ``from exc`` for a failed ``what`` (e.g. "GetItem")."""
    code, message = error_code(exc)
    message = message or str(exc.cause or exc)
    if code is None:
        cause = type(exc.cause).__name__ if exc.cause is not None else type(exc).__name__
        if cause in _CREDENTIAL_ERRORS:
            return StoreCredentialsError(
                f"{what} on table {table!r}: AWS credentials/region not configured ({cause})"
            )
        # Below HTTP: connection refused/reset, connect or read timeout.
        return StoreUnavailableError(
            f"{what} on table {table!r}: DynamoDB not reachable ({cause}: {message})"
        )
    if code in UNAVAILABLE_CODES or code.startswith("5") or code.endswith("ServerError"):
        return StoreUnavailableError(f"{what} on table {table!r}: {code}: {message}")
    if code == "ResourceNotFoundException":
        return StoreError(
            f"{what}: table {table!r} does not exist (create it with `authz table create`)"
        )
    if is_item_too_large(code, message):
        return ItemTooLargeError(f"{what} on table {table!r}: {message}")
    return StoreError(f"{what} on table {table!r}: {code}: {message}")
