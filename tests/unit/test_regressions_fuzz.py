"""Regressions found by the fuzzers (tests/fuzz), each pinned where the bug lives.

Every file in ``tests/fuzz/corpus/<target>/`` is a reproducer the fuzzer
saved; ``test_fuzz_corpus_replays_clean`` feeds each one to its target's
``check`` (the same invariants the fuzzer enforces, no atheris engine, no
network). The named tests below state each bug as the behaviour the fix must
have, so a failure reads as the contract that is broken.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from authz.errors import PolicyValidationError, TokenSettingsError
from authz.policy import PolicyDocument
from authz.policy.arn import check_resource
from authz.token_settings import TokenSettings

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"

# Open findings, reported to the lead; each test is a strict xfail until the fix
# lands (then it passes, strict xfail fails, and the marker is removed).
OPEN: dict[str, str] = {}


def _open(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


def _reproducer(path: Path) -> Any:
    name = f"{path.parent.name}/{path.name}"
    reason = OPEN.get(name)
    return pytest.param(path, id=name, marks=[_open(reason)] if reason else [])


REPRODUCERS = sorted(p for p in CORPUS.glob("*/*") if p.is_file())


def _document(resource: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}],
    }


@pytest.mark.parametrize("path", [_reproducer(p) for p in REPRODUCERS])
def test_fuzz_corpus_replays_clean(path: Path) -> None:
    """Each saved fuzz reproducer now passes its target's invariants."""
    target = importlib.import_module(f"tests.fuzz.fuzz_{path.parent.name}")
    target.check(path.read_bytes())


def test_corpus_is_not_empty() -> None:
    """The regression corpus is found (a wrong path would make the replay vacuous)."""
    assert {p.parent.name for p in REPRODUCERS} >= {"policy", "admin"}


# -- authz/policy/arn.py -------------------------------------------------------------


# Found by the policy target: check_resource('arn:aws:execute-api') raised IndexError
# (authz/policy/arn.py, parts[-1] of an empty list) out of PolicyDocument.from_dict.
@pytest.mark.parametrize("resource", ["arn:aws:execute-api", "arn:aws-cn:execute-api"])
def test_resource_ending_after_the_service_is_a_validation_error(resource: str) -> None:
    """An ARN that stops right after ``execute-api`` is reported, not an IndexError."""
    assert check_resource(resource)
    with pytest.raises(PolicyValidationError) as caught:
        PolicyDocument.from_dict(_document(resource))
    assert caught.value.errors[0]["path"] == "Statement[0].Resource"


# Found by the policy and admin targets: a Resource holding a lone surrogate validated,
# then DynamoRepository.put could not encode it (admin 500).
@pytest.mark.parametrize("char", [chr(0xD800), chr(0xDFFF)], ids=["D800", "DFFF"])
def test_resource_with_a_lone_surrogate_is_a_validation_error(char: str) -> None:
    """A Resource that is not valid Unicode (cannot be stored or returned) is rejected."""
    with pytest.raises(PolicyValidationError):
        PolicyDocument.from_dict(_document(f"arn:aws:execute-api:*:*:*/*/GET/{char}"))


# -- authz/token_settings.py --------------------------------------------------


# Found by the policy target: TokenSettings.from_dict raised UnicodeEncodeError on a
# claim string holding a lone surrogate (authz/token_settings.py).
@pytest.mark.parametrize(
    "settings",
    [{"claims": {"tenant": "a\ud800"}}, {"claims": {"tags": ["\udfff"]}}],
    ids=["value", "list-item"],
)
def test_token_claim_with_a_lone_surrogate_is_a_settings_error(settings: Any) -> None:
    """A claim value that is not valid Unicode is a TokenSettingsError, not UnicodeEncodeError."""
    with pytest.raises(TokenSettingsError):
        TokenSettings.from_dict(settings)


# -- authz/handlers/admin/app.py, admin_http.py ------------------------------------------


