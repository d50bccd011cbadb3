"""``authz revoke`` and ``authz revocations ...``: refuse verified tokens before they expire.

A revocation is written like a policy: one transaction with its history
entry and an epoch bump, then the same stage flush and ``visible by`` report
as ``authz policies sync --apply`` (``authz.cli.freshness``). Bad input
(no target or two, a malformed value or id, an ``--until`` in the past or
without a time zone) is refused with exit 2 before the store is contacted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.markup import escape

from authz.cli.common import (
    Runtime,
    actor_option,
    echo_json,
    out,
    pass_runtime,
    print_rows,
    warn,
)
from authz.cli.freshness import report_freshness
from authz.revocations import Revocation, RevocationEvent, Target

__all__ = ["revocations", "revoke"]


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _target(sub: str | None, origin_jti: str | None, jti: str | None) -> Target:
    given = (("sub", sub), ("origin_jti", origin_jti), ("jti", jti))
    chosen = [(kind, value) for kind, value in given if value is not None]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --sub, --origin-jti or --jti")
    kind, value = chosen[0]
    try:
        return Target(kind, value)  # type: ignore[arg-type]  # kind is one of KINDS by construction
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{kind.replace('_', '-')}") from None


def _until(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-12-24T18:00:00Z)", param_hint="--until"
        ) from None
    if moment.tzinfo is None:
        # A time without a zone would silently mean this machine's zone.
        raise click.BadParameter(
            f"{text!r} has no time zone: add Z or an offset such as +01:00", param_hint="--until"
        )
    return moment


def _new_revocation(
    runtime: Runtime, target: Target, *, reason: str, actor: str, until: datetime | None
) -> Revocation:
    settings = runtime.settings
    try:
        return Revocation.new(
            target,
            reason=reason,
            revoked_by=actor,
            revoked_at=datetime.now(UTC),
            until=until,
            max_token_lifetime=settings.max_token_lifetime_seconds,
            leeway=settings.leeway_seconds,
        )
    except ValueError as exc:
        hint = "--until" if "until" in str(exc) else "--reason"
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _describe(revocation: Revocation) -> str:
    target = revocation.target
    cutoff = _when(datetime.fromtimestamp(revocation.cutoff, UTC))
    if target.kind == "sub":
        what = (
            f"every token of this user issued, or from a sign-in, at or before {cutoff} "
            "is refused; a sign-in after that works"
        )
    elif target.kind == "origin_jti":
        what = "this sign-in session and every token refreshed from it are refused"
    else:
        what = "this one token is refused"
    expires = _when(datetime.fromtimestamp(revocation.expires_at, UTC))
    return (
        f"[bold]Revoked {escape(target.id)}[/]: {what}. "
        f"Kept until {expires}, when no token it refuses can still be valid."
    )


def _sign_out(runtime: Runtime, sub: str) -> None:
    """Cognito's global sign-out; a failure is a warning, the revocation already stands."""
    # boto3 only for --cognito; it ships no type stubs.
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415

    from authz.handlers.signout import sign_out_everywhere  # noqa: PLC0415

    settings = runtime.settings
    pool = settings.user_pool_id
    # The pool's own region, which its id starts with, whatever region the table is in.
    region = pool.split("_", 1)[0] if pool else settings.region
    client = boto3.client("cognito-idp", region_name=region)
    result = sign_out_everywhere(client, settings.user_pool_id, sub)
    if result.signed_out:
        out.print(
            f"Cognito: signed {escape(str(result.username))} out everywhere; "
            "their refresh tokens no longer work."
        )
    else:
        warn(
            f"Cognito sign-out failed: {result.error}. The revocation stands; "
            "refresh tokens still work until you sign the user out."
        )


