"""Browser tests of the admin console: a real dev stack driven in Debian's headless Chromium.

Fixtures (all tests under tests/browser get them; pytest-playwright's ``page``,
``context`` and ``new_context`` work as usual, launched from /usr/bin/chromium):

- ``stack`` (session): ``authz.dev.stack.start_stack`` on the repository's
  ``policies/``, on the tests' DynamoDB Local with a table of its own.
  ``stack.token_for("admin")`` mints a fresh token for direct API calls.
- ``console_url`` (session): ``stack.base_url + "/console"``
  (``http://127.0.0.1:PORT/dev/console``).
- ``browser``: pytest-playwright's, launched headless from ``/usr/bin/chromium``;
  a missing Chromium fails the test with what to install, it never skips.
  Every context is 1280x800.
- ``sign_in(page, user="admin")``: opens the console, signs in with the demo
  password through the "Username"/"Password" form and waits for nav "Console".
- ``dialogs`` (autouse): the dialogs opened by any page of any context made
  through ``new_context``/``context``/``page`` (each is dismissed and recorded);
  the test fails when it is not empty at the end. Make extra contexts with
  ``new_context()``, not ``browser.new_context()``, so they are guarded too.
- ``axe(page)``: runs axe-core (``node_modules/axe-core``) in the page and
  returns its serious and critical violations.
- ``screenshot(page, name)``: writes ``<name>.png`` at 1280x800 into a temporary folder, or
  into ``$CONSOLE_SCREENSHOTS`` when set (``make screenshots`` sets it to ``docs/console``).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from authz.dev.cognito import DEMO_PASSWORD
from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.stack import DevStack, start_stack

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1280, "height": 800}
BLOCKING_IMPACTS = ("serious", "critical")

SignIn = Callable[..., None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything here needs the local stack, so `-m "not integration"` leaves it out too.
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack(dynamodb_local: DynamoDBLocal) -> Iterator[DevStack]:
    """The whole local product, as `authz dev` runs it, shared by every browser test."""
    with start_stack(
        POLICIES,
        dynamodb_endpoint=dynamodb_local.endpoint,
        table=f"browser-{uuid.uuid4().hex[:8]}",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def console_url(stack: DevStack) -> str:
    return stack.base_url + "/console"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, never a browser Playwright would download (CI has no internet)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install -y chromium; .ci/run does this)",
            pytrace=False,
        )
    # Playwright starts Chromium with --no-sandbox unless told otherwise, which root (as CI
    # runs) needs; the pages it opens are our own, on loopback.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True}


@pytest.fixture(scope="session")
def base_url() -> None:
    """No --base-url: tests open stack URLs in full. Overriding pytest-playwright's fallback
    fixture also keeps its deprecated instance-method fixture from warning on every run."""
    return


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(autouse=True)
def dialogs() -> Iterator[list[str]]:
    """Dialogs any guarded page opened; none may open (an XSS payload's alert would be one)."""
    opened: list[str] = []
    yield opened
    assert not opened, f"a page opened dialogs: {opened}"


def _guard(page: Page, opened: list[str]) -> None:
    def record(dialog: Dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        # A listener takes over Playwright's auto-dismiss: left open, it would block the page.
        dialog.dismiss()

    page.on("dialog", record)


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext], dialogs: list[str]
) -> Callable[..., BrowserContext]:
    """pytest-playwright's ``new_context``, with every page of the context dialog-guarded."""

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.on("page", lambda page: _guard(page, dialogs))
        return context

    return make


@pytest.fixture
def sign_in(console_url: str) -> SignIn:
    def go(page: Page, user: str = "admin", password: str = DEMO_PASSWORD) -> None:
        page.goto(console_url)
        page.get_by_role("textbox", name="Username").fill(user)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("navigation", name="Console")).to_be_visible()

    return go


@pytest.fixture
def axe() -> Callable[[Page], list[dict[str, Any]]]:
    """``axe(page)`` -> axe-core's serious and critical violations in the page as it is now."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make setup` (npm ci installs axe-core)", pytrace=False)
    source = AXE.read_text(encoding="utf-8")

    def run(page: Page) -> list[dict[str, Any]]:
        # Evaluated through the DevTools protocol, which CSP does not govern, so axe checks
        # the page under its real policy; a <script> tag (add_script_tag) would need a
        # bypass_csp context, and that would also apply styles the real CSP blocks.
        page.evaluate(source)
        violations: list[dict[str, Any]] = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]

    return run


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A test run leaves the committed screenshots alone: they change only on purpose.
    chosen = os.environ.get("CONSOLE_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("console-screenshots")


@pytest.fixture
def screenshot(screenshots_dir: Path) -> Callable[[Page, str], Path]:
    """``screenshot(page, "policies")`` writes policies.png at 1280x800 (module docstring)."""

    def take(page: Page, name: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ValueError(f"screenshot name {name!r}: lowercase letters, digits and '-'")
        page.set_viewport_size(VIEWPORT)
        screenshots_dir.mkdir(parents=True, exist_ok=True)
        path = screenshots_dir / f"{name}.png"
        page.screenshot(path=path)
        return path

    return take
