"""The ``authz`` command line: ``authz.cli.main:main`` is the entry point."""
