"""``authz revoke`` and ``authz revocations list|delete|history`` on DynamoDB Local."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from authz.dev.cognito import LocalCognito
from authz.errors import NotFoundError
from authz.revocations import Revocation, Target
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from tests.fixtures.dynamodb import scan_all
from tests.integration.cli.conftest import Runner

pytestmark = pytest.mark.integration


def test_revoke_list_history_delete_round_trip(authz: Runner, repository: DynamoRepository) -> None:
    """A revocation is written with its epoch bump, listed, audited, and lifted again."""
    before = repository.epoch()
    revoked = authz("revoke", "--sub", "user-1", "--reason", "laptop stolen", "--actor", "ops")
    assert revoked.code == 0, revoked.output
    assert "Revoked sub:user-1" in revoked.stdout
    assert "every token of this user" in revoked.stdout
    assert f"Policy epoch {before + 1}: visible by" in revoked.stdout
    stored = repository.get_revocation(Target("sub", "user-1"))
    assert (stored.reason, stored.revoked_by, stored.until) == ("laptop stolen", "ops", None)

    listed = authz("revocations", "list", "--json")
    assert listed.code == 0, listed.output
    assert json.loads(listed.stdout) == [stored.to_dict()]
    plain = authz("revocations", "list")
    assert plain.stdout.startswith("sub:user-1\t")
    assert "laptop stolen" in plain.stdout

    deleted = authz("revocations", "delete", "sub:user-1", "--yes", "--actor", "ops2")
    assert deleted.code == 0, deleted.output
    assert f"Lifted sub:user-1 (revoked {stored.revoked_at:%Y-%m-%d %H:%M:%S} UTC by ops)" in (
        deleted.stdout
    )
    assert repository.epoch() == before + 2
    with pytest.raises(NotFoundError):
        repository.get_revocation(Target("sub", "user-1"))
    assert authz("revocations", "list").stdout.strip() == "No live revocations."

    history = authz("revocations", "history", "--json")
    assert history.code == 0, history.output
    entries = json.loads(history.stdout)
    assert [(e["action"], e["id"], e["by"]) for e in entries] == [
        ("delete", "sub:user-1", "ops2"),
        ("revoke", "sub:user-1", "ops"),
    ]


def test_until_and_each_target_kind(authz: Runner, repository: DynamoRepository) -> None:
    """--until keeps a user's tokens refused up to that time; sessions and tokens by id."""
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    text = until.isoformat().replace("+00:00", "Z")
    assert authz("revoke", "--sub", "user-2", "--until", text).code == 0
    assert authz("revoke", "--origin-jti", "session-1").code == 0
    assert authz("revoke", "--jti", "token-1", "--reason", "leaked").code == 0
    held = json.loads(authz("revocations", "list", "--json").stdout)
    assert [r["id"] for r in held] == ["jti:token-1", "origin_jti:session-1", "sub:user-2"]
    assert held[2]["until"] == text
    stored = repository.get_revocation(Target("sub", "user-2"))
    assert stored.cutoff == int(until.timestamp())


def test_revoking_again_replaces_and_the_history_keeps_both(
    authz: Runner, repository: DynamoRepository
) -> None:
    assert authz("revoke", "--jti", "t-9", "--reason", "first").code == 0
    assert authz("revoke", "--jti", "t-9", "--reason", "second").code == 0
    held = json.loads(authz("revocations", "list", "--json").stdout)
    assert [(r["id"], r["reason"]) for r in held] == [("jti:t-9", "second")]
    history = json.loads(authz("revocations", "history", "--json").stdout)
    assert [e["reason"] for e in history] == ["second", "first"]


