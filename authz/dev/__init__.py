"""The local stack behind ``authz dev``: never imported by the Lambdas (not packaged)."""

__all__ = ["ENV_FILE"]

# Where ``authz dev`` writes the variables of the stack it runs, for other shells.
ENV_FILE = ".authz-dev.env"
