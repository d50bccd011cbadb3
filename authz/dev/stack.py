"""The whole product on one machine: what ``authz dev`` starts and the end-to-end tests reuse.

DynamoDB Local (in memory), a local Cognito user pool on moto's server with
demo users in demo groups, the policies of ``policies/`` synced into the
table, and a local API Gateway on 127.0.0.1 that puts the real authorizer
handler in front of the admin API and a demo backend.

The handlers are built from an explicit ``Settings`` rather than from
``os.environ``, so a stack can run inside a test process next to others.
Only the fake AWS credentials go into the environment: botocore reads them
from there, and DynamoDB Local and moto accept any.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authz.dev.backend import handler as backend_handler
from authz.dev.cognito import DEMO_PASSWORD, LocalCognito
from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.gateway import AuthorizerConfig, LocalGateway, Route
from authz.dev.oauth import TOKEN_LIFETIME_SECONDS, LocalTokenEndpoint
from authz.errors import AuthzError
from authz.policy_files import read_tree
from authz.settings import Settings

__all__ = ["DEMO_USERS", "MACHINE_CLIENT", "DevStack", "StackError", "dev_env", "start_stack"]

# Who the demo users are, chosen so the printed curl lines show every answer:
# an admin, a reader, a writer whose "interns" group denies DELETE, and a
# signed-in user with no groups (only the default policy applies).
DEMO_USERS: Mapping[str, tuple[str, ...]] = {
    "admin": ("authz-admins", "readers", "writers"),
    "reader": ("readers",),
    "intern": ("writers", "interns"),
    "guest": (),
}

# A machine-to-machine app client (client-credentials grant) and the scope it
# may ask for: Cognito spells custom scopes "<resource server>/<scope>".
MACHINE_CLIENT = "orders-service"
MACHINE_RESOURCE_SERVER = "orders"
MACHINE_SCOPES = ("read",)

API_ID = "authzdev"
STAGE = "dev"
ACCOUNT = "123456789012"
TABLE = "authz-dev"

Log = Callable[[str], None]


class StackError(AuthzError):
    """The local stack could not start; the message says what to fix."""


@dataclass
class DevStack:
    settings: Settings
    dynamodb: DynamoDBLocal | None
    cognito: LocalCognito
    gateway: LocalGateway
    base_url: str
    oauth: LocalTokenEndpoint | None = None
    machine_client: tuple[str, str] = ("", "")  # (client id, secret) of MACHINE_CLIENT
    tokens: dict[str, str] = field(default_factory=dict)  # demo user -> access token
    synced: int = 0

    def token_for(self, user: str) -> str:
        """A fresh access token (moto's expire after an hour)."""
        return self.cognito.tokens(user, DEMO_PASSWORD)["access"]

    def stop(self) -> None:
        """Stop everything this stack started; safe to call twice."""
        with contextlib.suppress(Exception):
            self.gateway.stop()
        if self.oauth is not None:
            with contextlib.suppress(Exception):
                self.oauth.stop()
        with contextlib.suppress(Exception):
            self.cognito.stop()
        if self.dynamodb is not None:
            with contextlib.suppress(Exception):
                self.dynamodb.stop()

    def __enter__(self) -> DevStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _fake_aws_credentials() -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)


