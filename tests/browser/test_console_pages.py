"""The console's pages, driven as an admin drives them: by role, label and text only.

Each test that writes uses policy names of its own, so the tests pass in any order and
share one dev stack. Where a page is in a state worth showing, the test writes its
screenshot to docs/console/.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, Route, expect

from authz.dev.cognito import DEMO_PASSWORD
from authz.dev.stack import DevStack

SignIn = Callable[..., None]
Screenshot = Callable[[Page, str], Path]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _with_sid(sid: str, effect: str = "Allow") -> dict[str, Any]:
    """A one-statement policy that reads orders, told apart by its Sid."""
    statement = {
        "Sid": sid,
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": ["execute-api:/*/GET/orders"],
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


READ_ORDERS = _with_sid("ReadOrders")


def _api(stack: DevStack, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.token_for('admin')}", **kw.pop("headers", {})}
    return requests.request(method, stack.base_url + path, headers=headers, timeout=30, **kw)


def _put_group(stack: DevStack, name: str, document: dict[str, Any], **headers: str) -> int:
    """Write group:NAME through the admin API; its new version."""
    answer = _api(
        stack,
        "PUT",
        f"/policies/group/{quote(name, safe='')}",
        json={"document": document, "description": f"made by {name}"},
        headers=headers or {"If-None-Match": "*"},
    )
    assert answer.status_code in (200, 201), answer.text
    return int(answer.json()["version"])


def _stored(stack: DevStack, name: str) -> dict[str, Any]:
    answer = _api(stack, "GET", f"/policies/group/{quote(name, safe='')}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _set_text(editor: Locator, text: str) -> None:
    """Replace a CodeMirror editor's whole text, as typing would."""
    editor.fill(text)
    expect(editor).to_contain_text(text.splitlines()[-1])


def _open_policy(page: Page, name: str) -> None:
    """From the nav, find the policy by name and open its editor."""
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Policies").click()
    page.get_by_role("searchbox", name="Search by name").fill(name)
    page.get_by_role("table", name="Policies").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=f"group {name}", exact=True)).to_be_visible()
    expect(page.get_by_text("Version ", exact=False).first).to_be_visible()


