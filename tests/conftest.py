"""Shared pytest wiring. Fixtures live in tests/fixtures/, one module per real component."""

import os

from hypothesis import HealthCheck, settings

# CI runs every property with enough examples to matter; locally a lighter
# profile keeps the edit-test loop quick. Stateful/DynamoDB properties set
# their own smaller budgets explicitly.
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

pytest_plugins = [
    "tests.fixtures.dynamodb",
    "tests.fixtures.cognito",
]
