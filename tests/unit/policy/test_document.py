"""PolicyDocument.from_dict: the policy grammar, error paths and messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given

from authz.errors import PolicyValidationError
from authz.policy import PolicyDocument, Statement
from tests.strategies import document_dicts

ARN = "arn:aws:execute-api:*:*:*/*/GET/orders/*"


def doc(**statement: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN}
    base.update(statement)
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in base.items() if v is not ...}]}


def problems(obj: object) -> list[dict[str, str]]:
    with pytest.raises(PolicyValidationError) as info:
        PolicyDocument.from_dict(obj)
    assert isinstance(info.value, ValueError)
    return info.value.errors


def only(obj: object) -> tuple[str, str]:
    found = problems(obj)
    assert len(found) == 1, found
    return found[0]["path"], found[0]["message"]


def test_valid_document_builds_statements_with_canonical_actions() -> None:
    """A valid document becomes tuples of statements with actions in canonical spelling."""
    d = PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": ["Execute-API:invoke"],
                    "Resource": [ARN],
                },
                {"Effect": "Deny", "Action": "*", "Resource": "*"},
            ],
        }
    )
    assert d.statements == (
        Statement(sid="Read", effect="Allow", actions=("execute-api:Invoke",), resources=(ARN,)),
        Statement(sid=None, effect="Deny", actions=("*",), resources=("*",)),
    )
    assert d.version == "2012-10-17"


def test_single_statement_object_and_string_fields_are_accepted() -> None:
    """IAM shorthands (one statement object, Action/Resource as strings) mean the list forms."""
    short = PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "execute-api:*", "Resource": ARN},
        }
    )
    long = PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["execute-api:*"], "Resource": [ARN]}],
        }
    )
    assert short == long


def test_documents_are_hashable_values() -> None:
    """Equal documents hash equal and can key dicts (the authorizer caches on them)."""
    a = PolicyDocument.from_dict(doc())
    b = PolicyDocument.from_dict(doc())
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1


def test_memo_builds_once_per_key_and_takes_no_part_in_equality() -> None:
    """memo calls build the first time a key is asked for, then returns that value;
    a document with memos stays equal (and hashes equal) to one without."""
    a = PolicyDocument.from_dict(doc())
    calls: list[str] = []

    def build(value: str) -> str:
        calls.append(value)
        return value

    assert a.memo("k", lambda: build("first")) == "first"
    assert a.memo("k", lambda: build("second")) == "first"
    assert a.memo("other", lambda: build("third")) == "third"
    assert calls == ["first", "third"]
    fresh = PolicyDocument.from_dict(doc())
    assert a == fresh
    assert hash(a) == hash(fresh)


def test_memo_remembers_falsy_values() -> None:
    """An empty or false value is remembered like any other (no rebuild)."""
    a = PolicyDocument.from_dict(doc())
    calls: list[int] = []

    def empty() -> frozenset[str]:
        calls.append(1)
        return frozenset()

    assert a.memo("empty", empty) == frozenset()
    assert a.memo("empty", empty) == frozenset()
    assert calls == [1]


def test_documents_are_immutable() -> None:
    """A document cannot be changed after validation."""
    d = PolicyDocument.from_dict(doc())
    with pytest.raises(AttributeError):
        d.statements = ()  # type: ignore[misc]


def test_to_dict_is_canonical() -> None:
    """to_dict always lists Statement, Action and Resource, and includes Sid only when set."""
    d = PolicyDocument.from_dict(
        {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": ARN}}
    )
    assert d.to_dict() == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": ["*"], "Resource": [ARN]}],
    }


@given(document_dicts(variables=True))
def test_round_trip(obj: dict[str, Any]) -> None:
    """from_dict(to_dict(d)) == d for every valid document, and to_dict is JSON-stable."""
    original = copy.deepcopy(obj)
    d = PolicyDocument.from_dict(obj)
    assert obj == original  # validation does not mutate its input
    assert PolicyDocument.from_dict(d.to_dict()) == d
    assert PolicyDocument.from_dict(d.to_dict()).to_dict() == d.to_dict()


# --- the document ---------------------------------------------------------------------


@pytest.mark.parametrize("obj", [[], "policy", 3, None, True])
def test_non_object_document_rejected_at_root(obj: object) -> None:
    """Anything but a JSON object is rejected with the root path ''."""
    path, message = only(obj)
    assert path == ""
    assert "must be a JSON object" in message


def test_missing_version() -> None:
    """A missing Version is reported at Version and says which value to add."""
    assert only({"Statement": doc()["Statement"]}) == (
        "Version",
        'required: add "Version": "2012-10-17"',
    )


@pytest.mark.parametrize("version", ["2008-10-17", "2012-10-18", 2012, None])
def test_wrong_version(version: object) -> None:
    """Only Version 2012-10-17 (the one with policy variables) is accepted."""
    path, message = only({**doc(), "Version": version})
    assert path == "Version"
    assert '"2012-10-17"' in message
    assert repr(version) in message


def test_missing_statement() -> None:
    """A document without Statement is reported at Statement."""
    path, message = only({"Version": "2012-10-17"})
    assert path == "Statement"
    assert message.startswith("required")


def test_empty_statement_list() -> None:
    """An empty Statement list is a mistake, not a deny-all policy."""
    assert only({"Version": "2012-10-17", "Statement": []}) == (
        "Statement",
        "must contain at least one statement",
    )


@pytest.mark.parametrize("value", ["Allow", 1, None])
def test_statement_of_wrong_type(value: object) -> None:
    """Statement must be an object or a list of objects."""
    path, message = only({"Version": "2012-10-17", "Statement": value})
    assert path == "Statement"
    assert "must be a statement object or a list" in message


def test_statement_item_not_an_object() -> None:
    """A list item that is not an object is reported at its index."""
    obj = doc()
    obj["Statement"].append("Allow")
    assert only(obj) == ("Statement[1]", "a statement must be an object, not a string")


@pytest.mark.parametrize("key", ["Id", "Statements", "version"])
def test_unknown_top_level_key(key: str) -> None:
    """Unknown keys at the top are rejected at their own path."""
    path, message = only({**doc(), key: "x"})
    assert path == key
    assert "unknown key" in message


def test_unknown_key_in_wrong_case_suggests_the_right_one() -> None:
    """A key that differs only in case names the key that was meant."""
    path, message = only(
        {"version": "2012-10-17", "Statement": doc()["Statement"], "Version": "2012-10-17"}
    )
    assert path == "version"
    assert "did you mean 'Version'" in message


# --- statements ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("NotAction", "list the actions in Action"),
        ("NotResource", "Deny statement"),
        ("Principal", "attached to"),
        ("NotPrincipal", "groups or scopes"),
        ("Condition", "Resource patterns"),
    ],
)
def test_unsupported_iam_elements(key: str, hint: str) -> None:
    """IAM elements an authorizer policy cannot use are rejected with what to do instead."""
    path, message = only(doc(**{key: {"a": "b"}}))
    assert path == f"Statement[0].{key}"
    assert f"{key} is not supported" in message
    assert hint in message


def test_unknown_statement_key() -> None:
    """An unknown statement key lists the allowed keys."""
    path, message = only(doc(Effects="Allow"))
    assert path == "Statement[0].Effects"
    assert "Sid, Effect, Action, Resource" in message


def test_statement_key_in_wrong_case() -> None:
    """'effect' is reported as a case mistake and the missing Effect is reported too."""
    found = problems(doc(Effect=..., effect="Allow"))
    assert {
        "path": "Statement[0].effect",
        "message": "unknown key 'effect': keys are case-sensitive, did you mean 'Effect'?",
    } in found
    assert {"path": "Statement[0].Effect", "message": 'required: "Allow" or "Deny"'} in found


def test_shorthand_statement_paths_have_no_index() -> None:
    """With a single statement object, paths are Statement.<key> (the real JSON path)."""
    obj = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Permit", "Action": "*", "Resource": ARN},
    }
    path, _ = only(obj)
    assert path == "Statement.Effect"


@pytest.mark.parametrize(
    ("effect", "hint"), [("allow", "write 'Allow'"), ("Permit", ""), (True, "")]
)
def test_bad_effect(effect: object, hint: str) -> None:
    """Effect must be exactly Allow or Deny; a case slip is named."""
    path, message = only(doc(Effect=effect))
    assert path == "Statement[0].Effect"
    assert 'must be "Allow" or "Deny"' in message
    assert hint in message


def test_missing_action_and_resource() -> None:
    """Action and Resource are both required, each reported at its own path."""
    found = problems(doc(Action=..., Resource=...))
    assert [e["path"] for e in found] == ["Statement[0].Action", "Statement[0].Resource"]


@pytest.mark.parametrize(
    "action",
    ["execute-api:Invoke", "EXECUTE-API:INVOKE", "Execute-API:invoke", "execute-api:*", "*"],
)
def test_supported_actions_case_insensitive(action: str) -> None:
    """The three actions that cover Invoke are accepted in any case."""
    assert PolicyDocument.from_dict(doc(Action=action)).statements[0].actions[0] in (
        "execute-api:Invoke",
        "execute-api:*",
        "*",
    )


@pytest.mark.parametrize(
    "action", ["execute-api:ManageConnections", "s3:GetObject", "execute-api:Inv*", ""]
)
def test_unsupported_actions(action: str) -> None:
    """Any other action is rejected at its list index with the supported ones named."""
    path, message = only(doc(Action=["execute-api:Invoke", action]))
    assert path == "Statement[0].Action[1]"
    assert "unsupported action" in message
    assert "execute-api:Invoke" in message


def test_empty_action_and_resource_lists() -> None:
    """Empty Action and Resource lists are rejected."""
    found = problems(doc(Action=[], Resource=[]))
    assert found == [
        {"path": "Statement[0].Action", "message": "must list at least one action"},
        {"path": "Statement[0].Resource", "message": "must list at least one resource"},
    ]


def test_non_string_items() -> None:
    """Non-string items in Action/Resource lists are reported at their index."""
    found = problems(doc(Action=["*", 3], Resource={"arn": ARN}))
    assert found == [
        {"path": "Statement[0].Action[1]", "message": "each action must be a string, not a number"},
        {
            "path": "Statement[0].Resource",
            "message": "must be a string or a list of strings, not an object",
        },
    ]


@pytest.mark.parametrize("sid", ["ReadOrders", "A1", "x" * 128])
def test_valid_sids(sid: str) -> None:
    """Sids of 1-128 ASCII letters and digits are kept."""
    assert PolicyDocument.from_dict(doc(Sid=sid)).statements[0].sid == sid


@pytest.mark.parametrize("sid", ["", "Read Orders", "read-orders", "x" * 129, "Ünïcode"])
def test_invalid_sids(sid: str) -> None:
    """Other Sids are rejected with the IAM rule stated."""
    path, message = only(doc(Sid=sid))
    assert path == "Statement[0].Sid"
    assert "letters and digits" in message


def test_sid_of_wrong_type() -> None:
    """A non-string Sid is rejected."""
    assert only(doc(Sid=5)) == ("Statement[0].Sid", "must be a string, not a number")


def test_duplicate_sids() -> None:
    """A repeated Sid is reported at the second use and names the first."""
    obj = doc(Sid="Same")
    obj["Statement"].append(dict(obj["Statement"][0]))
    path, message = only(obj)
    assert path == "Statement[1].Sid"
    assert "duplicate Sid 'Same'" in message
    assert "Statement[0]" in message


def test_every_problem_reported_at_once() -> None:
    """One run reports all problems across statements, in document order."""
    obj = {
        "Version": "2012-10-18",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket"},
            {
                "Effect": "Maybe",
                "Action": "*",
                "Resource": ["*", "arn:aws:execute-api:*:*:*/*/get/x"],
            },
        ],
    }
    assert [e["path"] for e in problems(obj)] == [
        "Version",
        "Statement[0].Action",
        "Statement[0].Resource",
        "Statement[1].Effect",
        "Statement[1].Resource[1]",
    ]


def test_error_message_lists_problems() -> None:
    """The exception text carries every path so a log line is enough to fix the file."""
    with pytest.raises(
        PolicyValidationError, match=r"Statement\[0\]\.Effect: .*Statement\[0\]\.Action"
    ):
        PolicyDocument.from_dict(doc(Effect="x", Action="y"))


def test_unknown_variable_rejected() -> None:
    """An unsupported policy variable is rejected at write time, listing the supported ones."""
    path, message = only(doc(Resource=[ARN, "arn:aws:execute-api:*:*:*/*/GET/users/${foo}"]))
    assert path == "Statement[0].Resource[1]"
    assert "unknown policy variable '${foo}'" in message
    assert "${claim:NAME}" in message


def test_unterminated_variable_rejected() -> None:
    """'${sub' without a closing brace is rejected."""
    path, message = only(doc(Resource="arn:aws:execute-api:*:*:*/*/GET/users/${sub"))
    assert path == "Statement[0].Resource"
    assert "unterminated policy variable" in message


def test_dollar_without_brace_is_literal() -> None:
    """A '$' not followed by '{' is an ordinary character, and no variable is recorded."""
    d = PolicyDocument.from_dict(doc(Resource="arn:aws:execute-api:*:*:*/*/GET/price$/x"))
    assert d.variables == frozenset()


def test_variables_property_lists_names_used() -> None:
    """doc.variables names every variable the Resources read (for cache keys)."""
    d = PolicyDocument.from_dict(
        doc(
            Resource=[
                "arn:aws:execute-api:*:*:*/*/GET/users/${sub}/${claim:custom:tenant}",
                "arn:aws:execute-api:*:*:*/*/GET/x/${username}/${sub}",
            ]
        )
    )
    assert d.variables == frozenset({"sub", "claim:custom:tenant", "username"})


def test_shorthand_problems_carry_their_json_paths_and_nothing_is_built() -> None:
    """Every bad shorthand (and template path) is reported at its own JSON path at once."""
    found = problems(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": [
                        "execute-api:/*/GET/ok",
                        "execute-api:/prod",
                        "execute-api:/*/GET/{id}",
                    ],
                },
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*/any/x",
                },
            ],
        }
    )
    assert [e["path"] for e in found] == [
        "Statement[0].Resource[1]",
        "Statement[0].Resource[2]",
        "Statement[1].Resource",
    ]
    assert "ends after the stage" in found[0]["message"]
    assert "route templates" in found[1]["message"]
    assert "HTTP method 'any' must be one of" in found[2]["message"]


def test_shorthand_flag_marks_documents_that_decide_per_api() -> None:
    """Caches key on the API and stage only for documents that use the shorthand."""
    assert PolicyDocument.from_dict(doc(Resource="execute-api:/*/GET/x")).shorthand
    assert not PolicyDocument.from_dict(doc()).shorthand
    assert not PolicyDocument.from_dict(doc(Resource="*")).shorthand


def test_deny_with_proxy_template_is_refused_instead_of_protecting_nothing() -> None:
    """Allow ``GET/*`` plus Deny ``GET/admin/{proxy+}`` would still allow ``GET /admin/users``
    (no methodArn holds ``{proxy+}``): the document is refused, naming the Deny's resource."""
    path, message = only(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*/GET/*",
                },
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*/GET/admin/{proxy+}",
                },
            ],
        }
    )
    assert path == "Statement[1].Resource"
    assert "write *" in message


def test_problems_are_listed_in_the_order_the_statement_writes_its_fields() -> None:
    """A report reads like the file: its fields top to bottom, missing required ones last."""
    raw = {"Resource": "x", "Condition": {}, "Action": "s3:Get", "Sid": 5}
    with pytest.raises(PolicyValidationError) as caught:
        PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": [raw]})
    paths = [e["path"] for e in caught.value.errors]
    assert paths == [
        "Statement[0].Resource",
        "Statement[0].Condition",
        "Statement[0].Action",
        "Statement[0].Sid",
        "Statement[0].Effect",
    ]