@click.command()
@click.option("--sub", help="Refuse every token of this user issued up to now (or --until).")
@click.option("--origin-jti", help="Refuse one sign-in session and every token refreshed from it.")
@click.option("--jti", help="Refuse one token.")
@click.option("--reason", default="", help="Why, for the audit history.")
@click.option(
    "--until",
    "until_text",
    metavar="ISO-TIME",
    help="--sub only: also refuse sign-ins up to this time, e.g. 2026-12-24T18:00:00Z.",
)
@click.option(
    "--cognito",
    is_flag=True,
    help="--sub only: also sign the user out in Cognito (AdminUserGlobalSignOut), "
    "so their refresh tokens stop working too.",
)
@actor_option
@pass_runtime
def revoke(
    runtime: Runtime,
    *,
    sub: str | None,
    origin_jti: str | None,
    jti: str | None,
    reason: str,
    until_text: str | None,
    cognito: bool,
    actor: str,
) -> int:
    """Refuse tokens that are signed and unexpired: a user's, a session's, or one token.

    The authorizers refuse them (401) within the printed bound. Revoking a
    target again replaces its revocation; `authz revocations delete` lifts it.
    """
    target = _target(sub, origin_jti, jti)
    if target.kind != "sub" and (until_text is not None or cognito):
        option = "--until" if until_text is not None else "--cognito"
        raise click.UsageError(f"{option} applies to --sub only")
    revocation = _new_revocation(
        runtime, target, reason=reason, actor=actor, until=_until(until_text)
    )
    result = runtime.revocations.revoke(revocation)
    out.print(_describe(result.revocation))
    # Stages are flushed first: a slow or failing Cognito must not delay that.
    report_freshness(runtime, result.epoch)
    if cognito:
        _sign_out(runtime, target.value)
    return 0


@click.group()
def revocations() -> None:
    """List, lift and audit revocations (write them with `authz revoke`)."""


def _all(runtime: Runtime) -> list[Revocation]:
    found: list[Revocation] = []
    cursor: str | None = None
    while True:
        page = runtime.revocations.list_revocations(limit=100, cursor=cursor)
        found.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            return found


@revocations.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_runtime
def list_(runtime: Runtime, *, as_json: bool) -> int:
    """Every live revocation, by kind and value."""
    found = _all(runtime)
    if as_json:
        echo_json([r.to_dict() for r in found])
        return 0
    if not found:
        out.print("No live revocations.")
        return 0
    print_rows(
        ("id", "revoked", "by", "until", "expires", "reason"),
        [
            (
                r.target.id,
                _when(r.revoked_at),
                r.revoked_by,
                _when(r.until),
                _when(datetime.fromtimestamp(r.expires_at, UTC)),
                r.reason,
            )
            for r in found
        ],
    )
    return 0


def _parse_id(text: str) -> Target:
    try:
        return Target.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ID") from None


@revocations.command()
@click.argument("revocation_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@actor_option
@pass_runtime
def delete(runtime: Runtime, *, revocation_id: str, yes: bool, actor: str) -> int:
    """Lift a revocation: ID is sub:VALUE, origin_jti:VALUE or jti:VALUE.

    The tokens it refused are let in again within the printed bound; the
    history keeps the revocation and its deletion.
    """
    target = _parse_id(revocation_id)
    if not yes:
        click.confirm(f"Lift the revocation {target}?", abort=True, err=True)
    result = runtime.revocations.delete_revocation(target, actor=actor)
    lifted = result.revocation
    out.print(
        f"Lifted {escape(target.id)} (revoked {_when(lifted.revoked_at)} by "
        f"{escape(lifted.revoked_by)}); policy epoch is now {result.epoch}."
    )
    report_freshness(runtime, result.epoch)
    return 0


@revocations.command()
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_runtime
def history(runtime: Runtime, *, limit: int, as_json: bool) -> int:
    """Every revoke and delete, newest first (expired revocations included)."""
    entries: list[RevocationEvent] = []
    cursor: str | None = None
    while len(entries) < limit:
        page = runtime.revocations.revocation_history(limit=limit - len(entries), cursor=cursor)
        entries.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            break
    if as_json:
        echo_json([e.to_dict() for e in entries])
        return 0
    if not entries:
        out.print("No revocation history.")
        return 0
    rows: list[tuple[str, ...]] = [
        (_when(e.at), e.action, e.target.id, e.by, _when(e.until), e.reason) for e in entries
    ]
    print_rows(("at", "action", "id", "by", "until", "reason"), rows)
    return 0
