"""The pure policy engine: document model, validation, evaluation, merge,
compaction, policy variables, per-API shorthand expansion and explain.
Standard library only, so importing it stays cheap on the authorizer's cold
start."""

from authz.errors import PolicyTooLargeError, PolicyValidationError
from authz.policy.arn import MethodArn, method_arn, parse_method_arn
from authz.policy.combine import compact, json_size, merge
from authz.policy.decision import IMPLICIT_DENY, Decision, Match
from authz.policy.document import VERSION, PolicyDocument, Statement
from authz.policy.evaluate import (
    CommonParts,
    CompiledPolicy,
    compile_policy,
    compile_shared,
    evaluate,
)
from authz.policy.expand import expand
from authz.policy.explain import ExplainedMatch, Explanation, explain
from authz.policy.selector import DEFAULT, Selector, selectors_for
from authz.policy.shorthand import ApiStage, api_stage, api_stage_key, is_shorthand
from authz.policy.substitute import substitute

__all__ = [
    "DEFAULT",
    "IMPLICIT_DENY",
    "VERSION",
    "ApiStage",
    "CommonParts",
    "CompiledPolicy",
    "Decision",
    "ExplainedMatch",
    "Explanation",
    "Match",
    "MethodArn",
    "PolicyDocument",
    "PolicyTooLargeError",
    "PolicyValidationError",
    "Selector",
    "Statement",
    "api_stage",
    "api_stage_key",
    "compact",
    "compile_policy",
    "compile_shared",
    "evaluate",
    "expand",
    "explain",
    "is_shorthand",
    "json_size",
    "merge",
    "method_arn",
    "parse_method_arn",
    "selectors_for",
    "substitute",
]
