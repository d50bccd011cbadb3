"""authz/validation.py: the one collector of problems with their JSON paths."""

from __future__ import annotations

from authz.validation import Problems


def test_empty_collector_is_falsy_and_lists_nothing() -> None:
    """A collector without problems is falsy, has length 0 and lists nothing."""
    problems = Problems()
    assert not problems
    assert len(problems) == 0
    assert problems.as_list() == []


def test_problems_are_listed_in_the_order_added() -> None:
    """Each add becomes one {"path", "message"} entry, in order; the collector is truthy."""
    problems = Problems()
    problems.add("Statement[0].Effect", "required")
    problems.add("", "must be an object")
    assert problems
    assert len(problems) == 2
    assert problems.as_list() == [
        {"path": "Statement[0].Effect", "message": "required"},
        {"path": "", "message": "must be an object"},
    ]


def test_as_list_returns_copies() -> None:
    """Changing what as_list returned does not change the collector."""
    problems = Problems()
    problems.add("a", "b")
    listed = problems.as_list()
    listed[0]["path"] = "changed"
    listed.append({"path": "x", "message": "y"})
    assert problems.as_list() == [{"path": "a", "message": "b"}]
