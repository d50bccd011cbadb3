"""The pre token generation trigger against DynamoDB Local: output shapes, merge rule, failures."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any, cast

import pytest

from authz.errors import StoreUnavailableError
from authz.handlers import pretoken
from authz.handlers.pretoken import PreTokenTrigger, TriggerStore, v1_claim_value
from authz.settings import Settings
from tests.functional.pretoken.helpers import load_event, unreachable_repository, with_groups

TENANT = {"claims": {"tenant": "acme"}, "scopes": ["orders/read"]}
READERS = {"claims": {"plan": "basic"}, "scopes": ["reports/read", "orders/read"]}


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == level]


# -- version 2 and 3: both tokens ------------------------------------------------


@pytest.mark.parametrize("version", ["2", "3"])
def test_v2_and_v3_add_claims_to_both_tokens_and_scopes_to_access(
    version: str,
    trigger: PreTokenTrigger,
    seed: Callable[..., None],
    count_requests: Any,
    repository: Any,
) -> None:
    """Claims go to the ID and access tokens, the union of scopes to the access token."""
    seed("tenant-acme", TENANT)
    seed("readers", READERS)
    event = load_event("pretoken_v2")
    event["version"] = version
    counter = count_requests(repository)

    out = trigger(event)

    claims = {"plan": "basic", "tenant": "acme"}
    assert out["response"]["claimsAndScopeOverrideDetails"] == {
        "idTokenGeneration": {"claimsToAddOrOverride": claims},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": claims,
            "scopesToAdd": ["orders/read", "reports/read"],
        },
        "groupOverrideDetails": {
            "groupsToOverride": ["tenant-acme", "readers"],
            "iamRolesToOverride": [],
            "preferredRole": None,
        },
    }
    assert "claimsOverrideDetails" not in out["response"]
    assert dict(counter.by_operation) == {"BatchGetItem": 1}


def test_v2_id_and_access_claims_are_separate_objects(
    trigger: PreTokenTrigger, seed: Callable[..., None]
) -> None:
    """Each token gets its own claim objects, so changing one cannot change the other."""
    seed("tenant-acme", {"claims": {"limits": {"rps": 10}}})
    out = trigger(with_groups("pretoken_v2", ["tenant-acme"]))
    details = out["response"]["claimsAndScopeOverrideDetails"]
    id_claims = details["idTokenGeneration"]["claimsToAddOrOverride"]
    access_claims = details["accessTokenGeneration"]["claimsToAddOrOverride"]
    assert id_claims == access_claims == {"limits": {"rps": 10}}
    assert id_claims["limits"] is not access_claims["limits"]


def test_v2_scopes_only_leave_the_id_token_alone(
    trigger: PreTokenTrigger, seed: Callable[..., None]
) -> None:
    """Settings with scopes and no claims touch only the access token's scopes."""
    seed("readers", {"scopes": ["reports/read"]})
    out = trigger(with_groups("pretoken_v2", ["readers"]))
    details = out["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"] == {"scopesToAdd": ["reports/read"]}
    assert "idTokenGeneration" not in details


def test_v2_keeps_what_the_response_already_holds(
    trigger: PreTokenTrigger, seed: Callable[..., None]
) -> None:
    """Fields already in the response (another step's) are kept; ours are added beside them."""
    seed("tenant-acme", TENANT)
    event = with_groups("pretoken_v2", ["tenant-acme"])
    groups_set_elsewhere = {
        "groupsToOverride": ["x"],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "accessTokenGeneration": {"scopesToAdd": ["a/b"], "claimsToSuppress": ["email"]},
        "groupOverrideDetails": groups_set_elsewhere,
    }
    details = trigger(event)["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"] == {
        "scopesToAdd": ["a/b", "orders/read"],
        "claimsToSuppress": ["email"],
        "claimsToAddOrOverride": {"tenant": "acme"},
    }
    assert details["groupOverrideDetails"] == groups_set_elsewhere


# -- version 1: ID token, strings only ---------------------------------------------