@pytest.fixture
def group_name(stack: DevStack) -> Iterator[Callable[[str], str]]:
    """``group_name("edit")`` -> a fresh group name; its policy is deleted after the test,
    so the shared stack's list and matrix hold only the demo policies for the next one."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(_unique(prefix))
        return made[-1]

    yield make
    for name in made:
        answer = _api(stack, "DELETE", f"/policies/group/{quote(name, safe='')}")
        assert answer.status_code in (200, 404), answer.text


@pytest.fixture
def csp_violations(page: Page) -> Iterator[list[str]]:
    """What the browser refused under the page's CSP; none may be refused (CodeMirror's
    injected styles carry the nonce, and the app sets no style attributes)."""
    refused: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", record)
    yield refused
    assert not refused, refused


def test_sign_in_refuses_a_wrong_password_then_signs_in(
    page: Page, console_url: str, screenshot: Screenshot, csp_violations: list[str]
) -> None:
    """A wrong password is an alert on the form; the right one opens the console as admin."""
    page.goto(console_url)
    expect(page).to_have_title("authz console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    nav = page.get_by_role("navigation", name="Console")
    for name in ("Policies", "Simulator", "Access matrix", "Revocations"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_text("Signed in as admin")).to_be_visible()
    expect(page.get_by_role("heading", name="Policies")).to_be_visible()


def test_a_non_admin_is_sent_back_to_sign_in(page: Page, console_url: str) -> None:
    """A reader signs in, but the admin API refuses the token (403): the console says why."""
    page.goto(console_url)
    page.get_by_role("textbox", name="Username").fill("reader")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("may not use the admin API")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()


def test_policies_filter_by_kind_and_search_by_name(
    page: Page, sign_in: SignIn, screenshot: Screenshot, csp_violations: list[str]
) -> None:
    """The list holds every kind; the kind filter and the name search narrow it."""
    sign_in(page)
    table = page.get_by_role("table", name="Policies")
    expect(table.get_by_role("link", name="readers", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="orders/read", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="default", exact=True)).to_be_visible()
    screenshot(page, "policies")

    page.get_by_role("combobox", name="Kind").select_option(label="scope")
    expect(table.get_by_role("link", name="orders/read", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="readers", exact=True)).to_have_count(0)

    page.get_by_role("combobox", name="Kind").select_option(label="All kinds")
    page.get_by_role("searchbox", name="Search by name").fill("writ")
    expect(table.get_by_role("link", name="writers", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="readers", exact=True)).to_have_count(0)

    # A scope's name holds a slash; its editor is reached all the same.
    page.get_by_role("searchbox", name="Search by name").fill("orders/")
    table.get_by_role("link", name="orders/read", exact=True).click()
    expect(page.get_by_role("heading", name="scope orders/read", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Policy document")).to_contain_text("execute-api")


@pytest.mark.usefixtures("csp_violations")
def test_edit_and_save_a_policy(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    screenshot: Screenshot,
) -> None:
    """Check shows the impact before saving; Save sends If-Match and a reload shows version 2."""
    name = group_name("edit")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    expect(page.get_by_text("Version 1,")).to_be_visible()

    edited = json.dumps(_with_sid("ReadOrdersEdited"), indent=2).replace(
        '"execute-api:/*/GET/orders"', '"execute-api:/*/GET/orders", "execute-api:/*/POST/orders"'
    )
    _set_text(page.get_by_role("textbox", name="Policy document"), edited)
    page.get_by_role("textbox", name="Description").fill("reads and creates orders")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("region", name="Problems")).to_contain_text("No problems.")
    impact = page.get_by_role("region", name="Impact")
    expect(impact).to_contain_text(f"group:{name}")
    expect(impact).to_contain_text("POST /orders")
    assert _stored(stack, name)["version"] == 1  # a check writes nothing
    screenshot(page, "editor")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved version 2")
    page.reload()
    expect(page.get_by_text("Version 2,")).to_be_visible()
    expect(page.get_by_role("textbox", name="Policy document")).to_contain_text("ReadOrdersEdited")
    expect(page.get_by_role("textbox", name="Description")).to_have_value(
        "reads and creates orders"
    )
    stored = _stored(stack, name)
    assert stored["version"] == 2
    assert stored["document"]["Statement"][0]["Sid"] == "ReadOrdersEdited"


def test_token_settings_are_saved_with_the_policy(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    csp_violations: list[str],
) -> None:
    """The second editor holds the group's token settings; empty means none."""
    name = group_name("token")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    _set_text(
        page.get_by_role("textbox", name="Token settings"),
        '{"scopes": ["orders/read"], "claims": {"tenant": "acme"}}',
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved version 2")
    assert _stored(stack, name)["token"] == {
        "scopes": ["orders/read"],
        "claims": {"tenant": "acme"},
    }


def test_a_validation_error_is_shown_at_its_json_path(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    csp_violations: list[str],
) -> None:
    """An invalid Effect is reported at document.Statement[0].Effect, by Check and by Save."""
    name = group_name("invalid")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    _set_text(
        page.get_by_role("textbox", name="Policy document"),
        json.dumps(_with_sid("Broken", effect="Maybe"), indent=2),
    )
    problems = page.get_by_role("region", name="Problems")
    page.get_by_role("button", name="Check").click()
    expect(problems.get_by_role("listitem")).to_have_count(1)
    expect(problems.get_by_role("listitem")).to_contain_text("document.Statement[0].Effect: ")

    # Save hides the regions at once, so this waits for the 400 itself.
    page.get_by_role("button", name="Save").click()
    expect(problems.get_by_role("listitem")).to_contain_text("document.Statement[0].Effect: ")
    assert _stored(stack, name)["version"] == 1

    # Text that is not JSON at all never leaves the page.
    _set_text(page.get_by_role("textbox", name="Policy document"), '{"Version": ')
    page.get_by_role("button", name="Save").click()
    expect(problems).to_contain_text("document: not valid JSON")


def test_a_new_policy_is_created_once(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    csp_violations: list[str],
) -> None:
    """New policy creates with If-None-Match: *; the editor then shows version 1."""
    name = group_name("new")
    sign_in(page)
    page.get_by_role("link", name="New policy").click()
    expect(page.get_by_role("heading", name="New policy")).to_be_visible()
    page.get_by_role("combobox", name="Kind").select_option("group")
    page.get_by_role("textbox", name="Name").fill(name)
    _set_text(
        page.get_by_role("textbox", name="Policy document"),
        json.dumps(_with_sid("Fresh"), indent=2),
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=f"group {name}", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved version 1")
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "Fresh"


def test_a_concurrent_edit_shows_what_changed_meanwhile(
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
) -> None:
    """Two admins edit one policy: the second save is refused (412) with a diff, and
    Reload latest puts the stored version in the editor so the next save succeeds."""
    name = group_name("race")
    _put_group(stack, name, READ_ORDERS)
    first = new_context().new_page()
    second = new_context().new_page()
    for page in (first, second):
        sign_in(page)
        _open_policy(page, name)

    _set_text(
        first.get_by_role("textbox", name="Policy document"),
        json.dumps(_with_sid("FirstWins"), indent=2),
    )
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("status")).to_have_text("Saved version 2")

    _set_text(
        second.get_by_role("textbox", name="Policy document"),
        json.dumps(_with_sid("SecondLoses"), indent=2),
    )
    second.get_by_role("button", name="Save").click()
    changed = second.get_by_role("region", name="Changed meanwhile")
    expect(changed).to_be_visible()
    diff = changed.get_by_role("table")
    expect(diff.get_by_role("columnheader", name="Version 2 (stored)")).to_be_visible()
    expect(diff.get_by_role("columnheader", name="Your text")).to_be_visible()
    expect(diff).to_contain_text("FirstWins")
    expect(diff).to_contain_text("SecondLoses")
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "FirstWins"

    changed.get_by_role("button", name="Reload latest").click()
    expect(changed).to_be_hidden()
    editor = second.get_by_role("textbox", name="Policy document")
    expect(editor).to_contain_text("FirstWins")
    expect(second.get_by_text("Version 2,")).to_be_visible()
    _set_text(editor, json.dumps(_with_sid("SecondAfterReload"), indent=2))
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("status")).to_have_text("Saved version 3")


