"""Selectors: the string form is made once, and identity stays (kind, name)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from authz.errors import SelectorError
from authz.policy import Selector
from authz.policy.selector import DEFAULT, selectors_for


@pytest.mark.parametrize(
    ("kind", "name", "text"),
    [
        ("default", "default", "default"),
        ("group", "a:b", "group:a:b"),
        ("scope", "x/y", "scope:x/y"),
    ],
)
def test_text_is_the_storage_key_and_parses_back(kind: str, name: str, text: str) -> None:
    selector = Selector.of(kind, name)
    assert selector.text == str(selector) == text
    assert Selector.parse(text) == selector


def test_text_takes_no_part_in_equality_order_hash_or_repr() -> None:
    a, b = Selector("group", "a"), Selector("group", "a")
    assert a == b
    assert hash(a) == hash(b)
    assert sorted([Selector("scope", "a"), a, DEFAULT]) == [DEFAULT, a, Selector("scope", "a")]
    assert repr(a) == "Selector(kind='group', name='a')"


def test_text_follows_a_copy_and_a_replace() -> None:
    a = Selector("group", "a")
    assert pickle.loads(pickle.dumps(a)).text == "group:a"  # noqa: S301  # our own bytes
    assert dataclasses.replace(a, name="b").text == "group:b"


def test_text_cannot_be_set_or_passed() -> None:
    a = Selector("group", "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.text = "group:b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Selector("group", "a", "scope:b")  # type: ignore[call-arg]


def test_invalid_names_are_still_refused() -> None:
    with pytest.raises(SelectorError):
        Selector("group", "has space")
    assert [s.text for s in selectors_for(["ok", "bad name"], ["s"])] == [
        "default",
        "group:ok",
        "scope:s",
    ]
