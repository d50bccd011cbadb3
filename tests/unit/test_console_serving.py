"""The admin Lambda serves the console: its files, its config, its CSP, with no token."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from authz.handlers.admin.app import AdminApp, build_app
from authz.handlers.admin.console import NOT_BUILT, Console, ConsoleConfig, content_security_policy
from authz.handlers.admin.console_files import AssetFolder
from authz.settings import Settings
from authz.store.memory import MemoryRepository
from tests.functional.admin.helpers import event

INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="csp-nonce" content="NONCE">
<title>authz console</title>
<link rel="stylesheet" href="console/app.css"></head>
<body><script src="console/app.js"></script></body></html>
"""
HOSTED = "https://example.auth.us-east-1.amazoncognito.com"
OUTSIDE = "private: not part of the console"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PAGE, ASSET = "/console", "/console/{asset}"


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """A built console: the three files esbuild emits, and files never served."""
    folder = tmp_path / "console_assets"
    folder.mkdir()
    (folder / "index.html").write_text(INDEX)
    (folder / "app.js").write_text('console.log("authz");\n')
    (folder / "app.css").write_text("body{margin:0}\n")
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "logo.png").write_bytes(PNG)  # binary: API Gateway would need binaryMediaTypes
    (folder / "broken.js").write_bytes(b"\xff\xfe not utf-8")
    (folder / "notes.txt").write_text(OUTSIDE)
    (folder / "app.js.map").write_text(OUTSIDE)
    (folder / ".hidden.js").write_text(OUTSIDE)
    (folder / "nested").mkdir()
    (folder / "nested" / "deep.js").write_text("deep")
    (tmp_path / "outside.js").write_text(OUTSIDE)
    (folder / "link.js").symlink_to(tmp_path / "outside.js")
    return folder


def _app(assets: Path, env: dict[str, str] | None = None, **kwargs: Any) -> AdminApp:
    return build_app(
        Settings.from_env(env or {}),
        MemoryRepository(),
        flusher=lambda _api, _stage: None,
        console_assets=assets,
        **kwargs,
    )