def test_a_lock_out_asks_before_saving(
    page: Page, sign_in: SignIn, stack: DevStack, csp_violations: list[str]
) -> None:
    """Emptying the admin group's policy is refused (409) and offers the override;
    nothing is written until it is checked (this test never checks it)."""
    sign_in(page)
    page.get_by_role("searchbox", name="Search by name").fill("authz-admins")
    page.get_by_role("link", name="authz-admins", exact=True).click()
    expect(page.get_by_role("heading", name="group authz-admins")).to_be_visible()
    expect(page.get_by_role("textbox", name="Policy document")).to_contain_text("AdminApi")
    version = _stored(stack, "authz-admins")["version"]
    _set_text(
        page.get_by_role("textbox", name="Policy document"),
        json.dumps(_with_sid("OnlyOrders"), indent=2),
    )
    override = page.get_by_role("checkbox", name="Save even if admins lose access")
    expect(override).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Admin lock-out")).to_contain_text("/policies")
    expect(override).to_be_visible()
    expect(override).not_to_be_checked()
    assert _stored(stack, "authz-admins")["version"] == version


@pytest.mark.usefixtures("csp_violations")
def test_restore_a_version_from_history(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    screenshot: Screenshot,
) -> None:
    """History compares two versions side by side and restores an old one as a new version."""
    name = group_name("restore")
    _put_group(stack, name, _with_sid("VersionOne"))
    _put_group(stack, name, _with_sid("VersionTwo"), **{"If-Match": '"1"'})
    sign_in(page)
    _open_policy(page, name)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name=f"History of group {name}")).to_be_visible()
    entries = page.get_by_role("table", name="History")
    expect(entries.get_by_role("row")).to_have_count(3)  # the header and two entries

    page.get_by_role("button", name="Compare with previous (version 2)").click()
    diff = page.get_by_role("region", name="Diff")
    expect(diff.get_by_role("columnheader", name="Version 1")).to_be_visible()
    expect(diff.get_by_role("columnheader", name="Version 2")).to_be_visible()
    expect(diff).to_contain_text("VersionOne")
    expect(diff).to_contain_text("VersionTwo")
    screenshot(page, "history")

    # The current version has nothing to restore.
    expect(page.get_by_role("button", name="Restore version 2")).to_have_count(0)
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("status")).to_have_text("Restored version 1 as version 3")
    expect(entries.get_by_role("row")).to_have_count(4)
    stored = _stored(stack, name)
    assert (stored["version"], stored["document"]["Statement"][0]["Sid"]) == (3, "VersionOne")


