"""The admin API's side of the lock-out guard and of resource warnings.

``authz.lockout`` decides; this module reads the documents the decision
needs, judges the admin API's own routes (from its OpenAPI document, so the
route list is never written out by hand again) at this API's methodArn, and
turns a lock-out into a 409 ``would_lock_out`` unless the caller forced it.
"""

from __future__ import annotations

from collections.abc import Sequence

from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.models import PolicyWarningOut
from authz.handlers.admin.simulate import ApiIdentity
from authz.lockout import Route, arn_prefix, check_write, guarded_selectors
from authz.policy.document import PolicyDocument
from authz.policy.lint import resource_warnings
from authz.policy.selector import Selector
from authz.settings import Settings
from authz.store.types import PolicyRepository

__all__ = ["guard_write", "warnings_out"]


def guard_write(
    repository: PolicyRepository,
    settings: Settings,
    selector: Selector,
    after: PolicyDocument | None,
    *,
    routes: Sequence[Route],
    api: ApiIdentity,
    force: bool,
) -> bool:
    """Whether the write must be recorded as forced; ApiError 409 if it is refused.

    ``after`` is the new document, or None for a delete. Writes to other
    selectors never change the admin principal's policy and pass untouched.
    """
    admin_group = settings.admin_group
    if selector not in guarded_selectors(admin_group):
        return False
    records = repository.get_many(guarded_selectors(admin_group))
    lock = check_write(
        {s: r.document for s, r in records.items()},
        selector,
        after,
        admin_group=admin_group,
        routes=routes,
        prefix=arn_prefix(settings.region, api.account_id, api.api_id, api.stage),
        max_bytes=settings.policy_max_bytes,
    )
    if lock is None:
        return False
    if not force:
        details = [
            {"path": f"{verb} {path}", "message": "denied to a member of only " + admin_group}
            for verb, path in lock.lost
        ]
        raise ApiError(409, "would_lock_out", lock.message + " (?force=true)", details)
    return True


def warnings_out(document: PolicyDocument) -> list[PolicyWarningOut]:
    """The document's resource warnings, their paths relative to the request body."""
    return [
        PolicyWarningOut(path=f"document.{w.path}", message=w.message, request=w.request)
        for w in resource_warnings(document)
    ]
