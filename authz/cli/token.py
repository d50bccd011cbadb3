"""``authz token inspect``: look inside a JWT, and optionally verify it as the authorizer would."""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime
from typing import Any

import click
from rich.markup import escape

from authz.cli.common import Runtime, echo_json, error, out, pass_runtime
from authz.errors import ClaimError, TokenError
from authz.token import Principal, Verifier

__all__ = ["token"]

_TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")


@click.group()
def token() -> None:
    """Inspect tokens."""


def _segment(segment: str, what: str) -> dict[str, Any]:
    # Lenient on purpose (padding, any alg): inspecting a token the verifier
    # refuses is exactly when an operator needs to see inside it.
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise click.BadParameter(
            f"the {what} is not base64url JSON: {exc}", param_hint="TOKEN"
        ) from None
    if not isinstance(value, dict):
        raise click.BadParameter(f"the {what} is not a JSON object", param_hint="TOKEN")
    return value


def _split(raw_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = raw_token.strip().split(".")
    if len(parts) == 5:
        raise click.BadParameter("an encrypted token (JWE) cannot be inspected", param_hint="TOKEN")
    if len(parts) != 3:
        raise click.BadParameter(
            f"a JWT has 3 dot-separated segments, this has {len(parts)}", param_hint="TOKEN"
        )
    return _segment(parts[0], "header"), _segment(parts[1], "payload")


def _relative(moment: float, now: float) -> str:
    delta = int(moment - now)
    span = abs(delta)
    text = (
        f"{span // 3600}h{span % 3600 // 60:02d}m"
        if span >= 3600
        else f"{span // 60}m{span % 60:02d}s"
    )
    return f"in {text}" if delta >= 0 else f"{text} ago"


def _times(claims: dict[str, Any], now: float) -> dict[str, str]:
    out_: dict[str, str] = {}
    for name in _TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                moment = datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                out_[name] = "out of range"
                continue
            out_[name] = f"{moment:%Y-%m-%d %H:%M:%S} UTC ({_relative(value, now)})"
    return out_


def _principal_json(principal: Principal) -> dict[str, Any]:
    return {
        "sub": principal.sub,
        "username": principal.username,
        "client_id": principal.client_id,
        "token_use": principal.token_use,
        "groups": list(principal.groups),
        "scopes": list(principal.scopes),
        "issuer": principal.issuer,
        "expires_at": principal.expires_at,
    }


def _rejection(exc: TokenError) -> dict[str, Any]:
    detail: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, ClaimError):
        detail.update(claim=exc.claim, actual=exc.actual, expected=exc.expected)
    return detail


@token.command()
@click.argument("raw_token", metavar="TOKEN")
@click.option(
    "--verify",
    is_flag=True,
    help="Verify signature and claims with the AUTHZ_* settings, as the authorizer does.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_runtime
def inspect(runtime: Runtime, *, raw_token: str, verify: bool, as_json: bool) -> int:
    """Decode TOKEN's header and claims (UNVERIFIED unless --verify; exit 1 if rejected)."""
    header, claims = _split(raw_token)
    now = time.time()
    if not verify:
        if as_json:
            echo_json({"verified": False, "header": header, "claims": claims})
            return 0
        out.print(
            "[bold yellow]UNVERIFIED[/] [yellow]signature and claims NOT checked; "
            "use --verify to check them[/]"
        )
        _show(header, claims, now)
        return 0

    verifier = Verifier(runtime.settings)
    try:
        principal = verifier.verify(raw_token.strip())
    except TokenError as exc:
        rejection = _rejection(exc)
        if as_json:
            echo_json({"verified": False, "header": header, "claims": claims, **rejection})
        else:
            error(f"token rejected ({rejection['error']}): {exc}")
            if isinstance(exc, ClaimError):
                error(f"  claim {exc.claim}: actual {exc.actual!r}, expected {exc.expected!r}")
        return 1
    if as_json:
        echo_json(
            {
                "verified": True,
                "header": header,
                "claims": claims,
                "principal": _principal_json(principal),
            }
        )
        return 0
    out.print("[bold green]VERIFIED[/] signature and claims accepted")
    _show(header, claims, now)
    out.print("[bold]principal[/]")
    for key, value in _principal_json(principal).items():
        out.print(f"  {key}: {escape(json.dumps(value))}")
    return 0


def _show(header: dict[str, Any], claims: dict[str, Any], now: float) -> None:
    out.print("[bold]header[/]")
    out.print_json(data=header)
    out.print("[bold]claims[/]")
    out.print_json(data=claims)
    for name, text in _times(claims, now).items():
        out.print(f"  {name}: {escape(text)}")