def start_stack(
    policies: Path,
    *,
    port: int = 0,
    result_ttl_seconds: int = 300,
    epoch_check_seconds: float = 1.0,
    dynamodb_endpoint: str | None = None,
    table: str = TABLE,
    log: Log = lambda _msg: None,
) -> DevStack:
    """Start every component and return once the gateway answers.

    ``dynamodb_endpoint`` reuses a running DynamoDB Local (the tests' one)
    instead of starting another. On any failure, whatever was started is
    stopped again before the error propagates.
    """
    tree = read_tree(policies)
    if not tree.ok:
        lines = "\n".join(
            f"  {p.file}: {p.path or '(document)'}: {p.message}" for p in tree.problems
        )
        raise StackError(f"{policies} has invalid policies; fix them first:\n{lines}")
    _fake_aws_credentials()
    started: list[Callable[[], None]] = []
    try:
        dynamodb: DynamoDBLocal | None = None
        if dynamodb_endpoint is None:
            log("starting DynamoDB Local (in memory) ...")
            dynamodb = DynamoDBLocal().start()
            started.append(dynamodb.stop)
            dynamodb_endpoint = dynamodb.endpoint
        log("starting the local Cognito user pool (moto) ...")
        cognito = LocalCognito.start(region="us-east-1", pool_name="authz-dev")
        started.append(cognito.stop)
        for user, groups in DEMO_USERS.items():
            cognito.create_user(user, DEMO_PASSWORD, groups)
        machine = cognito.create_machine_client(
            MACHINE_CLIENT, MACHINE_RESOURCE_SERVER, MACHINE_SCOPES
        )
        oauth = LocalTokenEndpoint(cognito)
        oauth.start()
        started.append(oauth.stop)

        env = {
            **cognito.settings_env(),
            "AUTHZ_CLIENT_IDS": f"{cognito.client_id},{machine[0]}",
            "AUTHZ_TABLE": table,
            "AUTHZ_DYNAMODB_ENDPOINT": dynamodb_endpoint,
            "AUTHZ_EPOCH_CHECK_SECONDS": str(epoch_check_seconds),
            "AUTHZ_RESULT_TTL_SECONDS": str(result_ttl_seconds),
            "AUTHZ_STAGE_FLUSH": f"{API_ID}/{STAGE}",
        }
        settings = Settings.from_env(env)

        # Deferred: the store pulls in pynamodb/botocore.
        from authz.handlers import admin, authorizer  # noqa: PLC0415
        from authz.store import DynamoRepository  # noqa: PLC0415

        repository = DynamoRepository(settings)
        repository.create_table()
        log(f"syncing {len(tree.policies)} policies from {policies} ...")
        for item in tree.policies.values():
            repository.put(
                item.selector,
                item.document,
                actor="authz dev",
                description=f"from {item.file}",
                token=item.token,
            )

        gateway_box: list[LocalGateway] = []

        def flush(api_id: str, stage: str) -> None:
            # What FlushStageAuthorizersCache does on AWS, for the one local stage.
            if gateway_box and (api_id, stage) == (API_ID, STAGE):
                gateway_box[0].flush_authorizer_cache()

        authorizer_app = authorizer.build(settings)
        admin_app = admin.build_app(settings, repository, flusher=flush)
        routes = [
            Route("ANY", "/policies", admin_app, function_name="admin"),
            Route("ANY", "/policies/{proxy+}", admin_app, function_name="admin"),
            Route("ANY", "/simulate", admin_app, function_name="admin"),
            Route("GET", "/openapi.json", admin_app, function_name="admin"),
            Route("ANY", "/{proxy+}", backend_handler, function_name="backend"),
        ]
        gateway = LocalGateway(
            routes,
            AuthorizerConfig(authorizer_app, "TOKEN", result_ttl_seconds=result_ttl_seconds),
            region=settings.region,
            account_id=ACCOUNT,
            api_id=API_ID,
            stage=STAGE,
        )
        gateway_box.append(gateway)
        base_url = gateway.start(port)
        started.append(gateway.stop)
        stack = DevStack(
            settings,
            dynamodb,
            cognito,
            gateway,
            base_url,
            oauth=oauth,
            machine_client=machine,
            synced=len(tree.policies),
        )
        stack.tokens = {user: stack.token_for(user) for user in DEMO_USERS}
        return stack
    except BaseException:
        for stop in reversed(started):
            with contextlib.suppress(Exception):
                stop()
        raise


_ADMIN_JSON = "-H \"Authorization: Bearer $ADMIN_TOKEN\" -H 'Content-Type: application/json'"
_EDIT = {
    "document": {
        "Version": "2012-10-17",
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


ENV_FILE = ".authz-dev.env"


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
    lines += [
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
    return "\n".join(lines)


def as_json(stack: DevStack) -> dict[str, Any]:
    """The same facts for scripts (``authz dev --json``)."""
    return {
        "url": stack.base_url,
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
        "env": dev_env(stack),
        "users": {u: {"groups": list(g), "token": stack.tokens[u]} for u, g in DEMO_USERS.items()},
    }
