"""The decision service: the Authorizer, its caches, and simulation.

- ``authorizer``: ``Authorizer``, which orchestrates one decision;
- ``caches``: the documents and effective-policy caches and what they share;
- ``memo``: the token memo, the one cache of verified tokens;
- ``effective``: the pure helpers that build a principal's effective policy;
- ``outcome``: what a decision returns;
- ``simulate``: the same decision, uncached and explained.
"""

from authz.service.authorizer import Authorizer, TokenVerifier
from authz.service.effective import (
    DENY_ALL_RESOURCE,
    deny_all_policy,
    effective_policy,
    response_policy,
)
from authz.service.outcome import Outcome
from authz.service.simulate import Simulation, simulate

__all__ = [
    "DENY_ALL_RESOURCE",
    "Authorizer",
    "Outcome",
    "Simulation",
    "TokenVerifier",
    "deny_all_policy",
    "effective_policy",
    "response_policy",
    "simulate",
]
