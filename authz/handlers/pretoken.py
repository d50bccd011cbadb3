"""Cognito pre token generation trigger: adds the user's groups' token settings to their tokens.

Cognito calls ``handler`` before it issues tokens (event versions 1, 2 and 3).
For the groups it passes in ``request.groupConfiguration.groupsToOverride``
the trigger reads the groups' policy items in ONE BatchGetItem (Cognito's
quota of 100 groups per user is BatchGetItem's key limit), merges their
token settings (``authz.token_settings.merge_token_settings``: scopes
unioned, a claim set by several groups takes the value of the group whose
name sorts first) and fills the response:

- version 2 and 3 (``claimsAndScopeOverrideDetails``): the claims go to the
  ID token and the access token (``claimsToAddOrOverride``), the scopes to the
  access token (``scopesToAdd``).
- version 1 (``claimsOverrideDetails``): Cognito can only change the ID
  token, and only with string values. Strings pass as they are, booleans
  become ``"true"``/``"false"`` and numbers their JSON text; arrays and
  objects have no faithful string form and are left out (logged), and so are
  scopes (logged: configure the trigger as ``V2_0`` to add them).

The request's group configuration is copied into ``groupOverrideDetails``:
Cognito replaces the groups with whatever that field holds, and copying is
its documented way to keep them, and ``cognito:groups`` is what the
authorizer reads.

Nothing to add (no groups, as in a client-credentials event; no group with
settings) returns the event unchanged, without a store request.

Blocked users: with ``AUTHZ_PRETOKEN_BLOCK_REVOKED=true`` the trigger first
reads the user's ``sub`` revocation (one GetItem, also for a user without
groups). While a revocation with ``until`` is in force
(``Revocation.blocks_sign_in``) it raises ``SignInBlockedError``, so Cognito
fails the sign-in or refresh: no new tokens until then. A plain revocation
(no ``until``, or ``until`` passed) does not block: signing in afresh is how
a revoked user gets back in. Client-credentials events have no user and are
not checked. The option is off by default, and then nothing is read. With it
on, a store failure fails the sign-in too (fail closed): the trigger cannot
tell a blocked user from any other.

Failure: when DynamoDB cannot answer the trigger raises, so Cognito refuses
the sign-in ("PreTokenGeneration failed with error ...") rather than issuing
tokens without the scopes and claims the user should have. The raised
message is generic because Cognito shows it to the client; the details go to
the log. Stored settings are validated again at read time: a reserved or
identity claim (``email``, ``custom:*``, ``Sub`` ...), a Cognito-managed
scope or a malformed value that reached the table around the admin API, or
before the current rules, is dropped and logged, never emitted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, Protocol

from authz.errors import AuthzError, NotFoundError, StoreError, StoreUnavailableError
from authz.handlers.boot import PerContainer
from authz.handlers.observability import bind_invocation, function_logger
from authz.policy.selector import Selector, valid_group_name
from authz.revocations import Revocation, Target
from authz.settings import Settings
from authz.store.types import PolicyRecord
from authz.token_settings import MergedTokenSettings, TokenSettings, merge_token_settings

__all__ = ["PreTokenTrigger", "SignInBlockedError", "TriggerStore", "handler"]

_VERSIONS = frozenset({"1", "2", "3"})
_UNAVAILABLE = "authorization data is unavailable; try again"


class SignInBlockedError(AuthzError):
    """The user is under a revocation with ``until`` ahead: Cognito fails the sign-in."""


class TriggerStore(Protocol):
    """The two reads the trigger makes."""

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]: ...

    def get_revocation(self, target: Target) -> Revocation: ...


class PreTokenTrigger:
    """The trigger with its collaborators injected (tests pass a repository and a logger)."""

    def __init__(
        self,
        repository: TriggerStore,
        *,
        logger: Any,
        block_revoked: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repository = repository
        self.logger = logger
        self._block_revoked = block_revoked
        self._clock = clock

    def __call__(self, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        version = str(event.get("version", ""))
        source = event.get("triggerSource")
        if version not in _VERSIONS:
            raise ValueError(f"unsupported pre token generation event version {version!r}")
        if not isinstance(source, str) or not source.startswith("TokenGeneration_"):
            raise ValueError(f"not a pre token generation event: triggerSource={source!r}")

        request = event.get("request") or {}
        if self._block_revoked and source != "TokenGeneration_ClientCredentials":
            self._refuse_blocked(request, event)
        group_config = request.get("groupConfiguration")
        if group_config is not None and not isinstance(group_config, Mapping):
            raise ValueError("malformed event: request.groupConfiguration is not an object")
        groups = _groups(group_config)
        if not groups:
            return event

        merged = self._settings_for(groups, event)
        if merged.empty:
            return event

        response = event.get("response")
        if not isinstance(response, MutableMapping):
            response = event["response"] = {}
        if version == "1":
            self._fill_v1(response, merged, group_config)
        else:
            _fill_v2(response, merged, group_config)
        self.logger.info(
            "token settings applied",
            extra={
                "trigger_source": source,
                "event_version": version,
                "groups": list(groups),
                "claims": list(merged.claims),
                "scopes": list(merged.scopes),
            },
        )
        return event

    def _refuse_blocked(self, request: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """Raise while the user's ``sub`` revocation blocks sign-in (``until`` still ahead)."""
        attributes = request.get("userAttributes")
        sub = attributes.get("sub") if isinstance(attributes, Mapping) else None
        if not isinstance(sub, str):
            # Cognito always sends a user's sub; without it the block cannot be checked.
            raise ValueError("malformed event: request.userAttributes.sub is missing")
        try:
            target = Target("sub", sub)
        except ValueError:
            return  # a value no revocation can name: none can block it
        try:
            revocation = self._repository.get_revocation(target)
        except NotFoundError:
            return
        except StoreError as exc:
            raise self._unavailable("revocation", exc, event, sub=sub) from exc
        if not revocation.blocks_sign_in(self._clock()):
            return
        self.logger.warning(
            "sign-in refused: the user is revoked until a later time",
            extra={"revocation": revocation.to_dict(), "user_pool_id": event.get("userPoolId")},
        )
        # Cognito shows this message to the client: no reason, no author.
        raise SignInBlockedError("sign-in is not allowed for this user at this time")

    def _unavailable(
        self, what: str, exc: StoreError, event: Mapping[str, Any], **context: Any
    ) -> StoreUnavailableError:
        """Log that ``what`` could not be read and give the error that refuses the sign-in."""
        self.logger.error(
            f"{what} could not be read; sign-in refused",
            extra={
                "error": type(exc).__name__,
                "detail": str(exc),
                **context,
                "user_pool_id": event.get("userPoolId"),
            },
        )
        # Cognito shows this message to the client: say nothing internal.
        return StoreUnavailableError(_UNAVAILABLE)

    def _settings_for(
        self, groups: tuple[str, ...], event: Mapping[str, Any]
    ) -> MergedTokenSettings:
        selectors = [Selector("group", g) for g in groups]
        try:
            records = self._repository.get_many(selectors)
        except StoreError as exc:
            raise self._unavailable("token settings", exc, event, groups=list(groups)) from exc

        by_group: dict[str, TokenSettings] = {}
        for selector in selectors:
            record = records.get(selector)
            if record is None or not record.token:
                continue
            settings, problems = TokenSettings.from_stored(record.token)
            if problems:
                self.logger.warning(
                    "stored token settings contain invalid entries; they are not emitted",
                    extra={"group": selector.name, "problems": problems},
                )
            if not settings.empty:
                by_group[selector.name] = settings
        merged = merge_token_settings(by_group)
        for conflict in merged.conflicts:
            self.logger.warning(
                "groups disagree on a claim; the first group by name wins",
                extra={
                    "claim": conflict.claim,
                    "winner": conflict.winner,
                    "losers": list(conflict.losers),
                },
            )
        return merged

    def _fill_v1(
        self,
        response: MutableMapping[str, Any],
        merged: MergedTokenSettings,
        group_config: Mapping[str, Any] | None,
    ) -> None:
        claims: dict[str, str] = {}
        dropped: list[str] = []
        for name, value in merged.claims.items():
            text = v1_claim_value(value)
            if text is None:
                dropped.append(name)
            else:
                claims[name] = text
        if dropped:
            self.logger.warning(
                "version 1 events carry string claims only; array and object claims left out",
                extra={"claims": dropped},
            )
        if merged.scopes:
            self.logger.warning(
                "version 1 events cannot add scopes; configure the trigger as V2_0 or V3_0",
                extra={"scopes": list(merged.scopes)},
            )
        if not claims:
            return
        details = _mapping(response, "claimsOverrideDetails")
        _mapping(details, "claimsToAddOrOverride").update(claims)
        _keep_groups(details, group_config)


