"""Regression: ``authz policies validate`` refuses token settings that forge identity claims."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.cli.conftest import POLICIES, Runner


def test_validate_refuses_forged_email_custom_attribute_case_variant_and_openid_scope(
    authz: Runner, tmp_path: Path
) -> None:
    """Each refused name is reported with its file and JSON path; exit 1."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    token_file = tree / "group" / "readers.token.json"
    token_file.write_text(
        json.dumps(
            {
                "scopes": ["orders/read", "openid"],
                "claims": {"email": "ceo@example.com", "custom:tenant": "x", "Sub": "y"},
            }
        )
    )

    result = authz("policies", "validate", str(tree))

    assert result.code == 1, result.output
    for path in ("scopes[1]", "claims.email", "claims.custom:tenant", "claims.Sub"):
        assert f"{token_file}: {path}: " in result.stderr, result.stderr
    assert "OpenID Connect standard claim" in result.stderr


def test_validate_accepts_ordinary_token_settings(authz: Runner, tmp_path: Path) -> None:
    """The same file with ordinary claims and scopes validates (the refusals are targeted)."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    (tree / "group" / "readers.token.json").write_text(
        json.dumps({"scopes": ["orders/read"], "claims": {"tenant": "acme"}})
    )

    result = authz("policies", "validate", str(tree))

    assert result.code == 0, result.output