def console_event(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """API Gateway's event for a console route: its resource, and the asset decoded."""
    rest = path.removeprefix(PAGE)
    if rest in ("", "/"):  # API Gateway routes /console/ to /console too
        ev = event(method, path, resource=PAGE, **kwargs)
        ev["pathParameters"] = None
        return ev
    asset = unquote(rest.removeprefix("/"))
    return event(method, path, resource=ASSET, path_parameters={"asset": asset}, **kwargs)


def anonymous(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """A console event with no authorizer context, as API Gateway sends for an open route."""
    return console_event(method, path, authorizer=None, **kwargs)


def asset_event(asset: str) -> dict[str, Any]:
    """An anonymous event for ``/console/{asset}`` carrying ``asset`` as its parameter."""
    return event(
        "GET", "/console/x", authorizer=None, resource=ASSET, path_parameters={"asset": asset}
    )


def header(answer: dict[str, Any], name: str) -> str | None:
    found = {k.lower(): v for k, v in answer["headers"].items()}
    return found.get(name.lower())


def error_code(answer: dict[str, Any]) -> str:
    code: str = json.loads(answer["body"])["error"]["code"]
    return code


def test_the_page_is_served_without_a_token(assets: Path) -> None:
    """GET /console answers index.html to a caller with no authorizer context, never cached."""
    answer = _app(assets)(anonymous("GET", "/console"))
    assert answer["statusCode"] == 200
    assert header(answer, "Content-Type") == "text/html; charset=utf-8"
    assert header(answer, "Cache-Control") == "no-store"
    assert header(answer, "X-Content-Type-Options") == "nosniff"
    assert header(answer, "Referrer-Policy") == "no-referrer"
    assert '<script src="console/app.js"></script>' in answer["body"]


def test_each_page_gets_a_fresh_nonce_in_meta_and_csp(assets: Path) -> None:
    """The nonce in the page's meta tag is the one the CSP allows styles by, new per response."""
    app = _app(assets)
    nonces = []
    for _ in range(2):
        answer = app(anonymous("GET", "/console"))
        meta = re.findall(r'<meta name="csp-nonce" content="([^"]+)">', answer["body"])
        assert len(meta) == 1
        assert meta[0] != "NONCE"
        assert len(meta[0]) >= 22  # at least 128 bits
        assert header(answer, "Content-Security-Policy") == content_security_policy(meta[0])
        nonces.append(meta[0])
    assert nonces[0] != nonces[1]


def test_the_csp_is_strict() -> None:
    """No inline script, no eval, styles only by nonce, never framed, no base or plugin."""
    csp = content_security_policy("n0nce")
    assert csp == (
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-n0nce'; "
        "connect-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    assert "unsafe" not in csp


def test_the_hosted_ui_domain_joins_connect_and_form_action(assets: Path) -> None:
    """With the hosted UI configured, the page may exchange its code at that domain."""
    env = {"AUTHZ_CONSOLE_DOMAIN": HOSTED, "AUTHZ_CONSOLE_CLIENT_ID": "console1"}
    csp = header(_app(assets, env)(anonymous("GET", "/console")), "Content-Security-Policy")
    assert csp is not None
    assert f"connect-src 'self' {HOSTED};" in csp
    assert f"form-action 'self' {HOSTED};" in csp
    assert "script-src 'self';" in csp


def test_a_page_without_the_meta_tag_gets_one(tmp_path: Path) -> None:
    """The nonce reaches the page even when the build left its meta tag out."""
    (tmp_path / "index.html").write_text("<html><head><title>t</title></head></html>")
    answer = _app(tmp_path)(anonymous("GET", "/console"))
    nonce = re.findall(r'<head><meta name="csp-nonce" content="([^"]+)">', answer["body"])
    assert nonce
    assert f"'nonce-{nonce[0]}'" in (header(answer, "Content-Security-Policy") or "")


def test_the_nonce_is_inserted_verbatim(assets: Path) -> None:
    """Backslashes and group references in a nonce are text, never a substitution template."""
    odd = r"a\1\g<0>\n"
    console = Console(ConsoleConfig("none", "access"), AssetFolder(assets), nonce=lambda: odd)
    answer = console(anonymous("GET", "/console"))
    assert f'<meta name="csp-nonce" content="{odd}">' in answer["body"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
    ],
)
def test_built_files_are_served_by_name(assets: Path, name: str, content_type: str) -> None:
    """A file of the listing is answered with its type, an ETag, and revalidation."""
    answer = _app(assets)(anonymous("GET", f"/console/{name}"))
    assert answer["statusCode"] == 200
    assert answer["body"] == (assets / name).read_text()
    assert answer["isBase64Encoded"] is False
    assert header(answer, "Content-Type") == content_type
    assert header(answer, "Cache-Control") == "no-cache"
    assert header(answer, "X-Content-Type-Options") == "nosniff"
    assert (header(answer, "ETag") or "").startswith('"')


def test_a_matching_etag_answers_304(assets: Path) -> None:
    """If-None-Match with the file's ETag gives 304 and no body."""
    app = _app(assets)
    etag = header(app(anonymous("GET", "/console/app.js")), "ETag")
    assert etag is not None
    again = app(anonymous("GET", "/console/app.js", headers={"If-None-Match": etag}))
    assert (again["statusCode"], again["body"]) == (304, "")
    other = app(anonymous("GET", "/console/app.js", headers={"If-None-Match": '"other"'}))
    assert other["statusCode"] == 200


@pytest.mark.parametrize("name", ["logo.png", "broken.js", "notes.txt"])
def test_only_text_of_a_served_kind_is_answered(assets: Path, name: str) -> None:
    """A binary kind, or bytes that are not UTF-8, would need binaryMediaTypes: 404 instead."""
    answer = _app(assets)(anonymous("GET", f"/console/{name}"))
    assert answer["statusCode"] == 404
    assert answer["isBase64Encoded"] is False
    assert OUTSIDE not in answer["body"]


@pytest.mark.parametrize(
    "asset",
    [
        "app.js.map",  # source maps are never served
        ".hidden.js",
        "link.js",  # a symlink, even to a servable kind
        "nested",
        "nested/deep.js",
        "../outside.js",
        "..",
        ".",
        "",
        "app.js/",
        "app.js\x00",
        "APP.JS",
        "index.html",  # the page has one address, where its relative links work
        "missing.js",
    ],
)
def test_only_names_in_the_listing_are_served(assets: Path, asset: str) -> None:
    """Any asset parameter but a listed file's exact name is 404: no traversal, no symlink."""
    answer = _app(assets)(asset_event(asset))
    assert answer["statusCode"] == 404
    assert error_code(answer) == "not_found"
    assert OUTSIDE not in answer["body"]
    assert header(answer, "X-Content-Type-Options") == "nosniff"


def test_an_asset_event_without_its_parameter_is_404(assets: Path) -> None:
    """No pathParameters at all (API Gateway always sends one here): nothing is served."""
    ev = asset_event("app.js")
    ev["pathParameters"] = None
    assert _app(assets)(ev)["statusCode"] == 404


def test_the_trailing_slash_redirects_relatively(assets: Path) -> None:
    """/console/ sends the browser to ../console, right under any stage prefix."""
    answer = _app(assets)(anonymous("GET", "/console/"))
    assert answer["statusCode"] == 302
    assert header(answer, "Location") == "../console"


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/console", "/console/app.js", "/console/config.json"])
def test_only_get_is_allowed(assets: Path, method: str, path: str) -> None:
    """Any other method on the console's resources is 405 with Allow, even for an admin
    (only GET is declared, in serverless.yml and the dev gateway)."""
    answer = _app(assets)(console_event(method, path, body={"x": 1}))
    assert answer["statusCode"] == 405
    assert header(answer, "Allow") == "GET"
    assert error_code(answer) == "method_not_allowed"


def test_an_unbuilt_console_answers_503_saying_how_to_build_it(tmp_path: Path) -> None:
    """Without index.html the page is 503 with the build command, not a blank page."""
    answer = _app(tmp_path / "absent")(anonymous("GET", "/console"))
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"] == {
        "code": "console_not_built",
        "message": NOT_BUILT,
        "details": [],
    }
    assert "npm run build:console" in NOT_BUILT


def config(app: AdminApp) -> dict[str, Any]:
    answer = app(anonymous("GET", "/console/config.json"))
    assert answer["statusCode"] == 200
    assert header(answer, "Content-Type") == "application/json"
    assert header(answer, "Cache-Control") == "no-store"
    found: dict[str, Any] = json.loads(answer["body"])
    return found


def test_config_without_sign_in_configured_says_none(assets: Path) -> None:
    """No hosted UI and no local stack: the page explains what to configure."""
    assert config(_app(assets)) == {
        "signIn": "none",
        "tokenUse": "access",
        "hosted": None,
        "localSignInPath": None,
    }


def test_config_with_the_hosted_ui(assets: Path) -> None:
    """Domain and client id set: the hosted UI, with the token kind the authorizer wants."""
    env = {
        "AUTHZ_CONSOLE_DOMAIN": HOSTED + "/",
        "AUTHZ_CONSOLE_CLIENT_ID": "console1",
        "AUTHZ_TOKEN_USE": "id",
    }
    assert config(_app(assets, env)) == {
        "signIn": "hosted",
        "tokenUse": "id",
        "hosted": {"domain": HOSTED, "clientId": "console1"},
        "localSignInPath": None,
    }


def test_config_in_the_local_stack(assets: Path) -> None:
    """The dev stack's own sign-in endpoint makes the page show its username/password form."""
    env = {"AUTHZ_CONSOLE_DOMAIN": HOSTED, "AUTHZ_CONSOLE_CLIENT_ID": "console1"}
    app = _app(assets, env, local_sign_in_path="/local/sign-in")
    assert config(app) == {
        "signIn": "local",
        "tokenUse": "access",
        "hosted": None,
        "localSignInPath": "/local/sign-in",
    }


def test_any_token_use_makes_the_console_send_access_tokens(assets: Path) -> None:
    """An authorizer that accepts either kind gets the access token."""
    assert config(_app(assets, {"AUTHZ_TOKEN_USE": "any"}))["tokenUse"] == "access"


def test_a_custom_domain_base_path_still_reaches_the_console(assets: Path) -> None:
    """Behind a base path mapping `path` is /base/console; the resource decides: served."""
    app = _app(assets)
    page = anonymous("GET", "/console")
    page["path"] = "/base/console"
    assert app(page)["statusCode"] == 200
    script = anonymous("GET", "/console/app.js")
    script["path"] = "/base/console/app.js"
    answer = app(script)
    assert answer["statusCode"] == 200
    assert answer["body"] == (assets / "app.js").read_text()
    slash = anonymous("GET", "/console/")
    slash["path"] = "/base/console/"
    assert header(app(slash), "Location") == "../console"


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/console", "/policies"),
        ("/console/app.js", "/{proxy+}"),
        ("/console/config.json", "/revocations/{id}"),
        ("/consolex", "/{proxy+}"),
        ("/policies", "/policies"),
        ("/openapi.json", "/openapi.json"),
        ("/console", "/console/"),
        ("/console", "/Console"),
        ("/console", None),
    ],
)
def test_the_caller_gate_guards_every_other_resource(
    assets: Path, path: str, resource: str | None
) -> None:
    """Only the two console resources skip the gate, whatever the path says: else 403."""
    ev = event("GET", path, authorizer=None)
    ev["resource"] = resource
    answer = _app(assets)(ev)
    assert answer["statusCode"] == 403
    assert error_code(answer) == "forbidden"
    assert "Content-Security-Policy" not in answer.get("headers", {})


