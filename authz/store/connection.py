"""The one pynamodb ``Connection`` a repository sends every request through.

Building a botocore client on a fresh session loads DynamoDB's service
model; on a session that already did it is much cheaper (``bench/`` has the
figures). A Lambda has one repository, but the CLI, the local stack and the
tests build many, so all of them share one process-wide session.

The retry mode is botocore's "legacy" one: for DynamoDB it backs off 50 ms,
100 ms, ... where the "standard" mode pynamodb picks by default would wait up
to 1 s, 2 s, ... (``StoreTimeouts`` bounds a request with it).
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from pynamodb.connection import Connection

__all__ = ["SharedSessionConnection", "connect", "only_dynamodb", "shared_session"]

logger = logging.getLogger(__name__)

_SESSION_LOCK = threading.RLock()
_session: Any = None


class SharedSessionConnection(Connection):
    """A pynamodb connection whose botocore client comes from the process-wide session.

    Client creation is serialized because botocore sessions are not thread-safe.
    """

    @property
    def session(self) -> Any:
        return shared_session()

    @property
    def client(self) -> Any:
        with _SESSION_LOCK:
            return super().client


def shared_session() -> Any:
    """The process-wide botocore session, built on first use."""
    global _session  # noqa: PLW0603  # one lazily built session per process
    with _SESSION_LOCK:
        if _session is None:
            # importlib: botocore ships no type information for mypy to check.
            session = importlib.import_module("botocore.session").get_session()
            only_dynamodb(session.get_component("data_loader"))
            _session = session
        return _session


def connect(
    *, region: str, host: str | None, connect_timeout: float, read_timeout: float, attempts: int
) -> SharedSessionConnection:
    """A connection with these timeouts and at most ``attempts`` HTTP attempts per request."""
    return SharedSessionConnection(
        region=region,
        host=host,
        connect_timeout_seconds=connect_timeout,
        read_timeout_seconds=read_timeout,
        retry_configuration={"mode": "legacy", "total_max_attempts": attempts},
    )


def only_dynamodb(loader: Any) -> bool:
    """Teach a botocore data loader that it only ever serves DynamoDB; True if it did.

    Before loading a service model, botocore asks its loader for the list of
    every service it knows, which walks all the folders of its data directory
    (and AWS_DATA_PATH, ~/.aws/models), only to check that the name asked for
    is among them. The shared session builds nothing but DynamoDB clients, so
    the list is answered from DynamoDB's own folders with the loader's public
    ``list_api_versions`` over the same search path: the model files found and
    loaded are exactly those botocore would have used.

    botocore is not packaged with the function, so this meets whatever
    version the Lambda runtime ships. When the loader does not look the way
    the patch expects, it is left alone: slower to build a client, never wrong.
    """
    reason = _unexpected_shape(loader)
    if reason is not None:
        logger.debug("botocore loader left unpatched: %s", reason)
        return False
    not_found = importlib.import_module("botocore.exceptions").DataNotFoundError
    list_api_versions = loader.list_api_versions

    def list_available_services(type_name: str) -> list[str]:
        try:
            list_api_versions("dynamodb", type_name)
        except not_found:
            return []
        return ["dynamodb"]

    loader.list_available_services = list_available_services
    return True


def _unexpected_shape(loader: Any) -> str | None:
    """Why the patch would not apply to ``loader``, None when it does.

    botocore's loader methods hide their signatures behind a caching
    decorator, so the check asks instead: the methods exist, and
    ``list_api_versions("dynamodb", "service-2")`` answers with DynamoDB's
    API versions, as the patched ``list_available_services`` relies on.
    """
    for name in ("list_available_services", "list_api_versions", "load_service_model"):
        if not callable(getattr(loader, name, None)):
            return f"it has no method {name}"
    try:
        versions = loader.list_api_versions("dynamodb", "service-2")
    except Exception as exc:  # any failure: not the loader we know
        return f"list_api_versions failed: {type(exc).__name__}: {exc}"
    if (
        not isinstance(versions, list)
        or not versions
        or not all(isinstance(v, str) for v in versions)
    ):
        return f"list_api_versions answered {versions!r}, not a list of versions"
    return None
