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
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authz.dev.backend import handler as backend_handler
from authz.dev.cognito import DEMO_PASSWORD, LocalCognito
from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.gateway import (
    AuthorizerConfig,
    LocalGateway,
    Route,
    admin_routes,
    console_routes,
)
from authz.dev.oauth import LocalTokenEndpoint
from authz.dev.sign_in import SIGN_IN_PATH, LocalSignIn
from authz.errors import AuthzError
from authz.settings import Settings
from authz.store.files import PolicyTree, read_tree
from authz.store.types import PolicyRepository

__all__ = [
    "DEMO_ROUTES",
    "DEMO_USERS",
    "MACHINE_CLIENT",
    "DevStack",
    "StackError",
    "start_stack",
]

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

# The demo API's routes, for the access matrix (AUTHZ_ROUTES). The dev stack runs from
# the repository (it is not packaged), where examples/ sits beside authz/ and policies/.
DEMO_ROUTES = Path(__file__).resolve().parents[2] / "examples" / "orders-api.yaml"

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
    subs: dict[str, str] = field(default_factory=dict)  # demo user -> sub (to revoke them)
    synced: int = 0
    routes: Path | None = None  # the route file behind AUTHZ_ROUTES, when there is one

    @property
    def console_url(self) -> str:
        """The admin console, served by the admin handler like on AWS."""
        return f"{self.base_url}/console"

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
    routes: Path | None = DEMO_ROUTES,
    log: Log = lambda _msg: None,
) -> DevStack:
    """Start every component and return once the gateway answers.

    ``dynamodb_endpoint`` reuses a running DynamoDB Local (the tests' one)
    instead of starting another. ``routes`` (a route file, when it exists)
    becomes the admin API's ``AUTHZ_ROUTES``, so its access matrix needs no
    flag. On any failure, whatever was started is stopped again before the
    error propagates.
    """
    tree = _valid_tree(policies)
    routes = routes.resolve() if routes is not None and routes.is_file() else None
    _fake_aws_credentials()
    with contextlib.ExitStack() as started:
        dynamodb: DynamoDBLocal | None = None
        if dynamodb_endpoint is None:
            log("starting DynamoDB Local (in memory) ...")
            dynamodb = DynamoDBLocal().start()
            started.callback(_quietly, dynamodb.stop)
            dynamodb_endpoint = dynamodb.endpoint
        log("starting the local Cognito user pool (moto) ...")
        cognito, machine, oauth = _start_cognito(started)
        settings = Settings.from_env(
            {
                **cognito.settings_env(),
                "AUTHZ_CLIENT_IDS": f"{cognito.client_id},{machine[0]}",
                "AUTHZ_TABLE": table,
                "AUTHZ_DYNAMODB_ENDPOINT": dynamodb_endpoint,
                "AUTHZ_EPOCH_CHECK_SECONDS": str(epoch_check_seconds),
                "AUTHZ_RESULT_TTL_SECONDS": str(result_ttl_seconds),
                "AUTHZ_STAGE_FLUSH": f"{API_ID}/{STAGE}",
                **({"AUTHZ_ROUTES": str(routes)} if routes is not None else {}),
            }
        )
        log(f"syncing {len(tree.policies)} policies from {policies} ...")
        repository = _synced_repository(settings, tree)
        gateway = _gateway(settings, repository, result_ttl_seconds, cognito)
        base_url = gateway.start(port)
        started.callback(_quietly, gateway.stop)
        stack = DevStack(
            settings,
            dynamodb,
            cognito,
            gateway,
            base_url,
            oauth=oauth,
            machine_client=machine,
            synced=len(tree.policies),
            routes=routes,
        )
        stack.tokens = {user: stack.token_for(user) for user in DEMO_USERS}
        stack.subs = {user: _sub(cognito, user) for user in DEMO_USERS}
        started.pop_all()  # running now: the caller stops it
    return stack


def _quietly(stop: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):
        stop()


def _sub(cognito: LocalCognito, user: str) -> str:
    attributes = cognito.client.admin_get_user(UserPoolId=cognito.pool_id, Username=user)[
        "UserAttributes"
    ]
    return str(next(a["Value"] for a in attributes if a["Name"] == "sub"))


def _valid_tree(policies: Path) -> PolicyTree:
    tree = read_tree(policies)
    if not tree.ok:
        lines = "\n".join(
            f"  {p.file}: {p.path or '(document)'}: {p.message}" for p in tree.problems
        )
        raise StackError(f"{policies} has invalid policies; fix them first:\n{lines}")
    return tree


def _start_cognito(
    started: contextlib.ExitStack,
) -> tuple[LocalCognito, tuple[str, str], LocalTokenEndpoint]:
    """The user pool with the demo users and machine client, and its token endpoint."""
    cognito = LocalCognito.start(region="us-east-1", pool_name="authz-dev")
    started.callback(_quietly, cognito.stop)
    for user, groups in DEMO_USERS.items():
        cognito.create_user(user, DEMO_PASSWORD, groups)
    machine = cognito.create_machine_client(MACHINE_CLIENT, MACHINE_RESOURCE_SERVER, MACHINE_SCOPES)
    oauth = LocalTokenEndpoint(cognito)
    oauth.start()
    started.callback(_quietly, oauth.stop)
    return cognito, machine, oauth


def _synced_repository(settings: Settings, tree: PolicyTree) -> PolicyRepository:
    # Deferred: the store pulls in pynamodb/botocore.
    from authz.store import DynamoRepository  # noqa: PLC0415

    repository = DynamoRepository(settings)
    repository.create_table()
    for item in tree.policies.values():
        repository.put(
            item.selector,
            item.document,
            actor="authz dev",
            description=f"from {item.file}",
            token=item.token,
        )
    return repository


def _gateway(
    settings: Settings,
    repository: PolicyRepository,
    result_ttl_seconds: int,
    cognito: LocalCognito,
) -> LocalGateway:
    """The local API Gateway: the real authorizer before the admin API and the demo backend,
    the console's static routes open, and the console's local sign-in."""
    # Deferred: the handlers pull in Powertools, pydantic and jose.
    from authz.handlers import authorizer  # noqa: PLC0415
    from authz.handlers.admin import app as admin  # noqa: PLC0415

    gateway_box: list[LocalGateway] = []

    def flush(api_id: str, stage: str) -> None:
        # What FlushStageAuthorizersCache does on AWS, for the one local stage.
        if gateway_box and (api_id, stage) == (API_ID, STAGE):
            gateway_box[0].flush_authorizer_cache()

    # "cognito": true revocations sign users out of the local pool, not AWS's.
    admin_app = admin.build_app(
        settings,
        repository,
        flusher=flush,
        cognito=cognito.client,
        local_sign_in_path=SIGN_IN_PATH,
    )
    gateway = LocalGateway(
        [
            *admin_routes(admin_app),
            *console_routes(admin_app),
            Route("ANY", "/{proxy+}", backend_handler, function_name="backend"),
        ],
        AuthorizerConfig(
            authorizer.build(settings), "TOKEN", result_ttl_seconds=result_ttl_seconds
        ),
        region=settings.region,
        account_id=ACCOUNT,
        api_id=API_ID,
        stage=STAGE,
        local_endpoints={SIGN_IN_PATH: LocalSignIn(cognito)},
    )
    gateway_box.append(gateway)
    return gateway