def test_a_non_admin_is_refused_next_to_the_console(assets: Path) -> None:
    """A signed-in user outside the admin group gets the console page but no data."""
    app = _app(assets)
    assert app(console_event("GET", "/console", groups='["readers"]'))["statusCode"] == 200
    assert app(event("GET", "/policies", groups='["readers"]'))["statusCode"] == 403


def test_an_admin_still_reaches_the_api_and_look_alikes_are_not_console(assets: Path) -> None:
    """Through the gate, /policies answers and /consolex is an ordinary 404."""
    app = _app(assets)
    assert app(event("GET", "/policies"))["statusCode"] == 200
    answer = app(event("GET", "/consolex"))
    assert answer["statusCode"] == 404
    assert "Content-Security-Policy" not in answer.get("headers", {})


def test_the_console_is_not_in_the_openapi_document(assets: Path) -> None:
    """The console's routes are no API: the document (and everything derived from it) omits them."""
    document = json.loads(_app(assets)(event("GET", "/openapi.json"))["body"])
    assert not [p for p in document["paths"] if p.startswith("/console")]


def test_the_packaged_folder_is_the_default() -> None:
    """Without console_assets, the app serves the package's console_assets folder."""
    app = build_app(Settings.from_env({}), MemoryRepository(), flusher=lambda _a, _s: None)
    package = Path(__file__).resolve().parents[2] / "authz" / "handlers" / "admin"
    assert app.console.assets.folder == package / "console_assets"
