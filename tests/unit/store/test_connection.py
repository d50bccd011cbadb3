"""The botocore loader patch: applied to the loader it knows, skipped for any other shape."""

from __future__ import annotations

import logging
from typing import Any

import botocore  # type: ignore[import-untyped]  # no stubs
import botocore.session  # type: ignore[import-untyped]  # no stubs
import pytest
from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]  # no stubs

from authz.store.connection import only_dynamodb

# The botocore versions the patch is supported on; pyproject pins the same range.
SUPPORTED = ((1, 34), (2, 0))


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def test_installed_botocore_is_in_the_supported_range() -> None:
    """The botocore these tests run against is one the patch claims to support."""
    oldest, beyond = SUPPORTED
    assert oldest <= _version(botocore.__version__) < beyond


def test_patch_applies_to_the_installed_botocore_loader() -> None:
    """The installed loader is patched and then names only DynamoDB, as a service it can load."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    assert "s3" in loader.list_available_services("service-2")

    assert only_dynamodb(loader) is True

    assert loader.list_available_services("service-2") == ["dynamodb"]
    assert loader.list_available_services("no-such-model-type") == []
    client = session.create_client(
        "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    reference = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    assert client.meta.service_model.operation_names == (
        reference.meta.service_model.operation_names
    )
    with pytest.raises(UnknownServiceError):
        session.create_client("s3", region_name="us-east-1")


class _LoaderWithoutVersions:
    """A loader of another shape: it lists services but has no list_api_versions."""

    def list_available_services(self, type_name: str) -> list[str]:
        return ["dynamodb", "s3"]

    def load_service_model(self, service_name: str, type_name: str, api_version: Any = None) -> Any:
        return {}


class _LoaderWithOtherArguments(_LoaderWithoutVersions):
    """A loader whose list_api_versions takes its arguments another way."""

    def list_api_versions(self, *, service: str, kind: str) -> list[str]:
        return ["2012-08-10"]


class _LoaderAnsweringNothing(_LoaderWithoutVersions):
    """A loader whose list_api_versions answers with something other than versions."""

    def list_api_versions(self, service_name: str, type_name: str) -> object:
        return None


@pytest.mark.parametrize(
    ("loader_type", "reason"),
    [
        (_LoaderWithoutVersions, "no method list_api_versions"),
        (_LoaderWithOtherArguments, "list_api_versions failed: TypeError"),
        (_LoaderAnsweringNothing, "list_api_versions answered None"),
    ],
)
def test_a_loader_of_another_shape_is_left_unpatched(
    loader_type: type[_LoaderWithoutVersions], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A loader that does not look like the one the patch knows keeps its own method,
    and the skip is logged at debug level with the reason."""
    loader = loader_type()
    own = loader.list_available_services

    with caplog.at_level(logging.DEBUG, logger="authz.store.connection"):
        assert only_dynamodb(loader) is False

    assert loader.list_available_services == own
    assert loader.list_available_services("service-2") == ["dynamodb", "s3"]
    [record] = [r for r in caplog.records if r.name == "authz.store.connection"]
    assert record.levelno == logging.DEBUG
    assert reason in record.getMessage()
