"""The console renders hostile data as text, keeps tokens out of URLs and storage, and is
served under a strict Content-Security-Policy while every data call still needs a token."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, Request, expect

from authz.dev.stack import DevStack

# The payload is `<img src=x onerror=alert(1)>`, but a group name may hold no
# space (Cognito's rule: letters, marks, symbols, numbers, punctuation). An HTML parser
# ends the quoted src at its quote and reads the '/' after it as a separator, so this
# spelling is still a live <img onerror> if it ever reached innerHTML (`src=x/onerror=...`
# unquoted would not be: the value runs on to '>'). The admin API accepts it as a group name.
GROUP = '<img/src="x"/onerror=alert(1)>'
DESCRIPTION = "ends a script: </script><img src=x onerror=alert(1)> and <b>bold</b>"
REASON = "<img src=x onerror=alert(2)></script>"
DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOrders",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*/GET/orders",
        }
    ],
}
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")

# Any element carrying an event-handler attribute, anywhere in the document: the
# payloads are the only way one could appear, the console itself uses none.
HANDLER_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap(el =>
    [...el.attributes].filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name))"""


@dataclass
class Hostile:
    """What the hostile fixture stored, to look for in the console."""

    group: str
    description: str
    revocation_id: str


def _api(stack: DevStack, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.token_for('admin')}", **kw.pop("headers", {})}
    return requests.request(method, stack.base_url + path, headers=headers, timeout=30, **kw)


@pytest.fixture
def hostile(stack: DevStack) -> Iterator[Hostile]:
    """A group policy (two versions, for a history diff) and a revocation full of payloads."""
    path = f"/policies/group/{quote(GROUP, safe='')}"
    created = _api(
        stack,
        "PUT",
        path,
        headers={"If-None-Match": "*"},
        json={"document": DOCUMENT, "description": DESCRIPTION},
    )
    assert created.status_code == 201, created.text
    assert created.json()["policy"]["name"] == GROUP
    second = {**DOCUMENT, "Statement": [{**DOCUMENT["Statement"][0], "Sid": "ReadOrdersAgain"}]}
    updated = _api(
        stack,
        "PUT",
        path,
        headers={"If-Match": created.headers["ETag"]},
        json={"document": second, "description": DESCRIPTION},
    )
    assert updated.status_code == 200, updated.text
    jti = f"xss-{uuid.uuid4().hex}"
    revoked = _api(stack, "POST", "/revocations", json={"jti": jti, "reason": REASON})
    assert revoked.status_code == 201, revoked.text
    revocation_id = revoked.json()["revocation"]["id"]
    yield Hostile(GROUP, DESCRIPTION, revocation_id)
    # Other browser tests share the stack: leave its data as it was.
    lifted = _api(stack, "DELETE", f"/revocations/{quote(revocation_id, safe='')}")
    assert lifted.status_code == 200, lifted.text
    deleted = _api(stack, "DELETE", path, headers={"If-Match": updated.headers["ETag"]})
    assert deleted.status_code == 200, deleted.text


def _no_live_markup(page: Page) -> None:
    assert page.evaluate(HANDLER_ATTRIBUTES) == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("b", has_text="bold").count() == 0


