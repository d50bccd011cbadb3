"""The admin console's pages: ``GET /console``, ``/console/{asset}`` and ``/console/config.json``.

These routes need no token: they are the same static files for everyone,
and the page signs in before it calls anything. Every data call the page
makes goes to the admin API with a bearer token, through the authorizer and
the caller gate like any other call. So the admin app answers these two
resources before its gate (``AdminApp``), and nothing here reads the table.

Requests are told apart by the event's ``resource`` (the API's resource
template, ``/console`` or ``/console/{asset}``) and the file by
``pathParameters.asset``, never by ``path``: behind a custom domain with a
base path mapping, ``path`` carries that base path (``/base/console``).

- ``/console``: ``index.html`` with a fresh nonce per response, in its
  ``<meta name="csp-nonce">`` and in the Content-Security-Policy's
  ``style-src`` (CodeMirror injects ``<style>`` elements and stamps them with
  that nonce). No inline script is allowed at all. Never cached.
- ``/console/`` (the same resource, API Gateway ignores the trailing slash):
  a redirect to ``../console``, relative, so it is right under any stage or
  base path. The page's own references are relative too (``console/app.js``).
- ``/console/config.json``: how to sign in (``ConsoleConfig``).
- ``/console/<name>``: a built file, looked up in the folder's listing only
  (``console_files``). 304 when ``If-None-Match`` holds its ETag.
- GET only, as serverless.yml declares them (405 otherwise); 503 when the
  console is not built.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from authz.handlers.admin.console_files import ASSETS, REVALIDATE, AssetFolder
from authz.handlers.admin.errors import ApiError
from authz.settings import Settings

__all__ = [
    "NOT_BUILT",
    "Console",
    "ConsoleConfig",
    "content_security_policy",
    "is_console_event",
]

PAGE = "/console"
ASSET = "/console/{asset}"
INDEX = "index.html"
CONFIG = "config.json"
NOT_BUILT = "the console is not built: run `npm run build:console`"

SignIn = Literal["local", "hosted", "none"]

_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Every answer that is not the page itself: nothing in it may load or run anything.
_LOCKED = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_NONCE_META = re.compile(r'<meta\s+name="csp-nonce"\s+content="[^"]*"\s*/?>', re.IGNORECASE)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)


def is_console_event(event: Mapping[str, Any]) -> bool:
    """Whether API Gateway routed ``event`` to one of the console's two resources."""
    return event.get("resource") in (PAGE, ASSET)


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """What ``/console/config.json`` tells the page about signing in."""

    sign_in: SignIn
    token_use: Literal["access", "id"]
    hosted_domain: str | None = None
    hosted_client_id: str | None = None
    local_sign_in_path: str | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, local_sign_in_path: str | None = None
    ) -> ConsoleConfig:
        """Local only when the dev stack offers its sign-in endpoint; hosted when configured."""
        # An authorizer that takes either kind takes the access token the console sends.
        token_use: Literal["access", "id"] = "id" if settings.token_use == "id" else "access"
        if local_sign_in_path is not None:
            return cls("local", token_use, local_sign_in_path=local_sign_in_path)
        if settings.console_domain and settings.console_client_id:
            return cls("hosted", token_use, settings.console_domain, settings.console_client_id)
        return cls("none", token_use)

    def as_json(self) -> dict[str, Any]:
        hosted = (
            {"domain": self.hosted_domain, "clientId": self.hosted_client_id}
            if self.sign_in == "hosted"
            else None
        )
        return {
            "signIn": self.sign_in,
            "tokenUse": self.token_use,
            "hosted": hosted,
            "localSignInPath": self.local_sign_in_path,
        }


def content_security_policy(nonce: str, hosted_domain: str | None = None) -> str:
    """The page's policy: its own scripts only, styles by nonce, calls to itself (and the
    hosted UI's token endpoint), never framed."""
    hosted = f" {hosted_domain}" if hosted_domain else ""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            f"connect-src 'self'{hosted}",
            "img-src 'self' data:",
            "font-src 'self'",
            f"form-action 'self'{hosted}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def _with_nonce(html: str, nonce: str) -> str:
    meta = f'<meta name="csp-nonce" content="{nonce}">'
    # Function replacements: a replacement string would read backslashes and group
    # references in the nonce as a template.
    if _NONCE_META.search(html):
        return _NONCE_META.sub(lambda _m: meta, html, count=1)
    # A page built without the tag still gets one, so its editor can style itself.
    return _HEAD.sub(lambda m: m.group(0) + meta, html, count=1)


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    security = {**_SECURITY, "Content-Security-Policy": _LOCKED, "Cache-Control": "no-store"}
    return ApiError(status, code, message, headers={**security, **(headers or {})}).proxy()


class Console:
    """Answers the console's paths; ``nonce()`` makes each page's nonce (injectable for tests)."""

    def __init__(
        self,
        config: ConsoleConfig,
        assets: AssetFolder | None = None,
        nonce: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        self.config = config
        self.assets = assets if assets is not None else AssetFolder(ASSETS)
        self._nonce = nonce

    def __call__(self, event: Mapping[str, Any]) -> dict[str, Any]:
        method, path = event.get("httpMethod"), event.get("path")
        if method != "GET":
            return _error(
                405, "method_not_allowed", f"{method} is not allowed on {path}", {"Allow": "GET"}
            )
        if event.get("resource") == PAGE:
            if isinstance(path, str) and path.endswith("/"):
                return _respond(302, "", "text/plain; charset=utf-8", {"Location": "../console"})
            return self._index()
        return self._file(_asset_name(event), event)

    def _file(self, name: str | None, event: Mapping[str, Any]) -> dict[str, Any]:
        if name == CONFIG:
            body = json.dumps(self.config.as_json())
            return _respond(200, body, "application/json", {"Cache-Control": "no-store"})
        # The page has one address, where its relative links work.
        asset = self.assets.get(name) if name is not None and name != INDEX else None
        if asset is None:
            return _error(404, "not_found", f"no console file {name!r}")
        headers = {"Cache-Control": REVALIDATE, "ETag": asset.etag}
        if _header(event, "if-none-match") == asset.etag:
            return _respond(304, "", None, headers)
        return _respond(200, asset.text, asset.content_type, headers)

    def _index(self) -> dict[str, Any]:
        page = self.assets.get(INDEX)
        if page is None:
            return _error(503, "console_not_built", NOT_BUILT)
        nonce = self._nonce()
        csp = content_security_policy(nonce, self.config.hosted_domain)
        headers = {"Content-Security-Policy": csp, "Cache-Control": "no-store"}
        return _respond(200, _with_nonce(page.text, nonce), page.content_type, headers)


def _asset_name(event: Mapping[str, Any]) -> str | None:
    """``pathParameters.asset`` as API Gateway decoded it, or None."""
    params = event.get("pathParameters")
    name = params.get("asset") if isinstance(params, Mapping) else None
    return name if isinstance(name, str) else None


def _respond(
    status: int, body: str, content_type: str | None, headers: Mapping[str, str]
) -> dict[str, Any]:
    """A proxy answer with the security headers; always text (see ``console_files``)."""
    out = {**_SECURITY, "Content-Security-Policy": _LOCKED, **headers}
    if content_type is not None:
        out["Content-Type"] = content_type
    return {"statusCode": status, "headers": out, "body": body, "isBase64Encoded": False}
