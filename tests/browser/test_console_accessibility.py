"""axe-core finds no serious or critical accessibility violation on any console page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from authz.dev.stack import DevStack

Axe = Callable[[Page], list[dict[str, Any]]]

REVOKED_JTI = f"axe-{uuid.uuid4().hex[:12]}"

# Each page by its hash route, and what shows only once its data has loaded: axe must
# judge the rows, links and buttons drawn from the API, not an empty frame.
PAGES: dict[str, tuple[str, Callable[[Page], Locator]]] = {
    "policies": (
        "#/policies",
        lambda p: p.get_by_role("table", name="Policies").get_by_role("link", name="readers"),
    ),
    "editor": (
        "#/policies/group/readers",
        lambda p: p.get_by_text(re.compile(r"^Version \d+, updated ")),
    ),
    "history": (
        "#/history/group/readers",
        lambda p: p.get_by_role("table", name="History").get_by_role("rowheader", name="1"),
    ),
    "simulator": ("#/simulator", lambda p: p.get_by_role("button", name="Simulate")),
    "matrix": (
        "#/matrix",
        lambda p: p.get_by_role("table", name="Access matrix").get_by_role(
            "rowheader", name="group:readers"
        ),
    ),
    "revocations": (
        "#/revocations",
        lambda p: p.get_by_role("button", name=f"Undo jti:{REVOKED_JTI}"),
    ),
}


@pytest.fixture(scope="module")
def a_revocation(stack: DevStack) -> Iterator[None]:
    """One live revocation, so the revocations page has a row (and its Undo button) to check."""
    headers = {"Authorization": f"Bearer {stack.token_for('admin')}"}
    made = requests.post(
        stack.base_url + "/revocations",
        json={"jti": REVOKED_JTI, "reason": "accessibility check"},
        headers=headers,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    yield
    lifted = requests.delete(
        stack.base_url + f"/revocations/jti:{REVOKED_JTI}", headers=headers, timeout=30
    )
    assert lifted.status_code == 200, lifted.text


def _summary(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']}: {v['help']} at "
        + ", ".join(str(n["target"]) for n in v.get("nodes", [])[:5])
        for v in violations
    )


def test_sign_in_page_has_no_serious_violations(page: Page, console_url: str, axe: Axe) -> None:
    """The local sign-in form, the first thing anyone sees, passes axe."""
    page.goto(console_url)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    violations = axe(page)
    assert violations == [], _summary(violations)


@pytest.mark.usefixtures("a_revocation")
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_violations(
    page: Page, console_url: str, sign_in: Callable[..., None], axe: Axe, name: str
) -> None:
    """Every signed-in page, with its data loaded, passes axe."""
    route, loaded = PAGES[name]
    sign_in(page)
    page.goto(console_url + route)
    expect(loaded(page)).to_be_visible()
    violations = axe(page)
    assert violations == [], _summary(violations)


def test_simulation_result_has_no_serious_violations(
    page: Page, console_url: str, sign_in: Callable[..., None], axe: Axe
) -> None:
    """The simulator's decision, explanation and effective policy pass axe too."""
    sign_in(page)
    page.goto(console_url + "#/simulator")
    page.get_by_role("radio", name="Principal").check()
    page.get_by_role("textbox", name="Groups").fill("readers")
    page.get_by_role("combobox", name="Method").select_option("GET")
    page.get_by_role("textbox", name="Path").fill("/orders/42")
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_role("region", name="Decision")).to_contain_text("Allow")
    violations = axe(page)
    assert violations == [], _summary(violations)
