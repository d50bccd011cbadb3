"""Many IAM wildcard patterns matched in time linear in the input, by RE2.

Python's ``re`` backtracks: a ``*`` followed by more ``*`` may rescan the text
from every place it could stop, so hostile patterns against a long,
attacker-chosen request path cost time that grows with the square of its
length, or worse. RE2 (``google-re2``) runs an automaton instead: one pass
over the text, whatever the patterns hold. ``evaluate`` keeps its ``re``
union regexes for ordinary requests and sends here the ones that could
backtrack; ``bench/adversarial.py`` searches for the worst case.

A ``GlobSet`` holds two RE2 objects for its patterns:

- one alternation of all of them, matched against the whole text. Its answer
  is exact whatever the load: when RE2's DFA runs out of its memory budget,
  RE2 falls back to its NFA, which is slower but still linear;
- an RE2 ``Set`` of the same patterns, which names the patterns that matched.
  A Set cannot say that its DFA ran out of memory (it then names none), so it
  is asked only after the alternation said yes, and when it names none the
  patterns are tried one at a time.

Imported on first use only (by ``evaluate``): most containers never see a
request that needs it, and it stays off the authorizer's cold start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import re2

from authz.policy.wildcard import normalize

__all__ = ["GlobSet", "to_re2"]

_OPTIONS = re2.Options()
_OPTIONS.dot_nl = True  # ``*`` and ``?`` match any character, a newline too
_OPTIONS.never_capture = True


def to_re2(pattern: str) -> str:
    """RE2 source that matches exactly what ``pattern`` matches, when matched whole."""
    out: list[str] = []
    for c in normalize(pattern):
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            # Every other character by its code point: nothing is special then.
            out.append(f"\\x{{{ord(c):x}}}")
    return "".join(out)


class GlobSet:
    """Patterns in order; :meth:`first` names a pattern that matches a text."""

    __slots__ = ("_any", "_set", "_singles", "_sources")

    def __init__(self, patterns: Sequence[str]) -> None:
        self._sources = [to_re2(p) for p in patterns]
        self._any: Any = None
        self._set: Any = None
        self._singles: list[Any] | None = None
        if self._sources:
            self._any = re2.compile("|".join(f"(?:{s})" for s in self._sources), _OPTIONS)
            self._set = re2.Set.FullMatchSet(_OPTIONS)
            for source in self._sources:
                self._set.Add(source)
            self._set.Compile()

    def first(self, text: str) -> int | None:
        """The lowest index of a matching pattern, or None when none matches.

        Raises ValueError for a text that is not valid Unicode (a lone
        surrogate): RE2 reads UTF-8, and the caller must fail closed.
        """
        if self._any is None:
            return None
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("the request is not valid Unicode (a lone surrogate)") from None
        if self._any.fullmatch(text) is None:
            return None
        found: list[int] | None = self._set.Match(text)
        if found:
            return min(found)
        if self._singles is None:
            self._singles = [re2.compile(s, _OPTIONS) for s in self._sources]
        for i, single in enumerate(self._singles):
            if single.fullmatch(text) is not None:
                return i
        # The alternation matched, so one of its parts must: never read this as no match.
        raise RuntimeError("RE2 matched the alternation but none of its patterns")