def test_simulate_allow_and_deny(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    screenshot: Screenshot,
    csp_violations: list[str],
) -> None:
    """A reader may GET an order, an intern may not DELETE one (explicit Deny); a pasted
    token is verified and decided the same way."""
    sign_in(page)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Simulator").click()
    decision = page.get_by_role("region", name="Decision")

    page.get_by_role("radio", name="Principal").check()
    page.get_by_role("textbox", name="Groups").fill("readers")
    page.get_by_role("combobox", name="Method").select_option("GET")
    page.get_by_role("textbox", name="Path").fill("/orders/42")
    page.get_by_role("button", name="Simulate").click()
    expect(decision).to_contain_text("Allow")
    expect(page.get_by_role("region", name="Explanation")).to_contain_text("group:readers")
    expect(page.get_by_role("region", name="Effective policy")).to_contain_text("GET/orders/*")
    screenshot(page, "simulator")

    page.get_by_role("textbox", name="Groups").fill("writers, interns")
    page.get_by_role("combobox", name="Method").select_option("DELETE")
    page.get_by_role("button", name="Simulate").click()
    expect(decision).to_contain_text("Deny")
    expect(decision).not_to_contain_text("Allow")
    expect(page.get_by_role("region", name="Explanation")).to_contain_text("group:interns")

    page.get_by_role("radio", name="Token").check()
    page.get_by_role("textbox", name="Token").fill(stack.token_for("reader"))
    page.get_by_role("combobox", name="Method").select_option("GET")
    page.get_by_role("button", name="Simulate").click()
    expect(decision).to_contain_text("Allow")
    page.get_by_role("combobox", name="Method").select_option("POST")
    page.get_by_role("textbox", name="Path").fill("/orders")
    page.get_by_role("button", name="Simulate").click()
    expect(decision).to_contain_text("Deny")


def test_the_matrix_is_colour_coded(
    page: Page, sign_in: SignIn, screenshot: Screenshot, csp_violations: list[str]
) -> None:
    """Each cell says allow or deny in words and in colour: readers may GET orders,
    not DELETE them; interns meet an explicit Deny."""
    sign_in(page)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Access matrix").click()
    expect(page.get_by_role("heading", name="Access matrix")).to_be_visible()
    matrix = page.get_by_role("table", name="Access matrix")
    expect(matrix.get_by_role("columnheader", name="GET /orders/{id}")).to_be_visible()
    routes = matrix.get_by_role("columnheader").all_inner_texts()

    def cell(subject: str, route: str) -> Locator:
        row = matrix.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=subject, exact=True)
        )
        return row.get_by_role("cell").nth(routes.index(route) - 1)

    allowed = cell("group:readers", "GET /orders/{id}")
    denied = cell("group:readers", "DELETE /orders/{id}")
    explicit = cell("group:interns", "DELETE /orders/{id}")
    expect(allowed).to_contain_text("allow")
    expect(allowed).to_have_class("cell cell-allow")
    expect(denied).to_contain_text("deny")
    expect(denied).to_have_class("cell cell-deny")
    expect(explicit).to_contain_text("explicit-deny")
    expect(explicit).to_have_class("cell cell-explicit-deny")
    colours = {
        c.evaluate("el => getComputedStyle(el).backgroundColor")
        for c in (allowed, denied, explicit)
    }
    assert len(colours) == 3, colours
    expect(page.get_by_role("list", name="Legend")).to_contain_text("explicit-deny")
    screenshot(page, "matrix")


