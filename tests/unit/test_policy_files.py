"""The policies/ directory format: name encoding, reading a tree, errors with file paths."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy.selector import DEFAULT, Selector
from authz.store.file_names import decode_file_name, encode_file_name, file_for, token_file_for
from authz.store.files import document_json, read_tree, write_policy

ALLOW_ORDERS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOrders",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
        }
    ],
}


def _write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("admins", "admins"),
        ("orders/read", "orders%2Fread"),
        ("a b", "a%20b"),
        (".hidden", "%2Ehidden"),
        ("..", "%2E."),
        ("x.token", "x%2Etoken"),
        ("café", "caf%C3%A9"),
        ("a~b%c", "a%7Eb%25c"),
        ("v1.2_x-y", "v1.2_x-y"),
    ],
)
def test_encode_name_examples(name: str, stem: str) -> None:
    """Names encode to the documented stems and decode back."""
    assert encode_file_name(name) == stem
    assert decode_file_name(stem) == name


@given(st.text(min_size=1, max_size=40))
def test_encode_decode_round_trip(name: str) -> None:
    """Every name round-trips to a safe, non-hidden stem that never looks like a token file."""
    stem = encode_file_name(name)
    assert re.fullmatch(r"[A-Za-z0-9._%-]+", stem)
    assert not stem.startswith(".")
    assert not stem.endswith(".token")
    assert decode_file_name(stem) == name


@pytest.mark.parametrize(
    "stem", ["orders%2fread", "a%41", "%2", "%ZZx", "%FF", "x.token", ".a", "a b", ""]
)
def test_decode_rejects_non_canonical(stem: str) -> None:
    """A stem that is not the exact encoding of its name is refused."""
    with pytest.raises(ValueError):  # noqa: PT011  # the message varies with the defect
        decode_file_name(stem)


def test_file_for_layout() -> None:
    """Selectors map to default.json, group/<enc>.json, scope/<enc>.json and group token files."""
    assert file_for(DEFAULT) == Path("default.json")
    assert file_for(Selector("group", "admins")) == Path("group/admins.json")
    assert file_for(Selector("scope", "orders/read")) == Path("scope/orders%2Fread.json")
    assert token_file_for(Selector("group", "admins")) == Path("group/admins.token.json")


def test_read_valid_tree(tmp_path: Path) -> None:
    """A valid tree yields one PolicyFile per selector, token settings attached to their group."""
    _write(tmp_path / "default.json", ALLOW_ORDERS)
    _write(tmp_path / "group" / "admins.json", ALLOW_ORDERS)
    _write(tmp_path / "group" / "admins.token.json", {"scopes": ["orders/read"], "claims": {}})
    _write(tmp_path / "scope" / "orders%2Fread.json", ALLOW_ORDERS)
    _write(tmp_path / "group" / ".gitkeep", "")
    tree = read_tree(tmp_path)
    assert tree.ok, tree.problems
    assert list(tree.policies) == [
        DEFAULT,
        Selector("group", "admins"),
        Selector("scope", "orders/read"),
    ]
    admins = tree.policies[Selector("group", "admins")]
    assert admins.file == tmp_path / "group" / "admins.json"
    assert admins.token is not None
    assert list(admins.token["scopes"]) == ["orders/read"]
    assert admins.token_file == tmp_path / "group" / "admins.token.json"
    assert tree.policies[DEFAULT].token is None
    assert tree.unknown == ()


def test_invalid_document_reports_file_and_json_path(tmp_path: Path) -> None:
    """A grammar error names the file and the JSON path inside it."""
    bad = dict(ALLOW_ORDERS, Statement=[dict(ALLOW_ORDERS["Statement"][0], Effect="Maybe")])
    file = _write(tmp_path / "group" / "readers.json", bad)
    tree = read_tree(tmp_path)
    assert not tree.ok
    assert [(p.file, p.path) for p in tree.problems] == [(file, "Statement[0].Effect")]
    assert str(tree.problems[0]).startswith(f"{file}: Statement[0].Effect: ")
    assert tree.policies == {}


def test_broken_json_and_duplicate_keys(tmp_path: Path) -> None:
    """Unparseable JSON, NaN and duplicate keys are problems of their file."""
    broken = _write(tmp_path / "scope" / "a.json", '{"Version": ')
    nan = _write(tmp_path / "scope" / "b.json", '{"Version": NaN}')
    dup = _write(
        tmp_path / "scope" / "c.json",
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Effect": "Deny",'
        ' "Action": "*", "Resource": "*"}]}',
    )
    tree = read_tree(tmp_path)
    by_file = {p.file: p for p in tree.problems}
    assert set(by_file) == {broken, nan, dup}
    assert "not valid JSON" in by_file[broken].message
    assert "NaN" in by_file[nan].message
    assert by_file[dup].path == "Statement[0]"
    assert "duplicate key 'Effect'" in by_file[dup].message


def test_bad_file_names_and_unknown_files(tmp_path: Path) -> None:
    """Non-canonical names are errors naming the right file; stray files are listed as unknown."""
    lower = _write(tmp_path / "scope" / "orders%2fread.json", ALLOW_ORDERS)
    spaced = _write(tmp_path / "group" / "a b.json", ALLOW_ORDERS)
    invalid_scope = _write(tmp_path / "scope" / "a%20b.json", ALLOW_ORDERS)
    stray = _write(tmp_path / "group" / "notes.txt", "hi")
    readme = _write(tmp_path / "README.md", "hi")
    nested = tmp_path / "group" / "sub"
    nested.mkdir()
    tree = read_tree(tmp_path)
    by_file = {p.file: p.message for p in tree.problems}
    assert set(by_file) == {lower, spaced, invalid_scope}
    assert "orders%2Fread" in by_file[lower]
    assert "a%20b" in by_file[spaced]
    assert "invalid scope name" in by_file[invalid_scope]
    assert set(tree.unknown) == {stray, readme, nested}


def test_token_settings_rules(tmp_path: Path) -> None:
    """Token settings need their group's policy, apply to groups only, and are validated."""
    orphan = _write(tmp_path / "group" / "ghost.token.json", {"scopes": ["a"]})
    scoped = _write(tmp_path / "scope" / "s.token.json", {"scopes": ["a"]})
    _write(tmp_path / "group" / "bad.json", ALLOW_ORDERS)
    bad = _write(tmp_path / "group" / "bad.token.json", {"claims": {"sub": "root"}})
    tree = read_tree(tmp_path)
    by_file = {p.file: p for p in tree.problems}
    assert set(by_file) == {orphan, scoped, bad}
    assert "ghost.json" in by_file[orphan].message
    assert "groups only" in by_file[scoped].message
    assert by_file[bad].path.startswith("claims")
    assert Selector("group", "bad") not in tree.policies


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    """What write_policy writes reads back as the same selector, document and token settings."""
    group = Selector("group", "x.token")
    token = {"claims": {"tenant": "acme"}, "scopes": ["orders/read"]}
    written = write_policy(tmp_path, group, ALLOW_ORDERS, token)
    assert written == [tmp_path / "group/x%2Etoken.json", tmp_path / "group/x%2Etoken.token.json"]
    write_policy(tmp_path, Selector("scope", "orders/read"), ALLOW_ORDERS)
    tree = read_tree(tmp_path)
    assert tree.ok, tree.problems
    assert set(tree.policies) == {group, Selector("scope", "orders/read")}
    assert tree.policies[group].token == token
    assert (tmp_path / "group/x%2Etoken.json").read_text("utf-8") == document_json(ALLOW_ORDERS)
    # Rewriting without token settings removes the stale sibling file.
    write_policy(tmp_path, group, ALLOW_ORDERS, None)
    assert not (tmp_path / "group/x%2Etoken.token.json").exists()


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    """Reading a directory that does not exist raises instead of yielding an empty tree."""
    with pytest.raises(NotADirectoryError):
        read_tree(tmp_path / "nope")