def test_v1_adds_string_claims_to_the_id_token_only(
    trigger: PreTokenTrigger,
    seed: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
    count_requests: Any,
    repository: Any,
) -> None:
    """Version 1 sets string claims in claimsOverrideDetails; arrays, objects, scopes are logged."""
    seed(
        "tenant-acme",
        {
            "claims": {
                "tenant": "acme",
                "seats": 12,
                "ratio": 0.5,
                "beta": True,
                "regions": ["eu", "us"],
                "limits": {"rps": 10},
            },
            "scopes": ["orders/read"],
        },
    )
    counter = count_requests(repository)
    out = trigger(load_event("pretoken_v1"))

    assert out["response"] == {
        "claimsOverrideDetails": {
            "claimsToAddOrOverride": {
                "beta": "true",
                "ratio": "0.5",
                "seats": "12",
                "tenant": "acme",
            },
            "groupOverrideDetails": {
                "groupsToOverride": ["tenant-acme", "readers"],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
        }
    }
    assert counter.total == 1
    warnings = {r.getMessage(): r for r in records(caplog, logging.WARNING)}
    dropped = warnings[
        "version 1 events carry string claims only; array and object claims left out"
    ]
    assert dropped.claims == ["limits", "regions"]  # type: ignore[attr-defined]
    no_scopes = warnings[
        "version 1 events cannot add scopes; configure the trigger as V2_0 or V3_0"
    ]
    assert no_scopes.scopes == ["orders/read"]  # type: ignore[attr-defined]


def test_v1_with_only_scopes_leaves_the_event_unchanged(
    trigger: PreTokenTrigger, seed: Callable[..., None]
) -> None:
    """A version 1 event has nowhere to put scopes, so the response stays as Cognito sent it."""
    seed("readers", {"scopes": ["reports/read"]})
    event = with_groups("pretoken_v1", ["readers"])
    before = copy.deepcopy(event)
    assert trigger(event) == before


@pytest.mark.parametrize(
    ("value", "text"),
    [("x", "x"), ("", ""), (True, "true"), (False, "false"), (0, "0"), (-3, "-3"), (2.5, "2.5")],
)
def test_v1_claim_value_conversion(value: Any, text: str) -> None:
    """Scalars become their JSON text (strings stay as they are)."""
    assert v1_claim_value(value) == text


@pytest.mark.parametrize("value", [[1], {"a": 1}, [], {}])
def test_v1_claim_value_has_no_form_for_containers(value: Any) -> None:
    """Arrays and objects have no faithful string form in a version 1 event."""
    assert v1_claim_value(value) is None


# -- nothing to add ----------------------------------------------------------------


def test_client_credentials_event_is_returned_unchanged_without_a_request(
    trigger: PreTokenTrigger, seed: Callable[..., None], count_requests: Any, repository: Any
) -> None:
    """A machine-to-machine event carries no user and no groups: nothing is read or added."""
    seed("tenant-acme", TENANT)
    event = load_event("pretoken_v3_client_credentials")
    before = copy.deepcopy(event)
    counter = count_requests(repository)
    assert trigger(event) == before
    assert counter.total == 0


@pytest.mark.parametrize("config", [None, {}, {"groupsToOverride": []}, {"groupsToOverride": None}])
def test_user_without_groups_is_returned_unchanged_without_a_request(
    config: Any, trigger: PreTokenTrigger, count_requests: Any, repository: Any
) -> None:
    """No groups means no store request and no change to the event."""
    event = load_event("pretoken_v2", groupConfiguration=config)
    before = copy.deepcopy(event)
    counter = count_requests(repository)
    assert trigger(event) == before
    assert counter.total == 0


def test_groups_without_settings_change_nothing(
    trigger: PreTokenTrigger, seed: Callable[..., None], count_requests: Any, repository: Any
) -> None:
    """A group with a policy but no token settings, and a group with no policy, add nothing."""
    seed("readers")
    seed("tenant-acme", {})
    event = with_groups("pretoken_v2", ["readers", "tenant-acme", "not-stored"])
    before = copy.deepcopy(event)
    counter = count_requests(repository)
    assert trigger(event) == before
    assert dict(counter.by_operation) == {"BatchGetItem": 1}


def test_a_hundred_groups_are_one_request(
    trigger: PreTokenTrigger, seed: Callable[..., None], count_requests: Any, repository: Any
) -> None:
    """A user at Cognito's quota of 100 groups still costs one BatchGetItem."""
    seed("g-042", TENANT)
    counter = count_requests(repository)
    out = trigger(with_groups("pretoken_v2", [f"g-{i:03d}" for i in range(100)]))
    access = out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access["claimsToAddOrOverride"] == {"tenant": "acme"}
    assert dict(counter.by_operation) == {"BatchGetItem": 1}


def test_invalid_group_names_are_skipped(
    trigger: PreTokenTrigger, seed: Callable[..., None], count_requests: Any, repository: Any
) -> None:
    """Names no policy can be stored under are not looked up; valid ones still apply."""
    seed("tenant-acme", TENANT)
    event = with_groups("pretoken_v2", ["has space", "", "tenant-acme", 7])  # type: ignore[list-item]
    counter = count_requests(repository)
    out = trigger(event)
    access = out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access["claimsToAddOrOverride"] == {"tenant": "acme"}
    assert counter.total == 1


# -- conflicts ---------------------------------------------------------------------


@pytest.mark.parametrize("order", [["b-team", "a-team", "c-team"], ["c-team", "a-team", "b-team"]])
def test_conflicting_claims_first_group_by_name_wins(
    order: list[str],
    trigger: PreTokenTrigger,
    seed: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever order Cognito lists the groups in, the group whose name sorts first wins."""
    seed("b-team", {"claims": {"tenant": "bravo", "only_b": "b"}})
    seed("a-team", {"claims": {"tenant": "alpha"}})
    seed("c-team", {"claims": {"tenant": "charlie"}})
    out = trigger(with_groups("pretoken_v2", order))
    details = out["response"]["claimsAndScopeOverrideDetails"]
    expected = {"only_b": "b", "tenant": "alpha"}
    assert details["idTokenGeneration"]["claimsToAddOrOverride"] == expected
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == expected
    [conflict] = [
        r for r in records(caplog, logging.WARNING) if r.getMessage().startswith("groups disagree")
    ]
    assert (conflict.claim, conflict.winner, conflict.losers) == (  # type: ignore[attr-defined]
        "tenant",
        "a-team",
        ["b-team", "c-team"],
    )


# -- defence in depth ---------------------------------------------------------------


def test_reserved_claims_in_the_table_are_never_emitted(
    trigger: PreTokenTrigger, seed: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """Settings written around the admin API lose reserved claims and scopes; the rest applies."""
    seed(
        "tenant-acme",
        {
            "claims": {
                "tenant": "acme",
                "sub": "someone-else",
                "cognito:groups": ["authz-admins"],
                "client_id": "other-client",
                "scope": "admin",
                "email_verified": True,
                "dev:x": "y",
                "bad": None,
            },
            "scopes": ["orders/read", "aws.cognito.signin.user.admin", "bad scope"],
            "unknown": 1,
        },
    )
    out = trigger(with_groups("pretoken_v2", ["tenant-acme"]))
    details = out["response"]["claimsAndScopeOverrideDetails"]
    assert details["idTokenGeneration"] == {"claimsToAddOrOverride": {"tenant": "acme"}}
    assert details["accessTokenGeneration"] == {
        "claimsToAddOrOverride": {"tenant": "acme"},
        "scopesToAdd": ["orders/read"],
    }
    [warning] = [
        r for r in records(caplog, logging.WARNING) if r.getMessage().startswith("stored token")
    ]
    assert warning.group == "tenant-acme"  # type: ignore[attr-defined]
    assert sorted(p["path"] for p in warning.problems) == [  # type: ignore[attr-defined]
        "token.claims.bad",
        "token.claims.client_id",
        "token.claims.cognito:groups",
        "token.claims.dev:x",
        "token.claims.email_verified",
        "token.claims.scope",
        "token.claims.sub",
        "token.scopes[1]",
        "token.scopes[2]",
        "token.unknown",
    ]


def test_stored_settings_that_are_not_an_object_add_nothing(
    trigger: PreTokenTrigger,
    seed: Callable[..., None],
    dynamodb_client: Any,
    store_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stored token value of the wrong type (written behind the repository's back) is ignored."""
    seed("tenant-acme", TENANT)
    dynamodb_client.update_item(
        TableName=store_settings.table,
        Key={"pk": {"S": "group:tenant-acme"}, "sk": {"S": "policy"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "token"},
        ExpressionAttributeValues={":t": {"S": '["tenant","acme"]'}},
    )
    event = with_groups("pretoken_v2", ["tenant-acme"])
    before = copy.deepcopy(event)
    assert trigger(event) == before
    [warning] = records(caplog, logging.WARNING)
    assert warning.problems == [{"path": "token", "message": "must be an object"}]  # type: ignore[attr-defined]


# -- failures ------------------------------------------------------------------------


class Untouchable:
    """A repository that fails the test if the trigger reaches the store at all."""

    def get_many(self, selectors: Any) -> Any:
        raise AssertionError(f"unexpected store request for {selectors}")


def test_store_failure_refuses_the_sign_in(
    trigger_log: logging.Logger, caplog: pytest.LogCaptureFixture, dynamodb_local: Any
) -> None:
    """When DynamoDB cannot answer, the trigger raises a generic error and logs the cause."""
    repo = unreachable_repository()
    trigger = PreTokenTrigger(repo, logger=trigger_log)
    event = with_groups("pretoken_v2", ["tenant-acme"])

    with pytest.raises(StoreUnavailableError) as info:
        trigger(event)

    assert str(info.value) == "authorization data is unavailable; try again"
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}
    [error] = records(caplog, logging.ERROR)
    assert error.getMessage() == "token settings could not be read; sign-in refused"
    assert error.groups == ["tenant-acme"]  # type: ignore[attr-defined]
    assert "authz-unreachable" in error.detail  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "4", "unsupported pre token generation event version '4'"),
        ("version", None, "unsupported pre token generation event version 'None'"),
        ("triggerSource", "PreSignUp_SignUp", "not a pre token generation event"),
        ("triggerSource", None, "not a pre token generation event"),
    ],
)
def test_unexpected_events_are_refused_before_any_request(
    field: str, value: Any, message: str, trigger_log: logging.Logger
) -> None:
    """An event this trigger does not understand fails loudly, before any store request."""
    trigger = PreTokenTrigger(cast("TriggerStore", Untouchable()), logger=trigger_log)
    event = load_event("pretoken_v2")
    event[field] = value
    with pytest.raises(ValueError, match=message):
        trigger(event)
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}