def test_list_reads_every_page(authz: Runner, repository: DynamoRepository) -> None:
    """More revocations than one page (100) are all listed."""
    now = datetime.now(UTC)
    values = sorted(f"jti-{i:03d}" for i in range(130))
    for value in values:
        repository.revoke(
            Revocation.new(
                Target("jti", value),
                reason="",
                revoked_by="seed",
                revoked_at=now,
                max_token_lifetime=3600,
            )
        )
    listed = authz("revocations", "list", "--json")
    assert listed.code == 0, listed.output
    assert [r["value"] for r in json.loads(listed.stdout)] == values
    history = authz("revocations", "history", "--limit", "120", "--json")
    assert len(json.loads(history.stdout)) == 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("revoke",), "give exactly one of --sub, --origin-jti or --jti"),
        (("revoke", "--sub", "a", "--jti", "b"), "give exactly one of"),
        (("revoke", "--sub", "has space"), "invalid sub 'has space'"),
        (("revoke", "--jti", "a/b"), "invalid jti 'a/b'"),
        (("revoke", "--sub", "a", "--until", "tomorrow"), "'tomorrow' is not an ISO 8601 time"),
        (("revoke", "--sub", "a", "--until", "2030-01-01T00:00:00"), "has no time zone"),
        (("revoke", "--sub", "a", "--until", "2020-01-01T00:00:00Z"), "until must lie in the"),
        (("revoke", "--sub", "a", "--until", "2999-01-01T00:00:00Z"), "until must lie within"),
        (("revoke", "--jti", "a", "--until", "2030-01-01T00:00:00Z"), "--until applies to --sub"),
        (("revoke", "--origin-jti", "a", "--cognito"), "--cognito applies to --sub only"),
        (("revoke", "--sub", "a", "--reason", "x" * 1001), "reason is longer than 1000"),
        (("revocations", "delete", "user:a", "--yes"), "invalid revocation id 'user:a'"),
        (("revocations", "delete", "sub:", "--yes"), "invalid sub ''"),
    ],
)
@pytest.mark.usefixtures("repository")
def test_bad_input_exits_2_and_writes_nothing(
    args: tuple[str, ...],
    message: str,
    authz: Runner,
    dynamodb_client: Any,
    store_settings: Settings,
) -> None:
    before = scan_all(dynamodb_client, store_settings.table)
    result = authz(*args)
    assert result.code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert scan_all(dynamodb_client, store_settings.table) == before


def test_deleting_what_is_not_revoked_exits_1_naming_it(
    authz: Runner, repository: DynamoRepository
) -> None:
    result = authz("revocations", "delete", "jti:never-revoked", "--yes")
    assert result.code == 1, result.output
    assert "jti:never-revoked" in result.stderr
    assert repository.epoch() == 0


def test_delete_asks_first_and_a_no_keeps_the_revocation(
    authz: Runner, repository: DynamoRepository
) -> None:
    assert authz("revoke", "--jti", "keep-me").code == 0
    result = authz("revocations", "delete", "jti:keep-me", input="n\n")
    assert result.code == 1
    assert repository.get_revocation(Target("jti", "keep-me")).target.value == "keep-me"


def test_empty_listings_say_so(authz: Runner, repository: DynamoRepository) -> None:
    assert authz("revocations", "list").stdout.strip() == "No live revocations."
    assert authz("revocations", "history").stdout.strip() == "No revocation history."
    assert json.loads(authz("revocations", "list", "--json").stdout) == []


# -- --cognito: AdminUserGlobalSignOut on moto's Cognito ----------------------------------


def _sub(cognito: LocalCognito, user: str) -> str:
    attributes = cognito.client.admin_get_user(UserPoolId=cognito.pool_id, Username=user)[
        "UserAttributes"
    ]
    return str(next(a["Value"] for a in attributes if a["Name"] == "sub"))


def _cognito_env(cognito: LocalCognito) -> dict[str, str]:
    return {
        "AUTHZ_USER_POOL_ID": cognito.pool_id,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognito.endpoint,
        "AWS_REGION": "us-east-1",
    }


def test_cognito_signs_the_user_out_so_refresh_tokens_stop_working(
    authz: Runner, repository: DynamoRepository, local_cognito: LocalCognito
) -> None:
    user = f"u{uuid.uuid4().hex[:8]}"
    local_cognito.create_user(user)
    refresh = local_cognito.tokens(user)["refresh"]
    sub = _sub(local_cognito, user)

    result = authz("revoke", "--sub", sub, "--cognito", **_cognito_env(local_cognito))

    assert result.code == 0, result.output
    assert f"Cognito: signed {user} out everywhere" in result.stdout
    assert repository.get_revocation(Target("sub", sub)).target.value == sub
    with pytest.raises(local_cognito.client.exceptions.NotAuthorizedException):
        local_cognito.client.initiate_auth(
            ClientId=local_cognito.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh},
        )


def test_a_cognito_failure_is_a_warning_and_the_revocation_stands(
    authz: Runner, repository: DynamoRepository, local_cognito: LocalCognito
) -> None:
    result = authz("revoke", "--sub", "nobody-here", "--cognito", **_cognito_env(local_cognito))
    assert result.code == 0, result.output
    assert "warning: Cognito sign-out failed: no user with sub nobody-here" in result.stderr
    assert "The revocation stands" in result.stderr
    assert repository.get_revocation(Target("sub", "nobody-here")).target.value == "nobody-here"


def test_cognito_without_a_pool_id_warns(authz: Runner, repository: DynamoRepository) -> None:
    result = authz("revoke", "--sub", "someone", "--cognito")
    assert result.code == 0, result.output
    assert "AUTHZ_USER_POOL_ID is not set" in result.stderr
    assert repository.get_revocation(Target("sub", "someone")).target.value == "someone"
