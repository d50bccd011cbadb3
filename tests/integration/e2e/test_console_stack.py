"""The console in `authz dev`: served open through the local gateway, signed in locally."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from authz.dev.cognito import DEMO_PASSWORD
from authz.dev.describe import as_json, describe
from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.stack import DevStack, start_stack

pytestmark = pytest.mark.integration

POLICIES = Path(__file__).resolve().parents[3] / "policies"
SIGN_IN = "/local/sign-in"


@pytest.fixture(scope="module")
def stack(dynamodb_local: DynamoDBLocal) -> Iterator[DevStack]:
    s = start_stack(
        POLICIES,
        dynamodb_endpoint=dynamodb_local.endpoint,
        table=f"console-{uuid.uuid4().hex[:8]}",
        epoch_check_seconds=0.5,
    )
    yield s
    s.stop()


def sign_in(stack: DevStack, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(stack.base_url + SIGN_IN, json=body, timeout=10, **kwargs)


def test_authz_dev_prints_the_console_url_and_who_can_sign_in(stack: DevStack) -> None:
    """The description names the console's URL with the demo admin's credentials."""
    assert stack.console_url == stack.base_url + "/console"
    text = describe(stack)
    assert f"Console: {stack.console_url}   (sign in as admin / {DEMO_PASSWORD})" in text
    # Prominent: before the list of the other endpoints.
    assert text.index("Console:") < text.index("API Gateway (local)")
    assert as_json(stack)["console_url"] == stack.console_url


def test_the_console_page_needs_no_token(stack: DevStack) -> None:
    """GET /console is answered by the admin handler with no Authorization header, with its CSP."""
    page = requests.get(stack.console_url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    nonce = re.findall(r'<meta name="csp-nonce" content="([^"]+)">', page.text)
    assert len(nonce) == 1
    assert f"style-src 'self' 'nonce-{nonce[0]}'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_the_config_offers_the_local_sign_in(stack: DevStack) -> None:
    """In the dev stack the console signs in with a username and password form."""
    config = requests.get(stack.console_url + "/config.json", timeout=10)
    assert config.status_code == 200
    assert config.json() == {
        "signIn": "local",
        "tokenUse": "access",
        "hosted": None,
        "localSignInPath": SIGN_IN,
    }


def test_an_unknown_console_file_is_the_handlers_404_not_the_gateways(stack: DevStack) -> None:
    """Open routes reach the handler, which refuses any name outside its listing."""
    for name in ("missing.js", "..%2F..%2Fapp.py"):
        answer = requests.get(f"{stack.console_url}/{name}", timeout=10)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"


def test_data_calls_still_need_a_token(stack: DevStack) -> None:
    """Beside the open console, the admin API stays behind the authorizer. (The admin
    handler's own gate for every other resource is pinned in test_console_serving.)"""
    assert requests.get(stack.base_url + "/policies", timeout=10).status_code == 401
    assert requests.get(stack.base_url + "/openapi.json", timeout=10).status_code == 401


def test_a_user_with_a_temporary_password_is_told_to_finish_elsewhere(stack: DevStack) -> None:
    """Cognito's NEW_PASSWORD_REQUIRED challenge cannot be answered by the form: 401 naming it."""
    username = f"new-{uuid.uuid4().hex[:8]}"
    stack.cognito.client.admin_create_user(
        UserPoolId=stack.cognito.pool_id,
        Username=username,
        TemporaryPassword=DEMO_PASSWORD,
        MessageAction="SUPPRESS",
    )
    answer = sign_in(stack, {"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 401
    assert answer.json()["error"] == {
        "code": "not_authorized",
        "message": "this user must finish signing in elsewhere: NEW_PASSWORD_REQUIRED",
        "details": [],
    }


def test_a_body_without_a_length_or_too_large_is_refused_unread(stack: DevStack) -> None:
    """No Content-Length (chunked) is 411 and over 4 KB is 413, before Cognito is asked."""
    chunked = requests.post(
        stack.base_url + SIGN_IN,
        data=iter([b'{"username": "admin", "password": "x"}']),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 411
    large = sign_in(stack, {"username": "admin", "password": "x" * 5000})
    assert large.status_code == 413


def test_the_demo_admin_signs_in_and_the_token_opens_the_admin_api(stack: DevStack) -> None:
    """Username and password give an access token the authorizer accepts for admin routes."""
    answer = sign_in(stack, {"username": "admin", "password": DEMO_PASSWORD})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "id_token", "expires_in"}
    assert body["expires_in"] > 0
    policies = requests.get(
        stack.base_url + "/policies",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert policies.status_code == 200


def test_a_reader_signs_in_but_the_admin_api_refuses_them(stack: DevStack) -> None:
    """Signing in is not being an admin: the reader's token gets 403 on admin routes."""
    body = sign_in(stack, {"username": "reader", "password": DEMO_PASSWORD}).json()
    policies = requests.get(
        stack.base_url + "/policies",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert policies.status_code == 403


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin", "wrong-Passw0rd!"), ("nobody", DEMO_PASSWORD)],
)
def test_bad_credentials_are_401_worded_alike(
    stack: DevStack, username: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong password and an unknown user get the same 401, and the password is not logged."""
    # INFO and above: what the stack and its own loggers report (botocore's DEBUG
    # wire dump is its own opt-in and echoes every request).
    with caplog.at_level(logging.INFO):
        answer = sign_in(stack, {"username": username, "password": password})
    assert answer.status_code == 401
    assert answer.json()["error"] == {
        "code": "not_authorized",
        "message": "wrong username or password",
        "details": [],
    }
    assert password not in caplog.text


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"username": "admin"}',
        '{"username": "admin", "password": 1}',
        '{"username": "", "password": "x"}',
        '{"username": "admin", "password": "x", "extra": 1}',
    ],
)
def test_a_malformed_body_is_400(stack: DevStack, raw: str) -> None:
    """Anything but a JSON object of a username and a password is refused before Cognito."""
    answer = requests.post(
        stack.base_url + SIGN_IN,
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_form_post_is_refused(stack: DevStack) -> None:
    """Only JSON is taken: a cross-site form cannot post one without a CORS preflight."""
    answer = requests.post(
        stack.base_url + SIGN_IN,
        data={"username": "admin", "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 415


def test_only_post_signs_in(stack: DevStack) -> None:
    """GET on the sign-in path is 405 naming POST."""
    answer = requests.get(stack.base_url + SIGN_IN, timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


def test_the_trailing_slash_leads_back_to_the_page(stack: DevStack) -> None:
    """/console/ redirects relatively, landing on the stage's /console."""
    answer = requests.get(stack.console_url + "/", timeout=10, allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "../console"
    assert requests.compat.urljoin(stack.console_url + "/", "../console") == stack.console_url
