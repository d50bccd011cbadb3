"""``authz matrix``: the access grid of policies/ files or the table over the API's routes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from authz.policy import PolicyDocument
from authz.policy.selector import Selector
from authz.store.files import read_tree
from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import POLICIES, REPO, Result, Runner, base_env, run_authz

pytestmark = pytest.mark.integration

ORDERS_API = REPO / "examples" / "orders-api.yaml"
ROUTES = [
    "GET /health",
    "GET /orders",
    "POST /orders",
    "GET /orders/{id}",
    "PUT /orders/{id}",
    "PATCH /orders/{id}",
    "DELETE /orders/{id}",
    "GET /users/{userId}",
    "PUT /users/{userId}/profile",
    "ANY /users/{userId}/{proxy+}",
]
SUBJECTS = [
    "default",
    "group:authz-admins",
    "group:interns",
    "group:readers",
    "group:writers",
    "scope:orders/read",
]
VALUES = {"allow", "deny", "explicit-deny", "conditional"}


def offline(*args: str, cwd: Path = REPO, **extra: str) -> Result:
    """The CLI with no table configured: files mode must not need one."""
    return run_authz(*args, env=base_env(**extra), cwd=cwd)


def _json(result: Result) -> dict[str, Any]:
    assert result.code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _files_matrix(*extra: str) -> dict[str, Any]:
    return _json(
        offline(
            "matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API), "--json", *extra
        )
    )


def test_json_gives_every_subject_and_route_of_the_demo_api() -> None:
    data = _files_matrix()
    assert data["routes"] == ROUTES
    assert data["subjects"] == SUBJECTS
    assert set(data["cells"]) == set(SUBJECTS)
    for subject in SUBJECTS:
        assert list(data["cells"][subject]) == sorted(ROUTES)  # echo_json sorts keys
        assert set(data["cells"][subject].values()) <= VALUES
    cells = data["cells"]
    assert cells["group:readers"]["GET /orders/{id}"] == "allow"
    assert cells["group:readers"]["DELETE /orders/{id}"] == "deny"
    assert cells["group:writers"]["DELETE /orders/{id}"] == "allow"
    assert cells["group:interns"]["DELETE /orders/{id}"] == "explicit-deny"
    assert cells["scope:orders/read"]["GET /orders"] == "allow"
    assert cells["default"]["GET /health"] == "allow"
    assert cells["default"]["GET /orders"] == "deny"
    # The default policy lets each user reach only their own ${sub}.
    assert cells["default"]["GET /users/{userId}"] == "conditional"


@pytest.mark.parametrize(
    ("group", "method", "path", "cell"),
    [
        ("readers", "GET", "/orders/42", ("group:readers", "GET /orders/{id}")),
        ("readers", "DELETE", "/orders/42", ("group:readers", "DELETE /orders/{id}")),
        ("interns", "DELETE", "/orders/42", ("group:interns", "DELETE /orders/{id}")),
        ("writers", "POST", "/orders", ("group:writers", "POST /orders")),
    ],
)
def test_settled_cells_agree_with_simulate(
    group: str, method: str, path: str, cell: tuple[str, str]
) -> None:
    """What the grid says for a subject is what `authz simulate` decides for a member."""
    value = _files_matrix()["cells"][cell[0]][cell[1]]
    simulated = offline(
        "simulate", "--policies", str(POLICIES), "-g", group, "-X", method, "-p", path
    )
    assert simulated.code in {0, 1}, simulated.output
    assert (simulated.code == 0) == (value == "allow")
    assert value in {"allow", "deny", "explicit-deny"}


def test_explain_names_the_statements_in_json_and_under_the_grid() -> None:
    data = _files_matrix("--explain")
    interns = data["cells"]["group:interns"]["DELETE /orders/{id}"]
    assert interns["value"] == "explicit-deny"
    assert {"policy": "group:interns", "statement": 0, "sid": "NoDelete", "effect": "Deny"} in (
        interns["statements"]
    )
    assert data["cells"]["group:readers"]["DELETE /orders/{id}"] == {
        "value": "deny",
        "statements": [],
    }
    text = offline("matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API), "--explain")
    assert text.code == 0, text.output
    below = text.stdout.split("Statements behind the ~ and ✗ cells:", 1)[1].splitlines()
    assert any(
        line.split()
        == ["group:interns", "DELETE", "/orders/{id}", "✗", "group:interns", "NoDelete", "(Deny)"]
        for line in below
    )
    assert any(
        "GET /users/{userId}" in line and "default OwnProfile (Allow)" in line for line in below
    )
    # Only conditional and explicit-deny cells are explained.
    assert not any("GET /orders/{id}" in line for line in below)


def test_text_grid_fits_80_columns_when_piped_and_pages_subjects() -> None:
    result = offline("matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API))
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "\x1b[" not in result.stdout  # no colour when piped
    headers = [line for line in lines if line.startswith("route ")]
    assert len(headers) > 1  # six subjects do not fit 80 columns on one page
    assert sorted(s for h in headers for s in h.split()[1:]) == sorted(SUBJECTS)
    for route in ROUTES:
        assert sum(line.startswith(route + " ") for line in lines) == len(headers)
    assert "✓ allow" in lines[-1]

    wide = offline(
        "matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API), "--width", "200"
    )
    assert wide.code == 0, wide.output
    wide_headers = [line for line in wide.stdout.splitlines() if line.startswith("route ")]
    assert [h.split()[1:] for h in wide_headers] == [SUBJECTS]
    readers_column = SUBJECTS.index("group:readers")
    row = next(line for line in wide.stdout.splitlines() if line.startswith("GET /orders/{id} "))
    assert row.split()[2:][readers_column] == "✓"  # after the verb and the path


def test_principal_adds_a_combined_row_and_a_bad_one_is_a_usage_error() -> None:
    data = _files_matrix("--principal", "group:readers, group:interns", "--principal", "default")
    assert data["subjects"] == [*SUBJECTS, "group:readers,group:interns"]
    combined = data["cells"]["group:readers,group:interns"]
    assert combined["GET /orders/{id}"] == "allow"
    assert combined["DELETE /orders/{id}"] == "explicit-deny"

    for bad in ("group:", "team:x", " , "):
        result = offline(
            "matrix", "--policies", str(POLICIES), "--route", "GET /a", "--principal", bad
        )
        assert result.code == 2, (bad, result.output)
        assert "--principal" in result.stderr
        assert result.stdout == ""


def test_csv_and_markdown_print_the_same_grid() -> None:
    data = _files_matrix()
    args = ("matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API))
    as_csv = offline(*args, "--csv")
    assert as_csv.code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["route", *SUBJECTS]
    assert [r[0] for r in rows[1:]] == ROUTES
    for row in rows[1:]:
        assert dict(zip(SUBJECTS, row[1:], strict=True)) == {
            s: data["cells"][s][row[0]] for s in SUBJECTS
        }

    markdown = offline(*args, "--markdown")
    assert markdown.code == 0, markdown.output
    lines = markdown.stdout.splitlines()
    assert lines[0] == "| route | " + " | ".join(SUBJECTS) + " |"
    interns = next(line for line in lines if line.startswith("| DELETE /orders/{id} |"))
    assert [c.strip() for c in interns.strip("|").split("|")][1:] == [
        "·",
        "·",
        "✗",
        "·",
        "✓",
        "·",
    ]


class _Cells(HTMLParser):
    """Collects the text of every td and the title attribute that goes with it."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self._in_td = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self._in_td = True
            self.cells.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_td = False


