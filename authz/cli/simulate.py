"""``authz simulate``: what the authorizer would decide for a described principal, and why.

Policies come from the table, or with ``--policies PATH`` from a policies/
directory (nothing is read from DynamoDB then). A request ARN must be
concrete (policies match patterns against it; a ``*`` in the request would
only match patterns that have a wildcard there too), so ``--method/--path``
fill the other parts with the configured region and the admin API's
fallback account, API and stage (``authz.policy.arn``, shown by ``--help``);
override them to simulate a policy that names a specific API or stage.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from authz.cli.common import Runtime, echo_json, error, out, pass_runtime, warn
from authz.policy.arn import (
    FALLBACK_ACCOUNT,
    FALLBACK_API,
    FALLBACK_STAGE,
    method_arn,
    parse_method_arn,
)
from authz.service import Simulation
from authz.service import simulate as simulate_decision
from authz.store.files import read_tree
from authz.store.memory import MemoryRepository
from authz.store.types import PolicyRepository
from authz.token.principal import Principal

__all__ = ["simulate"]


def _claims(pairs: tuple[str, ...]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--claim")
        claims[name] = value
    return claims


def _arn(options: dict[str, Any], region: str) -> str:
    try:
        if options["arn"] is not None:
            if options["method"] is not None or options["path"] is not None:
                raise click.UsageError("give either --arn or --method/--path, not both")
            return str(parse_method_arn(options["arn"]))
        if options["method"] is None or options["path"] is None:
            raise click.UsageError("give --method and --path (or --arn)")
        return method_arn(
            options["region"] or region,
            options["account"],
            options["api_id"],
            options["stage"],
            options["method"].upper(),
            options["path"],
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="request") from None


def _repository(runtime: Runtime, policies: Path | None) -> PolicyRepository:
    if policies is None:
        return runtime.repository
    tree = read_tree(policies)
    for problem in tree.problems:
        error(str(problem))
    if not tree.ok:
        raise click.exceptions.Exit(1)
    repository = MemoryRepository()
    for selector, file in tree.policies.items():
        repository.put(selector, file.document, actor=f"file:{file.file}", token=file.token)
    return repository


@click.command()
@click.option(
    "--policies",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read policies from this directory instead of the table.",
)
@click.option("--group", "-g", "groups", multiple=True, help="A cognito:groups entry (repeat).")
@click.option("--scope", "-s", "scopes", multiple=True, help="An OAuth2 scope (repeat).")
@click.option("--sub", default="", help="The principal's sub (for ${sub}).")
@click.option("--username", help="The principal's username (for ${username}).")
@click.option("--client-id", help="The app client id (for ${client_id}).")
@click.option(
    "--claim",
    "claim_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A claim for ${claim:NAME} (repeat).",
)
@click.option("--method", "-X", help="HTTP method of the request, e.g. GET.")
@click.option("--path", "-p", help="Request path, e.g. /orders/1.")
@click.option("--region", help="Region in the methodArn  [default: AWS_REGION]")
@click.option("--account", default=FALLBACK_ACCOUNT, show_default=True)
@click.option("--api-id", default=FALLBACK_API, show_default=True)
@click.option("--stage", default=FALLBACK_STAGE, show_default=True)
@click.option("--arn", help="A complete methodArn instead of --method/--path.")
@click.option("--explain", is_flag=True, help="Show the statements that decided.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_runtime
def simulate(runtime: Runtime, /, **options: Any) -> int:
    """Decide one request for a described principal: prints ALLOW (exit 0) or DENY (exit 1)."""
    arn = _arn(options, runtime.settings.region)
    principal = Principal(
        sub=options["sub"],
        username=options["username"],
        client_id=options["client_id"],
        token_use="access",  # noqa: S106  # a claim value, not a secret
        groups=tuple(options["groups"]),
        scopes=tuple(options["scopes"]),
        issuer="simulation",
        expires_at=int(time.time()) + 3600,
        claims=_claims(options["claim_pairs"]),
    )
    repository = _repository(runtime, options["policies"])
    result = simulate_decision(repository, principal, arn, settings=runtime.settings)
    # Over budget the authorizer fails closed (500): not an allow.
    allowed = result.allowed and not result.over_budget
    if options["as_json"]:
        echo_json(result.to_dict())
    else:
        _show(result, allowed, explain=options["explain"])
    if result.over_budget:
        warn(
            f"the effective policy is {result.policy_bytes} bytes, over AUTHZ_POLICY_MAX_BYTES "
            f"({result.max_bytes}): the authorizer would fail closed (500) for this principal"
        )
    return 0 if allowed else 1


def _show(result: Simulation, allowed: bool, *, explain: bool) -> None:
    request = parse_method_arn(result.method_arn).request
    verdict = "[bold green]ALLOW[/]" if allowed else "[bold red]DENY[/]"
    out.print(f"{verdict} {escape(request)}")
    if not explain:
        return
    out.print(f"  methodArn: {escape(result.method_arn)}")
    found = set(result.found)
    out.print(
        "  selectors: "
        + ", ".join(
            escape(str(s)) + ("" if s in found else " (no policy)") for s in result.selectors
        )
    )
    for line in str(result.explanation).splitlines():
        out.print(f"  {escape(line)}")
    out.print(f"  effective policy ({result.policy_bytes} bytes):")
    out.print_json(data=result.effective_policy)
