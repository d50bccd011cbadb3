"""axe-core finds no serious or critical accessibility violation on any console page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

Axe = Callable[[Page], list[dict[str, Any]]]

# Each page by its hash route, and what shows once it has loaded its data.
PAGES: dict[str, tuple[str, Callable[[Page], Locator]]] = {
    "policies": ("#/policies", lambda p: p.get_by_role("table", name="Policies")),
    "editor": (
        "#/policies/group/readers",
        lambda p: p.get_by_role("heading", name="group readers", exact=True),
    ),
    "history": (
        "#/history/group/readers",
        lambda p: p.get_by_role("heading", name="History of group readers", exact=True),
    ),
    "simulator": ("#/simulator", lambda p: p.get_by_role("button", name="Simulate")),
    "matrix": ("#/matrix", lambda p: p.get_by_role("table", name="Access matrix")),
    "revocations": ("#/revocations", lambda p: p.get_by_role("table", name="Live revocations")),
}


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