def _admin_event(body: str | None, **overrides: Any) -> dict[str, Any]:
    template = Path(__file__).resolve().parents[1] / "events" / "admin_put_policy.json"
    event: dict[str, Any] = copy.deepcopy(json.loads(template.read_text()))
    event["headers"].pop("If-Match")
    event["multiValueHeaders"].pop("If-Match")
    event["path"] = "/policies/group/readers"
    event["pathParameters"] = {"proxy": "policies/group/readers"}
    event["body"] = body
    event.update(overrides)
    return event


def _admin(event: dict[str, Any]) -> dict[str, Any]:
    from tests.fuzz.fuzz_admin import state

    fuzz = state()
    fuzz.repository.reset()
    response: dict[str, Any] = fuzz.app(event, None)
    return response


# Found by the admin target: body_size encoded the body strictly, so a lone surrogate
# raised UnicodeEncodeError out of AdminApp.__call__ (authz/handlers/admin/http.py).
def test_admin_body_with_a_lone_surrogate_is_answered_not_raised() -> None:
    """A body string that is not valid Unicode gets a 4xx response; nothing is raised."""
    response = _admin(_admin_event('{"document": "\udfff"}'))
    assert 400 <= response["statusCode"] < 500


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"document": _document(["arn:aws:execute-api:*:*:*/*/GET/\ud800"])},
            id="resource-surrogate",
        ),
        pytest.param(
            {"document": _document(["*"]), "token": {"claims": {"tenant": "a\ud800"}}},
            id="token-claim-surrogate",
        ),
        pytest.param(
            {"document": _document("arn:aws:execute-api")},
            id="resource-ends-after-service",
        ),
    ],
)
def test_admin_put_of_an_invalid_policy_is_400_not_500(body: Any) -> None:
    """A client's invalid document or token settings are a 400 with details, never a 500."""
    response = _admin(_admin_event(json.dumps(body)))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["details"]


# Found by the admin target: a base64 body that is not UTF-8 made Powertools raise
# UnicodeDecodeError (admin 500).
def test_admin_base64_body_that_is_not_utf8_is_4xx() -> None:
    """A binary (base64) body that is not UTF-8 JSON is a client error, not a 500."""
    body = base64.b64encode(b"\xff\xfe{}").decode()
    response = _admin(_admin_event(body, isBase64Encoded=True))
    assert 400 <= response["statusCode"] < 500


# Found by the admin target: events without httpMethod/path reached Powertools, which
# raised KeyError/TypeError out of the handler.
@pytest.mark.parametrize("missing", ["httpMethod", "path"])
def test_admin_event_without_method_or_path_is_answered_not_raised(missing: str) -> None:
    """An event that is not a REST proxy event gets an error response; nothing is raised."""
    event = _admin_event(None)
    del event[missing]
    response = _admin(event)
    assert 400 <= response["statusCode"] < 600
    assert "error" in json.loads(response["body"])


# Found by the admin target: canonical_event quoted a path parameter holding a lone
# surrogate and raised UnicodeEncodeError out of the handler.
def test_admin_path_parameter_with_a_lone_surrogate_is_answered_not_raised() -> None:
    """A decoded path parameter that is not valid Unicode gets a 4xx; nothing is raised."""
    event = _admin_event(
        None,
        httpMethod="GET",
        path="/policies/group/%ED%BF%BF",
        resource="/policies/{kind}/{name}",
        pathParameters={"kind": "group", "name": "\udfff"},
    )
    response = _admin(event)
    assert 400 <= response["statusCode"] < 500


def test_admin_caller_name_with_a_lone_surrogate_writes_nothing_and_is_4xx() -> None:
    """A caller name that cannot be recorded is refused before any write, never a 500."""
    event = _admin_event(json.dumps({"document": _document(["*"])}))
    event["requestContext"]["authorizer"]["username"] = "a\udfffice"
    response = _admin(event)
    assert 400 <= response["statusCode"] < 500


# -- tests/fuzz/fuzz_token.py (the oracle itself) -------------------------------------


