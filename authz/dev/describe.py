"""What ``authz dev`` prints about a running stack: variables, tokens, curl lines."""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from authz.dev import ENV_FILE
from authz.dev.cognito import DEMO_PASSWORD
from authz.dev.oauth import TOKEN_LIFETIME_SECONDS
from authz.dev.stack import (
    API_ID,
    DEMO_USERS,
    MACHINE_CLIENT,
    MACHINE_RESOURCE_SERVER,
    MACHINE_SCOPES,
    STAGE,
    DevStack,
)
from authz.policy.document import VERSION

__all__ = ["as_json", "authz_command", "describe", "dev_env", "env_block"]

_ADMIN_JSON = "-H \"Authorization: Bearer $ADMIN_TOKEN\" -H 'Content-Type: application/json'"
_EDIT = {
    "document": {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": ["execute-api:/*/*/orders", "execute-api:/*/*/orders/*"],
            }
        ],
    },
    "description": "readers may now do anything to orders",
}
_SIMULATE = {
    "principal": {"groups": ["writers", "interns"]},
    "request": {"method": "DELETE", "path": "/orders/42"},
}


def dev_env(stack: DevStack) -> dict[str, str]:
    """Every variable the ``authz`` CLI needs to talk to this stack, and ``authz dev token``'s."""
    cognito = stack.cognito
    return {
        "AWS_REGION": stack.settings.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # DynamoDB Local and moto accept any
        "AUTHZ_TABLE": stack.settings.table,
        "AUTHZ_DYNAMODB_ENDPOINT": stack.settings.dynamodb_endpoint or "",
        "AUTHZ_USER_POOL_ID": cognito.pool_id,
        "AUTHZ_CLIENT_IDS": f"{cognito.client_id},{stack.machine_client[0]}",
        "AUTHZ_JWKS_URL": cognito.jwks_url,
        # CLI writes flush the local stage like admin API writes: through
        # FlushStageAuthorizersCache, which the local gateway answers too.
        "AUTHZ_STAGE_FLUSH": f"{API_ID}/{STAGE}",
        "AUTHZ_EPOCH_CHECK_SECONDS": f"{stack.settings.epoch_check_seconds:g}",
        "AUTHZ_RESULT_TTL_SECONDS": str(stack.settings.result_ttl_seconds),
        "AWS_ENDPOINT_URL_API_GATEWAY": stack.base_url.removesuffix(f"/{STAGE}"),
        "AUTHZ_DEV_URL": stack.base_url,
        "AUTHZ_DEV_COGNITO_ENDPOINT": cognito.endpoint,
        "AUTHZ_DEV_CLIENT_ID": cognito.client_id,
        "AUTHZ_DEV_TOKEN_URL": stack.oauth.url if stack.oauth is not None else "",
        "AUTHZ_DEV_M2M_CLIENT_ID": stack.machine_client[0],
        "AUTHZ_DEV_M2M_CLIENT_SECRET": stack.machine_client[1],
        # The demo reader's sub, for the revocation example (README, `authz revoke`).
        "AUTHZ_DEV_READER_SUB": stack.subs.get("reader", ""),
        # `authz revoke --sub X --cognito` signs the user out of the local pool.
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognito.endpoint,
        # `authz matrix` in that shell then draws the demo API with no flag.
        **({"AUTHZ_ROUTES": str(stack.routes)} if stack.routes is not None else {}),
    }


def env_block(env: Mapping[str, str]) -> str:
    """``export NAME=value`` lines a POSIX shell can ``source``."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def authz_command() -> str:
    """How to call ``authz`` from the printed lines: by name when it is on PATH, else by path."""
    here = Path(sys.executable).with_name("authz")
    on_path = shutil.which("authz")
    if on_path is not None and Path(on_path).resolve() == here.resolve():
        return "authz"
    with contextlib.suppress(ValueError):
        return str(here.relative_to(Path.cwd()))
    return str(here)


def describe(stack: DevStack) -> str:
    """What ``authz dev`` prints: URLs, tokens and ready-to-paste curl lines."""
    url = stack.base_url
    lines: list[str] = [
        "",
        "authz dev is running. Everything listens on 127.0.0.1; Ctrl-C stops it all.",
        "",
        f"  Console: {stack.console_url}   (sign in as admin / {DEMO_PASSWORD})",
        "",
        f"  API Gateway (local)  {url}",
        f"  admin API            {url}/policies   (OpenAPI: {url}/openapi.json)",
        f"  DynamoDB Local       {stack.settings.dynamodb_endpoint}   table {stack.settings.table}",
        f"  Cognito (moto)       {stack.cognito.endpoint}   pool {stack.cognito.pool_id}",
        f"  OAuth2 token URL     {dev_env(stack)['AUTHZ_DEV_TOKEN_URL']}   (client credentials)",
        f"  policies synced      {stack.synced}",
        "",
        "Demo users (password: " + DEMO_PASSWORD + "):",
    ]
    for user, groups in DEMO_USERS.items():
        lines.append(f"  {user:<7} groups: {', '.join(groups) or '(none)'}")
    scopes = " ".join(f"{MACHINE_RESOURCE_SERVER}/{s}" for s in MACHINE_SCOPES)
    lines += [
        f"  {MACHINE_CLIENT} (app client, client-credentials grant)  scopes: {scopes}",
        "",
        f"For the authz CLI in another shell: `source {ENV_FILE}` (written now), or paste:",
        "",
        env_block(dev_env(stack)).rstrip("\n"),
        "",
        f"Access tokens (valid {TOKEN_LIFETIME_SECONDS // 60} minutes; "
        f"`{authz_command()} dev token USER` prints a fresh one):",
        "",
    ]
    for user in DEMO_USERS:
        lines.append(f"export {user.upper()}_TOKEN='{stack.tokens[user]}'")
    lines.append(
        f"export SERVICE_TOKEN=$({authz_command()} dev token --client)"
        "   # orders-service, orders/read"
    )
    lines += _examples(url)
    lines += _revocation_examples(url, stack.subs.get("reader", ""))
    if stack.routes is not None:
        lines += _matrix_examples(url, stack.routes)
    return "\n".join(lines)


def _examples(url: str) -> list[str]:
    """Ready-to-paste curl lines, one for each kind of answer."""
    return [
        "",
        "Then try:",
        "",
        "# allowed (200): readers may GET orders",
        f'curl -i -H "Authorization: Bearer $READER_TOKEN" {url}/orders/42',
        "# denied (403): readers may not DELETE",
        f'curl -i -X DELETE -H "Authorization: Bearer $READER_TOKEN" {url}/orders/42',
        "# denied by an explicit Deny (403): interns may write but never DELETE",
        f'curl -i -X DELETE -H "Authorization: Bearer $INTERN_TOKEN" {url}/orders/42',
        "# unauthenticated (401)",
        f"curl -i {url}/orders/42",
        "# signed in, no groups: the default policy allows GET /health (200) and little else",
        f'curl -i -H "Authorization: Bearer $GUEST_TOKEN" {url}/health',
        f'curl -i -H "Authorization: Bearer $GUEST_TOKEN" {url}/orders/42',
        "# a machine-to-machine token: the orders/read scope may GET orders (200)",
        f'curl -i -H "Authorization: Bearer $SERVICE_TOKEN" {url}/orders/42',
        "# ... which is what the client-credentials grant gives any OAuth2 client:",
        'curl -s -u "$AUTHZ_DEV_M2M_CLIENT_ID:$AUTHZ_DEV_M2M_CLIENT_SECRET" '
        "-d grant_type=client_credentials -d scope=orders/read $AUTHZ_DEV_TOKEN_URL",
        "# admin: list policies, then let readers DELETE orders too",
        f'curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {url}/policies',
        f"curl -i -X PUT {_ADMIN_JSON} -d {shlex.quote(json.dumps(_EDIT))} \\",
        f"  {url}/policies/group/readers",
        "# admin: why is the intern denied?",
        f"curl -s -X POST {_ADMIN_JSON} -d {shlex.quote(json.dumps(_SIMULATE))} \\",
        f"  {url}/simulate",
        "",
    ]


def _revocation_examples(url: str, reader_sub: str) -> list[str]:
    """Revoke the reader: 401 at once (the stage is flushed), then a fresh sign-in works."""
    body = json.dumps({"sub": reader_sub, "reason": "demo: signed out everywhere"})
    reader = f'curl -i -H "Authorization: Bearer $READER_TOKEN" {url}/orders/42'
    return [
        "# admin: revoke the reader's tokens issued so far (answered after one epoch interval,",
        f"# once the stage is flushed); `{authz_command()} revoke --sub $AUTHZ_DEV_READER_SUB` "
        "does the same",
        f"curl -i -X POST {_ADMIN_JSON} -d {shlex.quote(body)} \\",
        f"  {url}/revocations",
        "# ... so the reader's token now gets 401",
        reader,
        "# a fresh sign-in (a second later) works again: a plain revocation refuses only",
        '# tokens issued before it (with "until" it refuses them up to that time)',
        f"export READER_TOKEN=$({authz_command()} dev token reader)",
        reader,
        "",
    ]


def _matrix_examples(url: str, routes: Path) -> list[str]:
    """Who may call which route of the demo API: from the CLI and from the admin API."""
    return [
        f"# the access matrix of the demo API ({_shown(routes)}): who may call which route",
        f"{authz_command()} matrix",
        f'curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {url}/matrix',
        "",
    ]


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def as_json(stack: DevStack) -> dict[str, Any]:
    """The same facts for scripts (``authz dev --json``)."""
    return {
        "url": stack.base_url,
        "console_url": stack.console_url,
        "dynamodb_endpoint": stack.settings.dynamodb_endpoint,
        "table": stack.settings.table,
        "cognito_endpoint": stack.cognito.endpoint,
        "user_pool_id": stack.cognito.pool_id,
        "client_id": stack.cognito.client_id,
        "token_url": stack.oauth.url if stack.oauth is not None else None,
        "machine_client": {
            "name": MACHINE_CLIENT,
            "client_id": stack.machine_client[0],
            "client_secret": stack.machine_client[1],
        },
        "routes": str(stack.routes) if stack.routes is not None else None,
        "env": dev_env(stack),
        "users": {
            u: {"groups": list(g), "token": stack.tokens[u], "sub": stack.subs.get(u)}
            for u, g in DEMO_USERS.items()
        },
    }