def _status_of(stack: DevStack, token: str) -> int:
    answer = requests.get(
        stack.base_url + "/orders/42", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return answer.status_code


def _eventually(stack: DevStack, token: str, status: int) -> None:
    """The authorizer sees a write within its epoch check; poll instead of sleeping blind."""
    deadline = time.monotonic() + 15
    while _status_of(stack, token) != status:
        assert time.monotonic() < deadline, f"never answered {status}"
        time.sleep(0.25)


def test_revoke_a_user_then_undo(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    screenshot: Screenshot,
    csp_violations: list[str],
) -> None:
    """Revoking a user's sub turns their valid token into a 401; Undo lets it through again."""
    username = _unique("user")
    stack.cognito.create_user(username, groups=["readers"])
    token = stack.cognito.tokens(username)["access"]
    sub = next(
        a["Value"]
        for a in stack.cognito.client.admin_get_user(
            UserPoolId=stack.cognito.pool_id, Username=username
        )["UserAttributes"]
        if a["Name"] == "sub"
    )
    assert _status_of(stack, token) == 200

    sign_in(page)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Revocations").click()
    page.get_by_role("combobox", name="Kind").select_option("sub")
    page.get_by_role("textbox", name="Value").fill(sub)
    page.get_by_role("textbox", name="Reason").fill("laptop lost")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text(f"Revoked sub:{sub}")
    live = page.get_by_role("table", name="Live revocations")
    expect(live).to_contain_text("laptop lost")
    _eventually(stack, token, 401)
    screenshot(page, "revocations")

    page.get_by_role("button", name=f"Undo sub:{sub}").click()
    expect(page.get_by_role("status")).to_have_text(f"Lifted sub:{sub}")
    expect(page.get_by_role("button", name=f"Undo sub:{sub}")).to_have_count(0)
    _eventually(stack, token, 200)


def test_sign_out_returns_to_sign_in(page: Page, sign_in: SignIn) -> None:
    """Sign out leaves the console; the next visit asks for a sign-in again."""
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Console")).to_have_count(0)


def test_an_expired_session_returns_to_sign_in(page: Page, sign_in: SignIn) -> None:
    """An hour later the token has expired: the next page asks for a sign-in, saying why."""
    page.clock.install()
    sign_in(page)
    expect(page.get_by_role("table", name="Policies")).to_contain_text("readers")
    page.clock.fast_forward("01:00:00")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your session has expired. Sign in again.")


HOSTED = "https://auth.example.test"


def _b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _redirect(route: Route, location: str) -> None:
    """Send the browser back as the hosted UI does. A refresh, not a 302: Playwright
    does not route a followed redirect, and the page back must go through ``_as_hosted``."""
    assert '"' not in location
    page = f'<meta http-equiv="refresh" content="0;url={location}">'
    route.fulfill(content_type="text/html", body=page)


def _as_hosted(page: Page, console_url: str) -> None:
    """Serve the console as a deployment with the hosted UI configured would: its
    config names the domain, and its CSP lets the page reach the token endpoint."""
    path = urlsplit(console_url).path

    def config(route: Route) -> None:
        hosted = {"domain": HOSTED, "clientId": "console-client"}
        body = {"signIn": "hosted", "tokenUse": "access", "hosted": hosted, "localSignInPath": None}
        route.fulfill(json=body)

    def index(route: Route) -> None:
        response = route.fetch()
        csp = response.headers["content-security-policy"]
        assert "connect-src 'self';" in csp
        widened = csp.replace("connect-src 'self'", f"connect-src 'self' {HOSTED}")
        headers = {**response.headers, "content-security-policy": widened}
        route.fulfill(response=response, headers=headers)

    page.route(console_url + "/config.json", config)
    page.route(lambda url: urlsplit(url).path == path, index)


def test_hosted_sign_in_uses_pkce_and_drops_the_code_from_the_url(
    page: Page, console_url: str, stack: DevStack, csp_violations: list[str]
) -> None:
    """The hosted UI is asked for a code with an S256 challenge; the code is exchanged with
    the matching verifier, and neither code nor state stays in the address bar."""
    _as_hosted(page, console_url)
    seen: dict[str, dict[str, list[str]]] = {}

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = query
        _redirect(route, f"{query['redirect_uri'][0]}?code=the-code&state={query['state'][0]}")

    def token(route: Route) -> None:
        seen["token"] = parse_qs(route.request.post_data or "")
        body = {"access_token": stack.token_for("admin"), "id_token": "unused", "expires_in": 3600}
        route.fulfill(json=body, headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"{HOSTED}/oauth2/authorize?*", authorize)
    page.route(f"{HOSTED}/oauth2/token", token)
    page.goto(console_url)
    page.get_by_role("button", name="Sign in with Cognito").click()
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    expect(page.get_by_role("table", name="Policies")).to_contain_text("readers")

    asked, exchanged = seen["authorize"], seen["token"]
    assert asked["client_id"] == ["console-client"]
    assert asked["redirect_uri"] == [console_url]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["code_challenge"] == [_b64url_sha256(exchanged["code_verifier"][0])]
    assert exchanged["grant_type"] == ["authorization_code"]
    assert exchanged["code"] == ["the-code"]
    assert exchanged["redirect_uri"] == [console_url]
    assert "code=" not in page.url
    assert "state=" not in page.url


def test_hosted_sign_in_refuses_an_answer_with_another_state(page: Page, console_url: str) -> None:
    """A code that comes back with a state this tab did not send is never exchanged."""
    _as_hosted(page, console_url)
    exchanged: list[str] = []

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        _redirect(route, f"{query['redirect_uri'][0]}?code=stolen&state=forged")

    page.route(f"{HOSTED}/oauth2/authorize?*", authorize)
    page.route(f"{HOSTED}/oauth2/token", lambda route: exchanged.append(route.request.url))
    page.goto(console_url)
    page.get_by_role("button", name="Sign in with Cognito").click()
    expect(page.get_by_role("alert")).to_contain_text("state mismatch")
    expect(page.get_by_role("button", name="Sign in with Cognito")).to_be_visible()
    assert "code=" not in page.url
    assert exchanged == []