def test_html_writes_one_page_and_prints_its_path(tmp_path: Path) -> None:
    page = tmp_path / "matrix.html"
    result = offline(
        "matrix", "--policies", str(POLICIES), "--routes", str(ORDERS_API), "--html", str(page)
    )
    assert result.code == 0, result.output
    assert result.stdout.strip() == str(page)
    text = page.read_text("utf-8")
    parser = _Cells()
    parser.feed(text)
    assert len(parser.cells) == len(ROUTES) * len(SUBJECTS)
    assert "NoDelete" in text  # the hover text names the statements
    assert "<script src" not in text
    assert "<link" not in text  # self-contained

    unwritable = offline(
        "matrix",
        "--route",
        "GET /a",
        "--policies",
        str(POLICIES),
        "--html",
        str(tmp_path / "no" / "x.html"),
    )
    assert unwritable.code == 2
    assert "cannot write" in unwritable.stderr


def test_routes_from_repeated_route_options_keep_their_spelling() -> None:
    data = _json(
        offline(
            "matrix",
            "--policies",
            str(POLICIES),
            "--route",
            "delete /orders/{orderId}",
            "--route",
            "GET /health",
            "--route",
            "GET /health",
            "--json",
        )
    )
    assert data["routes"] == ["DELETE /orders/{orderId}", "GET /health"]
    assert data["cells"]["group:writers"]["DELETE /orders/{orderId}"] == "allow"


