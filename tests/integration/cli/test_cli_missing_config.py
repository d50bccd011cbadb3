"""A CLI without configuration says which variables to set, and names the dev-stack shortcut."""

from __future__ import annotations

import os

import pytest

from tests.integration.cli.conftest import run_authz
from tests.tokens import KeyPair, access_claims, mint

pytestmark = pytest.mark.integration


def _bare_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    return env


def test_no_aws_credentials_is_a_configuration_error_naming_the_variables() -> None:
    # Before: exit 1 and a bare "NoCredentialsError", with nothing to say what to set.
    result = run_authz("policies", "list", env=_bare_env())
    assert result.code == 2, result.output
    for name in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AUTHZ_TABLE", "AUTHZ_DYNAMODB_ENDPOINT"):
        assert name in result.stderr
    assert "source .authz-dev.env" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_pool_for_token_verification_names_the_dev_stack_shortcut() -> None:
    token = mint(access_claims(), KeyPair.generate())
    result = run_authz("token", "inspect", token, "--verify", env=_bare_env())
    assert result.code == 2, result.output
    assert "configuration error" in result.stderr
    assert "source .authz-dev.env" in result.stderr