def test_malformed_group_configuration_is_refused(trigger_log: logging.Logger) -> None:
    """groupConfiguration and groupsToOverride must have the documented types."""
    trigger = PreTokenTrigger(cast("TriggerStore", Untouchable()), logger=trigger_log)
    with pytest.raises(ValueError, match="groupConfiguration is not an object"):
        trigger(load_event("pretoken_v2", groupConfiguration=["tenant-acme"]))
    with pytest.raises(ValueError, match="groupsToOverride is not a list"):
        trigger(load_event("pretoken_v2", groupConfiguration={"groupsToOverride": "tenant-acme"}))


# -- the Lambda entry point ------------------------------------------------------------


def test_handler_builds_once_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    store_settings: Settings,
    repository: Any,
    seed: Callable[..., None],
) -> None:
    """``handler`` builds its trigger from the environment once per container."""
    seed("tenant-acme", TENANT)
    monkeypatch.setenv("AUTHZ_TABLE", store_settings.table)
    monkeypatch.setenv("AUTHZ_DYNAMODB_ENDPOINT", str(store_settings.dynamodb_endpoint))
    pretoken.container.install(None)
    try:
        out = pretoken.handler(with_groups("pretoken_v2", ["tenant-acme"]), None)
        built = pretoken.container.current
        again = pretoken.handler(with_groups("pretoken_v2", ["tenant-acme"]), None)
        kept = pretoken.container.current
    finally:
        pretoken.container.install(None)

    assert built is not None
    assert kept is built
    assert out == again
    access = out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"claimsToAddOrOverride": {"tenant": "acme"}, "scopesToAdd": ["orders/read"]}