def test_serverless_yml_beside_the_policies_directory_is_the_default_source(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    (tmp_path / "serverless.yml").write_text(
        "service: orders\n"
        "functions:\n"
        "  orders:\n"
        "    handler: app.handler\n"
        "    events:\n"
        "      - http: GET orders/{id}\n"
        "      - httpApi:\n"
        "          method: DELETE\n"
        "          path: /orders/{id}\n"
        "      - schedule: rate(1 hour)\n"
    )
    data = _json(offline("matrix", "--policies", str(tree), "--json", cwd=tmp_path))
    assert data["routes"] == ["GET /orders/{id}", "DELETE /orders/{id}"]
    assert data["cells"]["group:interns"]["DELETE /orders/{id}"] == "explicit-deny"
    # Explicit options win over the file beside the policies.
    chosen = _json(
        offline("matrix", "--policies", str(tree), "--route", "GET /health", "--json", cwd=tmp_path)
    )
    assert chosen["routes"] == ["GET /health"]


def test_authz_routes_setting_is_the_last_source(tmp_path: Path) -> None:
    """With no option and no serverless.yml beside the policies, AUTHZ_ROUTES names the routes."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    args = ("matrix", "--policies", str(tree), "--json")
    inline = _json(offline(*args, cwd=tmp_path, AUTHZ_ROUTES="GET /orders, DELETE /orders/{id}"))
    assert inline["routes"] == ["GET /orders", "DELETE /orders/{id}"]
    as_file = _json(offline(*args, cwd=tmp_path, AUTHZ_ROUTES=str(ORDERS_API)))
    assert as_file["routes"] == ROUTES
    broken = offline(*args, cwd=tmp_path, AUTHZ_ROUTES="GET orders")
    assert broken.code == 2
    assert broken.stderr.startswith("error: AUTHZ_ROUTES: ")


def test_no_route_source_is_a_usage_error_that_says_how_to_give_routes(tmp_path: Path) -> None:
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    result = offline("matrix", "--policies", str(tree), cwd=tmp_path)
    assert result.code == 2, result.output
    assert result.stdout == ""
    for hint in ("--routes FILE", "--route 'GET /orders/{id}'", "serverless.yml", "AUTHZ_ROUTES"):
        assert hint in result.stderr


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("api.yaml", "openapi: 3.0.1\npaths:\n  /a: [\n", ":4:1: "),
        ("api.json", '{"openapi": "3.0.1",\n  "paths": {"/a": }}', ":2:19: "),
        (
            "api.yaml",
            "openapi: 3.0.1\npaths:\n  /a:\n    frobnicate: {}\n  b:\n    get: {}\n",
            ": ",
        ),
        ("api.yaml", "just: a mapping\n", ": not a route source"),
    ],
)
def test_an_unreadable_route_file_is_one_line_naming_file_and_position(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    file = tmp_path / name
    file.write_text(text)
    result = offline("matrix", "--policies", str(POLICIES), "--routes", str(file))
    assert result.code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {file}{where}")


def test_a_missing_route_file_or_malformed_route_is_a_usage_error(tmp_path: Path) -> None:
    missing = offline(
        "matrix", "--policies", str(POLICIES), "--routes", str(tmp_path / "nope.yaml")
    )
    assert missing.code == 2
    assert f"error: {tmp_path / 'nope.yaml'}: cannot read the file" in missing.stderr
    bad = offline("matrix", "--policies", str(POLICIES), "--route", "FETCH /orders")
    assert bad.code == 2
    assert "error: --route: method 'FETCH'" in bad.stderr


def test_two_output_formats_or_explain_with_csv_are_usage_errors() -> None:
    base = ("matrix", "--policies", str(POLICIES), "--route", "GET /a")
    both = offline(*base, "--json", "--csv")
    assert both.code == 2
    assert "--json and --csv" in both.stderr
    explained = offline(*base, "--csv", "--explain")
    assert explained.code == 2
    assert "--explain" in explained.stderr


def test_invalid_policy_files_fail_with_their_problems(tmp_path: Path) -> None:
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    (tree / "group" / "readers.json").write_text('{"Version": "2012-10-17", "Statement": 5}')
    result = offline("matrix", "--policies", str(tree), "--route", "GET /orders")
    assert result.code == 1
    assert str(tree / "group" / "readers.json") in result.stderr
    assert result.stdout == ""


def test_without_policies_option_the_table_is_read(
    authz: Runner, repository: DynamoRepository
) -> None:
    for selector, file in read_tree(POLICIES).policies.items():
        repository.put(selector, file.document, actor="seed")
    stored = _json(authz("matrix", "--routes", str(ORDERS_API), "--json"))
    assert stored == _files_matrix()
    # A policy edited in the table shows at once.
    readers = repository.get(Selector("group", "readers"))
    repository.put(
        readers.selector,
        PolicyDocument.from_dict(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": "execute-api:Invoke",
                        "Resource": "execute-api:/*/GET/health",
                    }
                ],
            }
        ),
        actor="edit",
        expected_version=readers.version,
    )
    after = _json(authz("matrix", "--routes", str(ORDERS_API), "--json"))
    assert after["cells"][str(readers.selector)]["GET /health"] == "explicit-deny"


def test_an_empty_table_draws_an_all_deny_grid_with_a_warning(
    authz: Runner, repository: DynamoRepository
) -> None:
    assert not repository.list(limit=1).items
    result = authz("matrix", "--route", "GET /orders", "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout) == {
        "routes": ["GET /orders"],
        "subjects": ["default"],
        "cells": {"default": {"GET /orders": "deny"}},
    }
    assert "no policies in table" in result.stderr
