"""A local Cognito user pool: moto's server in a child process, on loopback.

``LocalCognito.start()`` launches moto's ``ThreadedMotoServer`` in a child
Python process bound to ``127.0.0.1`` port 0 (the child reports the port the
OS picked, so there is no port race), then creates a user pool, an app
client that allows ``USER_PASSWORD_AUTH``, and whatever groups and users the
caller asks for. Tokens come from ``initiate_auth``: real RS256 JWTs whose
``iss`` is the real AWS issuer string, while the pool's JWKS is served
locally at ``http://127.0.0.1:<port>/<pool>/.well-known/jwks.json`` (moto's
``CognitoIdpJsonWebKeyResponse``) -- which is what ``AUTHZ_JWKS_URL`` is for.

A child process rather than an in-process server because moto keeps its
backends in module globals: any ``mock_aws`` started elsewhere in the same
process would reset them and wipe the pool. The child also exits when its
stdin closes, so it cannot outlive a parent that died without cleaning up.

Used by ``authz dev`` and by the integration tests; no pytest imports here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LocalCognito", "MotoServer", "SignInChallenge", "serve"]

_READY = "MOTO_PORT "
DEMO_PASSWORD = "Passw0rd!Demo"  # a throwaway password for the local pool only


class SignInChallenge(Exception):
    """Cognito answered a sign-in with a challenge (its name is ``challenge``), not tokens."""

    def __init__(self, challenge: str) -> None:
        super().__init__(challenge)
        self.challenge = challenge


class MotoServer:
    """moto's server in a child process on 127.0.0.1; ``endpoint`` once started."""

    def __init__(self, process: subprocess.Popen[str], port: int, log: Any = None) -> None:
        self._process = process
        self._log = log
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, *, timeout: float = 30.0) -> MotoServer:
        """Launch the child and wait until it reports its port."""
        # The child's stderr (werkzeug's request log) goes to a temporary
        # file: never a pipe nobody drains, and readable if start-up fails.
        log = tempfile.TemporaryFile(mode="w+", prefix="authz-moto-")  # noqa: SIM115  # lives as long as the child
        process = subprocess.Popen(
            [sys.executable, "-m", "authz.dev.cognito"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        port: list[int] = []

        def read_port() -> None:
            for line in process.stdout or ():
                if line.startswith(_READY):
                    port.append(int(line[len(_READY) :]))
                    return

        reader = threading.Thread(target=read_port, daemon=True)
        reader.start()
        reader.join(timeout)
        if not port:
            process.kill()
            process.wait()
            log.seek(0)
            tail = log.read()[-2000:]
            log.close()
            raise RuntimeError(f"moto server did not start within {timeout:.0f} s:\n{tail}")
        return cls(process, port[0], log)

    def stop(self) -> None:
        """Stop the child: its state is in memory only, so SIGTERM loses nothing."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._log is not None:
            self._log.close()


@dataclass
class LocalCognito:
    """A user pool and app client on a local moto server.

    ``issuer`` is what the tokens carry; ``jwks_url`` is where the keys are
    really served. ``settings_env()`` gives the ``AUTHZ_*`` variables a
    verifier needs to accept this pool's tokens.
    """

    server: MotoServer
    client: Any  # a boto3 cognito-idp client bound to the local endpoint
    region: str
    pool_id: str
    client_id: str
    users: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        region: str = "us-east-1",
        *,
        pool_name: str = "authz-local",
        client_name: str = "authz-local-client",
        server: MotoServer | None = None,
    ) -> LocalCognito:
        """Start moto (unless ``server`` is given) and create a pool and an app client."""
        own = server is None
        if server is None:
            # boto3's slow import overlaps with the child's start-up.
            warm = threading.Thread(target=importlib.import_module, args=("boto3",), daemon=True)
            warm.start()
            server = MotoServer.start()
            warm.join()
        # Lazy: boto3 is slow to import and only the local stack needs it here.
        import boto3  # type: ignore[import-untyped]  # noqa: PLC0415  # no stubs installed

        try:
            client = boto3.client(
                "cognito-idp",
                region_name=region,
                endpoint_url=server.endpoint,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106  # moto accepts any credentials
            )
            pool_id = client.create_user_pool(PoolName=pool_name)["UserPool"]["Id"]
            client_id = client.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=client_name,
                GenerateSecret=False,
                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]["ClientId"]
        except BaseException:
            if own:
                server.stop()
            raise
        return cls(server, client, region, pool_id, client_id)

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.server.endpoint}/{self.pool_id}/.well-known/jwks.json"

    def settings_env(self, *, token_use: str = "access") -> dict[str, str]:  # noqa: S107
        """The ``AUTHZ_*`` variables that make a verifier accept this pool's tokens."""
        return {
            "AWS_REGION": self.region,
            "AUTHZ_USER_POOL_ID": self.pool_id,
            "AUTHZ_CLIENT_IDS": self.client_id,
            "AUTHZ_JWKS_URL": self.jwks_url,
            "AUTHZ_TOKEN_USE": token_use,
        }

    def create_group(self, name: str, description: str = "") -> None:
        """Create ``name`` unless it exists."""
        with contextlib.suppress(self.client.exceptions.GroupExistsException):
            self.client.create_group(
                GroupName=name, UserPoolId=self.pool_id, Description=description or name
            )

    def create_user(
        self,
        username: str,
        password: str = DEMO_PASSWORD,
        groups: tuple[str, ...] | list[str] = (),
        attributes: dict[str, str] | None = None,
    ) -> None:
        """A confirmed user with a permanent password, in ``groups`` (created as needed)."""
        self.client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in (attributes or {}).items()],
        )
        self.client.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            self.create_group(group)
            self.client.admin_add_user_to_group(
                UserPoolId=self.pool_id, Username=username, GroupName=group
            )
        self.users[username] = password

    def create_machine_client(
        self, name: str, resource_server: str, scopes: tuple[str, ...]
    ) -> tuple[str, str]:
        """An app client with a secret for the client-credentials grant; ``(id, secret)``.

        Cognito names a custom scope ``<resource server>/<scope>``, so
        ``scopes=("read",)`` on resource server ``orders`` grants ``orders/read``.
        """
        self.client.create_resource_server(
            UserPoolId=self.pool_id,
            Identifier=resource_server,
            Name=resource_server,
            Scopes=[{"ScopeName": s, "ScopeDescription": s} for s in scopes],
        )
        created = self.client.create_user_pool_client(
            UserPoolId=self.pool_id,
            ClientName=name,
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=[f"{resource_server}/{s}" for s in scopes],
        )["UserPoolClient"]
        return created["ClientId"], created["ClientSecret"]

    def tokens(self, username: str, password: str | None = None) -> dict[str, str]:
        """``{"access", "id", "refresh"}`` tokens from ``initiate_auth`` (USER_PASSWORD_AUTH)."""
        result = self.authenticate(
            username, password if password is not None else self.users[username]
        )
        return {
            "access": result["AccessToken"],
            "id": result["IdToken"],
            "refresh": result["RefreshToken"],
        }

    def authenticate(self, username: str, password: str) -> dict[str, Any]:
        """Cognito's ``AuthenticationResult`` of a USER_PASSWORD_AUTH sign-in (``ExpiresIn``
        included); botocore's ClientError for bad credentials, ``SignInChallenge`` when
        Cognito asks for more (a new password, MFA)."""
        answer = self.client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        result = answer.get("AuthenticationResult")
        if not isinstance(result, dict):
            raise SignInChallenge(str(answer.get("ChallengeName") or "unknown challenge"))
        return dict(result)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> LocalCognito:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve() -> None:
    """The child's side: serve on 127.0.0.1, print the port, exit when stdin closes."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415  # the child alone needs moto

    from authz.dev.lifeline import die_with_parent  # noqa: PLC0415

    # Belt and braces beside the stdin pipe: a parent killed with -9 ends us too.
    die_with_parent(os.getppid())
    # Loaded now rather than on the first request, so "ready" means ready.
    importlib.import_module("moto.cognitoidp.responses")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    sys.stdout.write(f"{_READY}{port}\n")
    sys.stdout.flush()
    try:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    serve()
