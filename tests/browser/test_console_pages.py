"""The console's pages, driven as an admin drives them: by role, label and text only.

Each test that writes uses policy names of its own, so the tests pass in any order and
share one dev stack. Where a page is in a state worth showing, the test takes its
screenshot (into a temporary folder; `make screenshots` points it at docs/console/).
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
from authz.policy.selector import Selector
from authz.store import DynamoRepository

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


def _set_text(editor: Locator, text: str, marker: str) -> None:
    """Replace a CodeMirror editor's whole text, as typing would; returns once ``marker``
    (something only the new text holds, such as a fresh Sid) shows in the editor."""
    assert marker in text, f"{marker!r} is not in the text: it would prove nothing"
    editor.fill(text)
    expect(editor).to_contain_text(marker)


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
    _set_text(page.get_by_role("textbox", name="Policy document"), edited, "ReadOrdersEdited")
    page.get_by_role("textbox", name="Description").fill("reads and creates orders")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("region", name="Problems")).to_contain_text("No problems.")
    impact = page.get_by_role("region", name="Impact")
    expect(impact).to_contain_text(f"group:{name}")
    expect(impact).to_contain_text("POST /orders")
    assert _stored(stack, name)["version"] == 1  # a check writes nothing
    screenshot(page, "editor")

    # The change widens access, so Save asks again before it writes.
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Confirm save").click()
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
    """The second editor holds the group's token settings; empty means none. A change that
    neither warns nor changes the access matrix is saved at once, with no confirmation."""
    name = group_name("token")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    _set_text(
        page.get_by_role("textbox", name="Token settings"),
        '{"scopes": ["orders/read"], "claims": {"tenant": "acme"}}',
        "acme",
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
        "Broken",
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
    editor = page.get_by_role("textbox", name="Policy document")
    editor.fill('{"Version": ')
    expect(editor).not_to_contain_text("Broken")
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
        "Fresh",
    )
    # A new group that may read orders is a new row of the matrix: confirmed before it is written.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Impact")).to_contain_text(f"group:{name}")
    page.get_by_role("button", name="Confirm save").click()
    expect(page.get_by_role("heading", name=f"group {name}", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved version 1")
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "Fresh"


def test_a_concurrent_edit_shows_what_changed_meanwhile(
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
) -> None:
    """Two admins edit one policy: the second save is refused (412), showing the other
    admin's change (base -> stored) and the user's own (base -> their text), with their
    text still in the editor; Reload latest then loads the stored version."""
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
        "FirstWins",
    )
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("status")).to_have_text("Saved version 2")

    editor = second.get_by_role("textbox", name="Policy document")
    _set_text(editor, json.dumps(_with_sid("SecondLoses"), indent=2), "SecondLoses")
    second.get_by_role("button", name="Save").click()
    changed = second.get_by_role("region", name="Changed meanwhile")
    expect(changed).to_be_visible()
    theirs = changed.get_by_role(
        "table", name="Version 1 (you started from) compared with Version 2 (stored)"
    )
    expect(theirs.get_by_role("columnheader", name="Version 2 (stored)")).to_be_visible()
    expect(theirs).to_contain_text("ReadOrders")
    expect(theirs).to_contain_text("FirstWins")
    expect(theirs).not_to_contain_text("SecondLoses")
    mine = changed.get_by_role("table", name="Version 1 (you started from) compared with Your text")
    expect(mine.get_by_role("columnheader", name="Your text")).to_be_visible()
    expect(mine).to_contain_text("SecondLoses")
    expect(mine).not_to_contain_text("FirstWins")
    expect(editor).to_contain_text("SecondLoses")  # nothing is thrown away until asked
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "FirstWins"

    changed.get_by_role("button", name="Reload latest").click()
    expect(changed).to_be_hidden()
    expect(editor).to_contain_text("FirstWins")
    expect(second.get_by_text("Version 2,")).to_be_visible()
    _set_text(editor, json.dumps(_with_sid("SecondAfterReload"), indent=2), "SecondAfterReload")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("status")).to_have_text("Saved version 3")


def test_keep_my_text_saves_over_the_concurrent_version(
    page: Page, sign_in: SignIn, stack: DevStack, group_name: Callable[[str], str]
) -> None:
    """After a 412, Keep my text leaves the user's text in place and saves it over the
    stored version, on purpose."""
    name = group_name("keep")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    _put_group(stack, name, _with_sid("Meanwhile"), **{"If-Match": '"1"'})
    editor = page.get_by_role("textbox", name="Policy document")
    _set_text(editor, json.dumps(_with_sid("MineAnyway"), indent=2), "MineAnyway")
    page.get_by_role("button", name="Save").click()
    changed = page.get_by_role("region", name="Changed meanwhile")
    changed.get_by_role("button", name="Keep my text").click()
    expect(changed).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("Your text is kept; Save replaces version 2")
    expect(editor).to_contain_text("MineAnyway")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved version 3")
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "MineAnyway"


def test_save_shows_the_impact_and_waits_for_confirmation(
    page: Page,
    sign_in: SignIn,
    stack: DevStack,
    group_name: Callable[[str], str],
    csp_violations: list[str],
) -> None:
    """Save dry-runs first: a change that widens access shows its impact and writes nothing
    until Confirm save; Cancel save writes nothing at all."""
    name = group_name("widen")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    widened = json.dumps(_with_sid("ReadAndCreate"), indent=2).replace(
        '"execute-api:/*/GET/orders"', '"execute-api:/*/GET/orders", "execute-api:/*/POST/orders"'
    )
    editor = page.get_by_role("textbox", name="Policy document")
    _set_text(editor, widened, "ReadAndCreate")
    page.get_by_role("button", name="Save").click()
    impact = page.get_by_role("region", name="Impact")
    expect(impact).to_contain_text("POST /orders")
    expect(impact).to_contain_text(f"group:{name}")
    confirm = page.get_by_role("button", name="Confirm save")
    expect(confirm).to_be_visible()
    assert _stored(stack, name)["version"] == 1

    page.get_by_role("button", name="Cancel save").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("Not saved.")
    assert _stored(stack, name)["version"] == 1

    page.get_by_role("button", name="Save").click()
    confirm.click()
    expect(page.get_by_role("status")).to_have_text("Saved version 2")
    stored = _stored(stack, name)
    assert stored["version"] == 2
    assert stored["document"]["Statement"][0]["Sid"] == "ReadAndCreate"


def test_confirm_save_writes_only_what_was_checked(
    page: Page, sign_in: SignIn, stack: DevStack, group_name: Callable[[str], str]
) -> None:
    """Text edited after the dry run is checked again: Confirm save never writes unseen text."""
    name = group_name("recheck")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    editor = page.get_by_role("textbox", name="Policy document")
    widened = json.dumps(_with_sid("Checked"), indent=2).replace(
        '"execute-api:/*/GET/orders"', '"execute-api:/*/GET/orders", "execute-api:/*/POST/orders"'
    )
    _set_text(editor, widened, "Checked")
    page.get_by_role("button", name="Save").click()
    confirm = page.get_by_role("button", name="Confirm save")
    expect(confirm).to_be_visible()
    _set_text(editor, widened.replace("Checked", "EditedAfter"), "EditedAfter")
    confirm.click()
    # Checked again and asked again, nothing written yet.
    expect(page.get_by_role("region", name="Impact")).to_contain_text("POST /orders")
    expect(confirm).to_be_visible()
    assert _stored(stack, name)["version"] == 1
    confirm.click()
    expect(page.get_by_role("status")).to_have_text("Saved version 2")
    assert _stored(stack, name)["document"]["Statement"][0]["Sid"] == "EditedAfter"


def test_a_lock_out_asks_before_saving(
    page: Page, sign_in: SignIn, stack: DevStack, csp_violations: list[str]
) -> None:
    """Emptying the admin group's policy is refused (409) and offers the override; with it
    checked, Save still shows the impact and waits. The test never confirms, and puts the
    admin policy back whatever happens."""
    admins = Selector.of("group", "authz-admins")
    repository = DynamoRepository(stack.settings)
    before = repository.get(admins)
    try:
        sign_in(page)
        page.get_by_role("searchbox", name="Search by name").fill("authz-admins")
        page.get_by_role("link", name="authz-admins", exact=True).click()
        expect(page.get_by_role("heading", name="group authz-admins")).to_be_visible()
        expect(page.get_by_role("textbox", name="Policy document")).to_contain_text("AdminApi")
        _set_text(
            page.get_by_role("textbox", name="Policy document"),
            json.dumps(_with_sid("OnlyOrders"), indent=2),
            "OnlyOrders",
        )
        override = page.get_by_role("checkbox", name="Save even if admins lose access")
        expect(override).to_be_hidden()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("region", name="Admin lock-out")).to_contain_text("/policies")
        expect(override).to_be_visible()
        expect(override).not_to_be_checked()
        assert repository.get(admins).version == before.version

        override.check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("region", name="Impact")).to_contain_text("group:authz-admins")
        expect(page.get_by_role("button", name="Confirm save")).to_be_visible()
        assert repository.get(admins).version == before.version
    finally:
        # Straight to the table: were the admins locked out, the admin API would refuse this.
        if repository.get(admins).version != before.version:
            repository.put(
                admins,
                before.document,
                actor="browser test",
                description=before.description,
                token=before.token,
            )


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

    page.get_by_role("textbox", name="Groups").fill("writers\ninterns")
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


def test_simulator_takes_one_group_a_line(page: Page, sign_in: SignIn) -> None:
    """A group name may hold a comma or a space: each line is one name, sent as typed."""
    sign_in(page)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Simulator").click()
    page.get_by_role("radio", name="Principal").check()
    page.get_by_role("textbox", name="Groups").fill("sales, emea\n readers \n\n")
    page.get_by_role("textbox", name="Scopes").fill("orders/read\nshop admin")
    with page.expect_request(lambda r: r.url.endswith("/simulate")) as sent:
        page.get_by_role("button", name="Simulate").click()
    principal = sent.value.post_data_json["principal"]
    assert principal["groups"] == ["sales, emea", "readers"]
    assert principal["scopes"] == ["orders/read", "shop admin"]
    expect(page.get_by_role("region", name="Decision")).to_contain_text("Allow")


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
    seen = _hosted_sign_in_service(page, stack)
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


def _api_path(stack: DevStack, prefix: str) -> Callable[[str], bool]:
    """A URL matcher for the admin API's paths under ``prefix`` (not the console's own)."""
    base = urlsplit(stack.base_url).path
    return lambda url: urlsplit(url).path.startswith(base + prefix)


def test_unsaved_edits_survive_a_lost_session(
    page: Page, sign_in: SignIn, stack: DevStack, group_name: Callable[[str], str]
) -> None:
    """A 401 mid-edit sends the admin to sign in; signing in again offers the unsaved draft
    back (document, description and the version it started from), and it saves."""
    name = group_name("draft")
    _put_group(stack, name, READ_ORDERS)
    sign_in(page)
    _open_policy(page, name)
    editor = page.get_by_role("textbox", name="Policy document")
    _set_text(editor, json.dumps(_with_sid("UnsavedWork"), indent=2), "UnsavedWork")
    page.get_by_role("textbox", name="Description").fill("kept across sign-ins")

    # From now on the API refuses the token, as it does once the token is revoked.
    policies = _api_path(stack, "/policies")
    page.route(policies, lambda route: route.fulfill(status=401, json={"message": "Unauthorized"}))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("(401)")
    page.unroute(policies)
    assert _stored(stack, name)["version"] == 1

    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"group {name}", exact=True)).to_be_visible()
    expect(editor).to_contain_text("ReadOrders")
    page.get_by_role("button", name="Restore unsaved draft").click()
    expect(page.get_by_role("status")).to_have_text("Unsaved draft restored")
    expect(editor).to_contain_text("UnsavedWork")
    expect(page.get_by_role("textbox", name="Description")).to_have_value("kept across sign-ins")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved version 2")
    stored = _stored(stack, name)
    assert stored["document"]["Statement"][0]["Sid"] == "UnsavedWork"
    assert stored["description"] == "kept across sign-ins"
    # Saved, the draft is gone: the next visit offers nothing.
    page.reload()
    expect(editor).to_contain_text("UnsavedWork")
    expect(page.get_by_role("button", name="Restore unsaved draft")).to_have_count(0)


def test_a_refused_call_is_an_error_not_a_sign_out(
    page: Page, sign_in: SignIn, stack: DevStack
) -> None:
    """Once the API has accepted the sign-in, a 403 on one call is an alert on that page;
    the admin stays signed in."""
    sign_in(page)
    expect(page.get_by_role("table", name="Policies")).to_contain_text("readers")
    refused = {"error": {"code": "forbidden", "message": "not for this caller"}}
    page.route(
        _api_path(stack, "/revocations"), lambda route: route.fulfill(status=403, json=refused)
    )
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Revocations").click()
    expect(page.get_by_role("alert")).to_have_text(
        "You are not allowed to do this (HTTP 403): not for this caller"
    )
    expect(page.get_by_role("heading", name="Revocations")).to_be_visible()
    expect(page.get_by_text("Signed in as admin")).to_be_visible()


def test_a_missing_matrix_cell_is_unknown_not_denied(
    page: Page, sign_in: SignIn, stack: DevStack
) -> None:
    """A cell the API leaves out shows "?" with a title, never an invented "deny"."""
    sign_in(page)
    body = {
        "routes": ["GET /orders", "POST /orders"],
        "subjects": ["default"],
        "cells": {"default": {"GET /orders": "allow"}},
    }
    page.route(_api_path(stack, "/matrix"), lambda route: route.fulfill(json=body))
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Access matrix").click()
    cells = page.get_by_role("table", name="Access matrix").get_by_role("cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(0)).to_contain_text("allow")
    expect(cells.nth(1)).to_have_text("?")
    expect(cells.nth(1)).to_have_attribute("title", "The admin API returned no value for this cell")


def _hosted_sign_in_service(page: Page, stack: DevStack) -> dict[str, dict[str, list[str]]]:
    """Fake Cognito's authorize, token and logout endpoints; what each was asked."""
    seen: dict[str, dict[str, list[str]]] = {}

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = query
        _redirect(route, f"{query['redirect_uri'][0]}?code=the-code&state={query['state'][0]}")

    def token(route: Route) -> None:
        seen["token"] = parse_qs(route.request.post_data or "")
        body = {"access_token": stack.token_for("admin"), "id_token": "unused", "expires_in": 3600}
        route.fulfill(json=body, headers={"Access-Control-Allow-Origin": "*"})

    def logout(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["logout"] = query
        _redirect(route, query["logout_uri"][0])

    page.route(f"{HOSTED}/oauth2/authorize?*", authorize)
    page.route(f"{HOSTED}/oauth2/token", token)
    page.route(f"{HOSTED}/logout?*", logout)
    return seen


def test_hosted_sign_in_returns_to_the_page_it_started_from(
    page: Page, console_url: str, stack: DevStack
) -> None:
    """A hosted sign-in started on #/simulator comes back to the simulator."""
    _as_hosted(page, console_url)
    _hosted_sign_in_service(page, stack)
    page.goto(console_url + "#/simulator")
    page.get_by_role("button", name="Sign in with Cognito").click()
    expect(page.get_by_role("heading", name="Simulator")).to_be_visible()
    assert urlsplit(page.url).fragment == "/simulator"


def test_hosted_sign_out_ends_the_hosted_session(
    page: Page, console_url: str, stack: DevStack
) -> None:
    """Sign out forgets the tokens, then ends the hosted UI's session at Cognito's logout
    endpoint, which sends the browser back to the console."""
    _as_hosted(page, console_url)
    seen = _hosted_sign_in_service(page, stack)
    page.goto(console_url)
    page.get_by_role("button", name="Sign in with Cognito").click()
    expect(page.get_by_role("table", name="Policies")).to_contain_text("readers")

    with page.expect_request(f"{HOSTED}/logout?*"):
        page.get_by_role("button", name="Sign out").click()
    # Back from the logout endpoint: the bare console URL, no hash route.
    page.wait_for_url(console_url)
    expect(page.get_by_role("button", name="Sign in with Cognito")).to_be_visible()
    assert seen["logout"] == {"client_id": ["console-client"], "logout_uri": [console_url]}
    assert urlsplit(page.url).path == urlsplit(console_url).path
    assert page.evaluate("() => sessionStorage.length") == 0


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("access_denied", "Sign-in was cancelled or refused by Cognito (access_denied)."),
        ("<b>Call 555-0100 now</b>", "Sign-in was cancelled or refused by Cognito."),
    ],
)
def test_a_hosted_sign_in_error_is_shown_as_a_fixed_message(
    page: Page, console_url: str, error: str, shown: str
) -> None:
    """Whatever ?error= says, the page shows its own sentence (with the code if it is one)."""
    _as_hosted(page, console_url)

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        _redirect(route, f"{query['redirect_uri'][0]}?error={quote(error)}")

    page.route(f"{HOSTED}/oauth2/authorize?*", authorize)
    page.goto(console_url)
    page.get_by_role("button", name="Sign in with Cognito").click()
    expect(page.get_by_role("alert")).to_have_text(shown)
    assert "error=" not in page.url