# Found as a flaky CI run: the token target's oracle accepted only the original issuer
# spelling, so a seed that mutated iss into the multi-region spelling (a string in the
# fuzzer's own dictionary) reported a "foreign issuer" the verifier rightly accepts.
def test_token_oracle_accepts_the_multi_region_issuer_format() -> None:
    """A token from the pool's ``issuer-cognito-idp`` host verifies and the oracle agrees."""
    from tests.fuzz.common import NOW
    from tests.fuzz.fuzz_token import oracle, state
    from tests.tokens import ISSUER, access_claims, mint

    issuer = ISSUER.replace("https://cognito-idp.", "https://issuer-cognito-idp.")
    fuzz = state()
    token = mint(access_claims(issuer, now=NOW - 60, jti="j"), fuzz.key)
    for verifier in (fuzz.access, fuzz.lenient):
        oracle(token, verifier.verify(token), verifier)


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param("https://issuer-cognito-idp.us-east-1.amazonaws.com/other_pool", id="pool"),
        pytest.param("https://evil-cognito-idp.us-east-1.amazonaws.com/x", id="host"),
    ],
)
def test_token_oracle_still_refuses_an_issuer_outside_the_pool(issuer: str) -> None:
    """The oracle's wider issuer set is the pool's two spellings, nothing else."""
    from tests.fuzz.common import NOW, Finding
    from tests.fuzz.fuzz_token import POOL_ISSUERS, oracle, state
    from tests.tokens import ISSUER, access_claims, mint

    fuzz = state()
    assert issuer not in POOL_ISSUERS
    assert ISSUER in POOL_ISSUERS
    token = mint(access_claims(issuer, now=NOW - 60, jti="j"), fuzz.key)
    principal = fuzz.access.verify(mint(access_claims(now=NOW - 60, jti="j"), fuzz.key))
    with pytest.raises(Finding, match="foreign issuer"):
        oracle(token, principal, fuzz.access)


# -- authz/handlers/admin/http.py, authz/store/cursor.py: hostile nesting -------------


# Found by issue report, then reached by the admin target's nested bodies: a body
# thousands of levels deep raised RecursionError out of the handler (the lone
# surrogate escape sent it through _surrogate_paths), and other deep bodies were 500s.
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 2000 + '"\ud800"' + "]" * 2000, id="deep-raw-surrogate"),
        pytest.param("[" * 2000 + '"\\ud800"' + "]" * 2000, id="deep-escaped-surrogate"),
        pytest.param('{"document":' * 3000 + "1" + "}" * 3000, id="deep-objects"),
        pytest.param("[" * 5000, id="deep-unbalanced"),
    ],
)
def test_admin_deeply_nested_body_is_400_not_recursion_error(body: str) -> None:
    """A body nested past the limit is a 400 with the error shape; nothing is raised."""
    response = _admin(_admin_event(body))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_body"


# Found with the nested cursors: a `next` cursor of 1500 nested arrays (4000 base64
# characters, under the query limit) raised RecursionError in json.loads: 500.
def test_admin_deeply_nested_cursor_is_400_not_500() -> None:
    """A deep `next` cursor is an invalid cursor (400), never a 500."""
    cursor = base64.urlsafe_b64encode(("[" * 1500 + "]" * 1500).encode()).decode().rstrip("=")
    event = _admin_event(
        None,
        httpMethod="GET",
        path="/policies",
        resource="/{proxy+}",
        pathParameters={"proxy": "policies"},
        queryStringParameters={"next": cursor},
        multiValueQueryStringParameters={"next": [cursor]},
    )
    response = _admin(event)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_cursor"


def test_cursor_decoder_refuses_nesting_without_recursing() -> None:
    """authz/store/cursor.py: any nesting is a CursorError, however deep."""
    from authz.errors import CursorError
    from authz.store.cursor import decode, encode

    assert decode(encode({"after": "group:[x]"}), required={"after": str}) == {"after": "group:[x]"}
    for text in ("[" * 3000 + "]" * 3000, '{"after":"g","x":[1]}'):
        cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        with pytest.raises(CursorError):
            decode(cursor, required={"after": str})