def test_hostile_names_and_descriptions_render_as_text_on_every_page(
    new_context: Callable[..., BrowserContext],
    sign_in: Callable[..., None],
    hostile: Hostile,
    dialogs: list[str],
) -> None:
    """A group named like an <img onerror> tag shows literally everywhere and never runs."""
    # The CSP would block an injected handler anyway; without it, an alert (a dialog)
    # proves markup got through, so rendering as text is tested on its own.
    page = new_context(bypass_csp=True).new_page()
    sign_in(page)
    nav = page.get_by_role("navigation", name="Console")

    nav.get_by_role("link", name="Policies").click()
    table = page.get_by_role("table", name="Policies")
    link = table.get_by_role("link", name=hostile.group, exact=True)
    expect(link).to_be_visible()
    expect(table).to_contain_text(hostile.description)
    _no_live_markup(page)

    link.click()
    expect(page.get_by_role("heading", name=f"group {hostile.group}", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Description")).to_have_value(hostile.description)
    _no_live_markup(page)

    page.get_by_role("link", name="History").click()
    expect(
        page.get_by_role("heading", name=f"History of group {hostile.group}", exact=True)
    ).to_be_visible()
    page.get_by_role("button", name="Compare with previous").first.click()
    expect(page.get_by_role("region", name="Diff")).to_contain_text("ReadOrdersAgain")
    _no_live_markup(page)

    nav.get_by_role("link", name="Access matrix").click()
    matrix = page.get_by_role("table", name="Access matrix")
    expect(matrix).to_contain_text(hostile.group)
    _no_live_markup(page)

    nav.get_by_role("link", name="Simulator").click()
    page.get_by_role("radio", name="Principal").check()
    page.get_by_role("textbox", name="Groups").fill(hostile.group)
    page.get_by_role("combobox", name="Method").select_option("GET")
    page.get_by_role("textbox", name="Path").fill("/orders")
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_role("region", name="Decision")).to_contain_text("Allow")
    expect(page.get_by_role("region", name="Explanation")).to_contain_text(hostile.group)
    _no_live_markup(page)

    nav.get_by_role("link", name="Revocations").click()
    expect(page.get_by_role("table", name="Live revocations")).to_contain_text(REASON)
    _no_live_markup(page)

    assert dialogs == []


def test_console_is_served_without_a_token_under_a_strict_policy(
    stack: DevStack, console_url: str
) -> None:
    """/console answers without a token, with a nonce-bound CSP that allows no inline script."""
    first = requests.get(console_url, timeout=10)
    second = requests.get(console_url, timeout=10)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/html")
    csp = first.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    nonce = re.search(r'<meta name="csp-nonce" content="([^"]+)"', first.text)
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in directives["style-src"]
    assert nonce.group(1) not in second.text, "the nonce must be fresh for every response"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in first.headers["Cache-Control"]

    config = requests.get(console_url + "/config.json", timeout=10)
    assert config.status_code == 200
    assert config.json()["signIn"] == "local"


def test_data_calls_need_a_token_even_though_the_console_does_not(
    stack: DevStack, console_url: str
) -> None:
    """The admin API behind the console refuses an anonymous call with 401."""
    assert requests.get(console_url, timeout=10).status_code == 200
    assert requests.get(stack.base_url + "/policies", timeout=10).status_code == 401
    assert requests.get(stack.base_url + "/matrix", timeout=10).status_code == 401


def _recorded_tokens(context: BrowserContext) -> tuple[list[str], list[str]]:
    """The bearer tokens the console sends and every URL it requests, from now on."""
    tokens: list[str] = []
    urls: list[str] = []

    def seen(request: Request) -> None:
        urls.append(request.url)
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            tokens.append(auth.removeprefix("Bearer "))

    context.on("request", seen)
    return tokens, urls


def _storage(page: Page, name: str) -> list[str]:
    return page.evaluate(f"() => Object.values(window.{name})")


def test_tokens_stay_out_of_urls_local_storage_and_the_log(
    new_context: Callable[..., BrowserContext], sign_in: Callable[..., None]
) -> None:
    """After sign-in the token is sent as a header only; sign-out forgets it."""
    context = new_context()
    tokens, urls = _recorded_tokens(context)
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))

    sign_in(page)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Policies").click()
    expect(page.get_by_role("table", name="Policies")).to_be_visible()

    assert tokens, "the console sent no bearer token"
    for token in set(tokens):
        assert JWT.fullmatch(token)
        assert token not in page.url
        assert not any(token in url for url in urls)
        assert not any(token in line for line in logged)
        assert not any(token in c["value"] for c in context.cookies())
    assert _storage(page, "localStorage") == []

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _storage(page, "sessionStorage") == []
    assert _storage(page, "localStorage") == []
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
