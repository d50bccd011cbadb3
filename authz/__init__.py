"""authz: fine-grained authorization for Amazon API Gateway with Amazon Cognito."""

__version__ = "0.1.0"