def v1_claim_value(value: Any) -> str | None:
    """The string a version 1 event can carry for ``value``, or None if it has none."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _fill_v2(
    response: MutableMapping[str, Any],
    merged: MergedTokenSettings,
    group_config: Mapping[str, Any] | None,
) -> None:
    details = _mapping(response, "claimsAndScopeOverrideDetails")
    if merged.claims:
        for token in ("idTokenGeneration", "accessTokenGeneration"):
            target = _mapping(_mapping(details, token), "claimsToAddOrOverride")
            target.update(_copy(dict(merged.claims)))
    if merged.scopes:
        access = _mapping(details, "accessTokenGeneration")
        existing = access.get("scopesToAdd") or []
        access["scopesToAdd"] = list(dict.fromkeys([*existing, *merged.scopes]))
    _keep_groups(details, group_config)


def _groups(group_config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The user's valid group names, sorted and without duplicates.

    An invalid name cannot address a stored item, so skipping it loses nothing.
    """
    if not group_config:
        return ()
    raw = group_config.get("groupsToOverride") or []
    if not isinstance(raw, list):
        raise ValueError("malformed event: groupsToOverride is not a list")
    return tuple(sorted({g for g in raw if isinstance(g, str) and valid_group_name(g)}))


def _keep_groups(details: MutableMapping[str, Any], group_config: Mapping[str, Any] | None) -> None:
    # Cognito replaces the token's groups with groupOverrideDetails when the
    # response sets it; copying the request's configuration is its documented
    # way to keep them. Left alone when something else already set it.
    if group_config and details.get("groupOverrideDetails") is None:
        details["groupOverrideDetails"] = {
            "groupsToOverride": list(group_config.get("groupsToOverride") or []),
            "iamRolesToOverride": list(group_config.get("iamRolesToOverride") or []),
            "preferredRole": group_config.get("preferredRole"),
        }


