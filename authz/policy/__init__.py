"""The pure policy engine: document model, validation, evaluation, merge,
compaction, policy variables and explain. Standard library only, so importing
it stays cheap on the authorizer's cold start."""

from authz.errors import PolicyTooLargeError, PolicyValidationError
from authz.policy.arn import MethodArn, method_arn, parse_method_arn
from authz.policy.combine import compact, json_size, merge
from authz.policy.document import VERSION, PolicyDocument, Statement
from authz.policy.evaluate import (
    IMPLICIT_DENY,
    CompiledPolicy,
    Decision,
    Match,
    compile_policy,
    evaluate,
)
from authz.policy.explain import ExplainedMatch, Explanation, explain
from authz.policy.selector import DEFAULT, Selector, selectors_for
from authz.policy.substitute import substitute

__all__ = [
    "DEFAULT",
    "IMPLICIT_DENY",
    "VERSION",
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
    "compact",
    "compile_policy",
    "evaluate",
    "explain",
    "json_size",
    "merge",
    "method_arn",
    "parse_method_arn",
    "selectors_for",
    "substitute",
]
