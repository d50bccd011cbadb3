"""What a policy write would do, before it is done: the body's validation, the
lock-out guard, the write's impact on the access matrix, and the dry run.

A dry run (``PUT`` or ``DELETE ...?dry_run=true``) runs the checks of the real
write in the same order and writes nothing (no item, no history entry, no
epoch bump):

- a request that is malformed (not JSON, unknown fields, a bad header or
  query value) is a 400 as for any request;
- a policy whose document or token settings are invalid is answered 200 with
  ``valid: false`` and the problems, each with its JSON path: judging the
  proposed policy is what the dry run is for;
- preconditions that would fail (``If-None-Match: *`` on an existing policy,
  ``If-Match`` on another version or a missing policy, a DELETE of a missing
  policy) and the lock-out guard answer as the real write would (404, 409,
  412): the answer predicts what the same request without ``dry_run`` meets.

The one check a dry run cannot make is DynamoDB's item size limit (413).
"""

from __future__ import annotations

from typing import Any

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PolicyValidationError,
    TokenSettingsError,
)
from authz.handlers.admin.access import (
    ROUTES_NOT_SET,
    Impact,
    WriteView,
    read_for_write,
    write_impact,
)
from authz.handlers.admin.context import RequestScope
from authz.handlers.admin.errors import ApiError, from_authz_error
from authz.handlers.admin.guard import guard_write, warnings_out
from authz.handlers.admin.http import Preconditions, etag
from authz.handlers.admin.models import DryRunOut, ErrorDetail, PutPolicyBody
from authz.lockout import routes_from_openapi
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store.types import PolicyRecord
from authz.token_settings import TokenSettings
from authz.validation import Problems

__all__ = [
    "INVALID_NOTICE",
    "dry_run_delete",
    "dry_run_put",
    "guard",
    "impact_of_write",
    "validated",
]

INVALID_NOTICE = "the policy is not valid, so its impact is not computed"

Validated = tuple[PolicyDocument | None, dict[str, Any] | None, list[dict[str, str]]]


def _judge(selector: Selector, body: PutPolicyBody) -> Validated:
    """The document, the token settings, and every problem of both, found at once."""
    problems = Problems()
    document: PolicyDocument | None = None
    token: dict[str, Any] | None = None
    try:
        document = PolicyDocument.from_dict(body.document)
    except PolicyValidationError as exc:
        for detail in from_authz_error(exc).details:
            problems.add(detail["path"], detail["message"])
    if body.token is not None:
        if selector.kind != "group":
            problems.add("token", "token settings apply to group policies only")
        else:
            try:
                token = TokenSettings.from_dict(body.token).to_dict() or None
            except TokenSettingsError as exc:
                for error in exc.errors:
                    problems.add(error["path"], error["message"])
    return document, token, problems.as_list()


def validated(
    selector: Selector, body: PutPolicyBody
) -> tuple[PolicyDocument, dict[str, Any] | None]:
    """The document and token settings; ApiError 400 with every problem otherwise."""
    document, token, details = _judge(selector, body)
    if details or document is None:
        document_problem = any(d["path"].startswith("document") for d in details)
        code = "invalid_document" if document_problem else "invalid_token_settings"
        raise ApiError(400, code, f"the policy is not valid ({len(details)} problems)", details)
    return document, token


def guard(
    request: RequestScope, selector: Selector, after: PolicyDocument | None, force: bool
) -> bool:
    """The lock-out guard on this API's own routes: whether the write is forced."""
    settings = request.deps.settings
    routes = routes_from_openapi(request.openapi(), settings.admin_group)
    return guard_write(
        request.deps.repository,
        settings,
        selector,
        after,
        routes=routes,
        api=request.api,
        force=force,
    )


def impact_of_write(
    request: RequestScope, selector: Selector, after: PolicyDocument | None
) -> Impact:
    """The cells a write of ``after`` (None: a delete) changes, read just before it."""
    if request.deps.routes is None:
        return Impact([], ROUTES_NOT_SET)
    return _impact(request, read_for_write(request.deps.repository, selector), selector, after)


def _check_preconditions(
    selector: Selector, current: PolicyRecord | None, pre: Preconditions
) -> None:
    """Refuse as the real write would: the same errors, so the same statuses."""
    if pre.create_only and current is not None:
        raise AlreadyExistsError(
            f"{selector} already exists (version {current.version})", actual=current.version
        )
    if pre.versions is None:
        return
    if current is None:
        raise ApiError(
            412,
            "precondition_failed",
            f"If-Match was given but {selector} does not exist",
            [{"path": "If-Match", "message": "no current version to match"}],
        )
    if pre.versions and current.version not in pre.versions:
        wanted = ", ".join(etag(v) for v in sorted(pre.versions))
        raise ConflictError(
            f"{selector} is at version {current.version}, If-Match wants {wanted}",
            actual=current.version,
        )


def dry_run_put(
    request: RequestScope,
    selector: Selector,
    body: PutPolicyBody,
    pre: Preconditions,
    force: bool,
) -> DryRunOut:
    """The answer to ``PUT ...?dry_run=true``; reads only (see the module docstring)."""
    document, _token, details = _judge(selector, body)
    if details or document is None:
        problems = [ErrorDetail(path=d["path"], message=d["message"]) for d in details]
        return DryRunOut(valid=False, problems=problems, impact_notice=INVALID_NOTICE)
    view = _view(request, selector)
    # The real write runs the lock-out guard before the store checks the version.
    guard(request, selector, document, force)
    _check_preconditions(selector, view.current, pre)
    found = _impact(request, view, selector, document)
    return DryRunOut(
        valid=True,
        warnings=warnings_out(document),
        impact=found.changes,
        impact_notice=found.notice,
    )


def dry_run_delete(
    request: RequestScope, selector: Selector, pre: Preconditions, force: bool
) -> DryRunOut:
    """The answer to ``DELETE ...?dry_run=true``: the real DELETE's checks, no write."""
    view = _view(request, selector)
    if view.current is None and pre.versions is None:
        raise NotFoundError(f"{selector} does not exist")
    guard(request, selector, None, force)
    _check_preconditions(selector, view.current, pre)
    found = _impact(request, view, selector, None)
    return DryRunOut(valid=True, impact=found.changes, impact_notice=found.notice)


def _view(request: RequestScope, selector: Selector) -> WriteView:
    """The written policy as stored, and the policies the impact needs (none without routes)."""
    repository = request.deps.repository
    if request.deps.routes is None:
        return WriteView(repository.get_many([selector]).get(selector), {})
    return read_for_write(repository, selector)


def _impact(
    request: RequestScope, view: WriteView, selector: Selector, after: PolicyDocument | None
) -> Impact:
    routes = request.deps.routes
    if routes is None:
        return Impact([], ROUTES_NOT_SET)
    return write_impact(view.policies, selector, after, routes, request.sample_api())