def _mapping(parent: MutableMapping[str, Any], key: str) -> MutableMapping[str, Any]:
    """``parent[key]`` as a dict, created when Cognito passed null or nothing."""
    value = parent.get(key)
    if not isinstance(value, MutableMapping):
        value = parent[key] = {}
    return value


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    # Each token gets its own objects, so nothing downstream can alias them.
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def _build() -> PreTokenTrigger:
    # Deferred: a test that injects its own repository never imports pynamodb/botocore.
    from authz.store import DynamoRepository, StoreTimeouts  # noqa: PLC0415

    settings = Settings.from_env()
    # Cognito waits 5 s for a trigger and then fails the sign-in anyway; a
    # store that is down must fail well inside that, so the log says why.
    timeouts = StoreTimeouts(connect=0.5, read=0.5, attempts=2, batch_retries=2)
    repository = DynamoRepository(settings, timeouts=timeouts)
    return PreTokenTrigger(
        repository, logger=function_logger(), block_revoked=settings.pretoken_block_revoked
    )


container: PerContainer[PreTokenTrigger] = PerContainer(_build)


def _correlation_id(event: Mapping[str, Any]) -> str | None:
    """Cognito sends no request id; the user being signed in ties a sign-in's lines together."""
    user = event.get("userName")
    return user if isinstance(user, str) else None


def handler(event: MutableMapping[str, Any], context: Any) -> MutableMapping[str, Any]:
    """Lambda entry point; settings and repository are built once per container."""
    trigger = container.get()
    bind_invocation(trigger.logger, context, _correlation_id(event))
    return trigger(event)
