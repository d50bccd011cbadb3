"""serverless.yml deploys exactly the admin API's routes, as its OpenAPI document lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from authz.dev.gateway import admin_routes, console_routes
from authz.handlers.admin.app import admin_openapi
from authz.handlers.admin.routes_openapi import operations
from tests.package_check import check_package

SERVERLESS_YML = Path(__file__).resolve().parents[2] / "serverless.yml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads CloudFormation's short tags (``!GetAtt``, ``!Sub``...)
    as plain values instead of refusing them."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]  # the one node kind left


_CloudFormationLoader.add_multi_constructor("!", _untagged)


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506  # a SafeLoader subclass


# The one documented exception to "every admin route is an API operation behind the
# authorizer": the console's static files, which the page needs before anyone signs in.
CONSOLE_ROUTES = {("GET", "/console"), ("GET", "/console/{asset}")}


def _admin_http_events() -> list[dict[str, Any]]:
    config = _load(SERVERLESS_YML.read_text())
    events = config["functions"]["admin"]["events"]
    # A MOCK integration never reaches the admin function.
    return [e["http"] for e in events if "http" in e and e["http"].get("integration") != "mock"]


def _route(http: dict[str, Any]) -> tuple[str, str]:
    return (http["method"].upper(), "/" + http["path"].strip("/"))


def _deployed_admin_routes() -> set[tuple[str, str]]:
    return {_route(h) for h in _admin_http_events() if _route(h) not in CONSOLE_ROUTES}


def test_serverless_yml_deploys_every_admin_route_and_no_other() -> None:
    """Each admin http event of serverless.yml is an operation of the OpenAPI document, and
    each operation is deployed."""
    documented = set(operations(admin_openapi()))
    assert documented  # the document lists routes at all
    assert _deployed_admin_routes() == documented


def test_every_api_route_has_the_authorizer_and_only_the_console_has_none() -> None:
    """The console's two static routes are the only admin events without the authorizer;
    they are not API operations, and every operation keeps the authorizer."""
    open_routes = {_route(h) for h in _admin_http_events() if "authorizer" not in h}
    assert open_routes == CONSOLE_ROUTES
    for http in _admin_http_events():
        if _route(http) not in CONSOLE_ROUTES:
            assert http["authorizer"] == "${self:custom.authorizer}", http
    assert not CONSOLE_ROUTES & set(operations(admin_openapi()))


def test_the_dev_gateway_serves_the_console_open_like_serverless_yml() -> None:
    """The local gateway's console routes are serverless.yml's, unprotected."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        return None

    routes = console_routes(handler)
    assert {(r.method, r.resource) for r in routes} == CONSOLE_ROUTES
    assert not any(r.protected for r in routes)


def test_the_console_is_packaged_without_source_maps_and_configured_by_params() -> None:
    """The built console ships with the admin function; its hosted UI comes from params."""
    config = _load(SERVERLESS_YML.read_text())
    assert config["params"]["default"]["consoleDomain"] == ""
    assert config["params"]["default"]["consoleClientId"] == ""
    env = config["functions"]["admin"]["environment"]
    assert env["AUTHZ_CONSOLE_DOMAIN"] == "${param:consoleDomain}"
    assert env["AUTHZ_CONSOLE_CLIENT_ID"] == "${param:consoleClientId}"
    # The console's script is counted gzipped; API Gateway sends it so.
    assert config["provider"]["apiGateway"]["minimumCompressionSize"] == 1024
    check = check_package()
    patterns = check.package_patterns()
    assets = "authz/handlers/admin/console_assets"
    for name in ("index.html", "app.js", "app.css"):
        assert check.packaged(f"{assets}/{name}", patterns)
    assert not check.packaged(f"{assets}/app.js.map", patterns)


def test_the_loader_reads_cloudformation_tags() -> None:
    """The tolerant loader keeps a tagged value instead of failing on it."""
    text = "a: !GetAtt Table.Arn\nb: !Join [',', [x, y]]\n"
    loaded = _load(text)
    assert loaded == {"a": "Table.Arn", "b": [",", ["x", "y"]]}


def test_the_dev_gateway_serves_the_documented_admin_routes() -> None:
    """The local gateway's admin routes are the OpenAPI document's operations."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        return None

    served = {(route.method, route.resource) for route in admin_routes(handler)}
    assert served == set(operations(admin_openapi()))
    assert ("DELETE", "/policies/{kind}/{name}") in served


def test_only_the_admin_function_reads_routes_and_route_files_are_packaged() -> None:
    """AUTHZ_ROUTES comes from the routes param (empty: unset), on the admin function alone;
    a route file under routes/ is bundled and checked like the code."""
    config = _load(SERVERLESS_YML.read_text())
    assert config["params"]["default"]["routes"] == ""
    assert config["functions"]["admin"]["environment"]["AUTHZ_ROUTES"] == "${param:routes}"
    assert "AUTHZ_ROUTES" not in config["provider"]["environment"]
    for name in ("authorizer", "pretoken"):
        assert "AUTHZ_ROUTES" not in config["functions"][name].get("environment", {})
    check = check_package()
    patterns = check.package_patterns()
    assert check.pattern_roots(patterns) == ["authz", "routes"]
    assert check.packaged("routes/api.json", patterns)
    assert not check.packaged("routes/__pycache__/x.pyc", patterns)
    assert not check.packaged("examples/orders-api.yaml", patterns)
