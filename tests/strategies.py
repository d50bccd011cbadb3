"""Hypothesis strategies shared by the test suites (policy documents, patterns, ARNs, claims).

Alphabets are deliberately tiny and full of regex metacharacters so generated
patterns and requests collide often and any escaping mistake shows up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from authz.policy import PolicyDocument, Statement

# Literal characters that mean something to regex engines or to ARNs.
LITERALS = "ab/:.[]()+^$|{}\\-"
WILDCARDS = "*?"
# What a ``*`` is replaced by when deriving a request from a pattern: empty,
# one separator, a run crossing separators.
STAR_FILLERS = ("", "/", ":", "x/y", "a:b/c", "*", "?")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
PREFIX = "arn:aws:execute-api:"


# --- bare wildcard patterns (no ARN grammar) -------------------------------------

glob_patterns = st.text(alphabet=LITERALS + WILDCARDS, max_size=10)
glob_texts = st.text(alphabet=LITERALS + WILDCARDS + "x", max_size=12)


def derive(pattern: str, fillers: Sequence[str], one: str) -> str:
    """A string ``pattern`` matches: each ``*`` becomes ``fillers`` in turn, each ``?`` ``one``."""
    out: list[str] = []
    k = 0
    for c in pattern:
        if c == "*":
            out.append(fillers[k % len(fillers)])
            k += 1
        elif c == "?":
            out.append(one)
        else:
            out.append(c)
    return "".join(out)


def near(text: str) -> list[str]:
    """Strings one edit away from ``text`` at its boundaries: off-by-one requests."""
    out = [text, text[1:], text[:-1], text + "x", "x" + text, text + "/", text + ":"]
    return [s for s in out if s != ""] + [""]


def requests_from(patterns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Requests aimed at pattern boundaries: fillers for ``*``, one char for ``?``, edits."""
    out: set[str] = set(extra)
    for p in patterns:
        for fillers, one in ((("",), "a"), (("/",), "/"), (("x/y",), "?"), (STAR_FILLERS, "a")):
            out.update(near(derive(p, fillers, one)))
    return sorted(out)


@st.composite
def glob_requests(draw: st.DrawFn, patterns: Sequence[str]) -> list[str]:
    """Derived boundary requests plus a few random ones."""
    return requests_from(patterns, draw(st.lists(glob_texts, max_size=4)))


_glob_statements = st.builds(
    lambda effect, resources, sid: Statement(
        sid=sid, effect=effect, actions=("execute-api:Invoke",), resources=resources
    ),
    st.sampled_from(("Allow", "Deny")),
    st.lists(glob_patterns, min_size=1, max_size=3).map(tuple),
    st.none() | st.sampled_from(("A", "B", "C")),
)


def glob_documents(max_statements: int = 6) -> st.SearchStrategy[PolicyDocument]:
    """Documents built directly (no ARN grammar) whose patterns are arbitrary globs."""
    return st.lists(_glob_statements, max_size=max_statements).map(
        lambda statements: PolicyDocument(tuple(statements))
    )


# --- execute-api ARNs ---------------------------------------------------------------

_SEGMENTS = ("a", "b1", "a.b", "a[1]", "(b)+", "a~b", "a-_", "ab")
_segment = st.sampled_from(_SEGMENTS) | st.text(alphabet="ab1.-_+()[]~", min_size=1, max_size=4)
# Single draws from precomputed choices: generation, not matching, dominated run time.
_wild_segment = st.sampled_from(
    (*_SEGMENTS, "*", "a*", "b?", "a?*", "*.b", "?", "(*)", "[?]")
) | st.text(alphabet="ab1.+()[]~*?", min_size=1, max_size=4)


def _part(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A head part: a concrete value, ``*``, or a value with one wildcard inside."""
    return st.sampled_from(
        (*values, "*", *(v[:-1] + "?" for v in values), *(v[:2] + "*" for v in values))
    )


_REGIONS = ("us-east-1", "eu-west-1")
_ACCOUNTS = ("123456789012", "210987654321")
_API_IDS = ("a1b2c3", "zz9")
_STAGES = ("prod", "dev", "$default")
regions = st.sampled_from(_REGIONS)
accounts = st.sampled_from(_ACCOUNTS)
api_ids = st.sampled_from(_API_IDS)
stages = st.sampled_from(_STAGES)
verbs = st.sampled_from(VERBS)
paths = st.lists(_segment, max_size=3).map("/".join)


@st.composite
def method_arns(draw: st.DrawFn) -> str:
    """Concrete request ARNs over small value sets, so patterns hit them often."""
    return (
        f"{PREFIX}{draw(regions)}:{draw(accounts)}:{draw(api_ids)}/"
        f"{draw(stages)}/{draw(verbs)}/{draw(paths)}"
    )


# Built once: strategies constructed inside a draw are re-analysed on every call.
_region_parts = _part(_REGIONS)
_account_parts = _part(_ACCOUNTS)
_api_parts = _part(_API_IDS)
_stage_parts = _part(_STAGES)
_verb_parts = st.sampled_from((*VERBS, "*", "G*", "P??T", "?E*"))
_path_lists = st.lists(_wild_segment, max_size=3)
_variables = st.sampled_from(("${sub}", "${username}", "${client_id}", "${claim:tenant}"))
_one_in_20 = st.integers(0, 19)
_cuts = st.integers(0, 9)


@st.composite
def _resource_patterns(draw: st.DrawFn, variables: bool = False) -> str:
    if draw(_one_in_20) == 0:
        return "*"
    path_segments = draw(_path_lists)
    if variables and draw(st.booleans()):
        path_segments.insert(draw(st.integers(0, len(path_segments))), draw(_variables))
    parts = [
        draw(_region_parts),
        ":" + draw(_account_parts),
        ":" + draw(_api_parts),
        "/" + draw(_stage_parts),
        "/" + draw(_verb_parts),
        "/" + "/".join(path_segments),
    ]
    cut = draw(_cuts)
    if cut < len(parts) - 1:
        # End the ARN early after a part that ends with a star.
        head = parts[: cut + 1]
        if not head[-1].endswith("*"):
            head[-1] += "*"
        return PREFIX + "".join(head)
    return PREFIX + "".join(parts)


def arn_requests(patterns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Request ARNs derived from ARN patterns (``*`` filled with short and separator-crossing
    runs) and their off-by-one-at-the-end neighbours."""
    out: set[str] = set(extra)
    for p in set(patterns):
        for fillers, one in ((("x",), "a"), (("",), "1"), (STAR_FILLERS, "a")):
            text = derive(p, fillers, one)
            out.update((text, text[:-1], text + "x", text + "/"))
    return sorted(out)


_PATTERNS = {v: _resource_patterns(variables=v) for v in (False, True)}


def resource_patterns(variables: bool = False) -> st.SearchStrategy[str]:
    """Valid Resource patterns: wildcards in every part, truncations after a ``*``, ``*``."""
    return _PATTERNS[variables]


# --- documents ----------------------------------------------------------------------

ACTION_SPELLINGS = ("execute-api:Invoke", "Execute-API:invoke", "execute-api:*", "*")
_actions = st.lists(st.sampled_from(ACTION_SPELLINGS), min_size=1, max_size=2)
_effects = st.sampled_from(("Allow", "Deny"))
_resource_lists = {
    v: st.lists(resource_patterns(variables=v), min_size=1, max_size=3) for v in (False, True)
}


@st.composite
def _statement_dicts(draw: st.DrawFn, variables: bool = False) -> dict[str, Any]:
    resources = draw(_resource_lists[variables])
    actions = draw(_actions)
    out: dict[str, Any] = {
        "Effect": draw(_effects),
        "Action": actions[0] if len(actions) == 1 and draw(st.booleans()) else actions,
        "Resource": resources[0] if len(resources) == 1 and draw(st.booleans()) else resources,
    }
    return out


_STATEMENTS = {v: _statement_dicts(variables=v) for v in (False, True)}


def statement_dicts(variables: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """One valid statement as JSON, shorthands included."""
    return _STATEMENTS[variables]


@st.composite
def document_dicts(
    draw: st.DrawFn, variables: bool = False, max_statements: int = 5
) -> dict[str, Any]:
    """Valid policy JSON in every shorthand IAM accepts, Sids unique."""
    statements = draw(st.lists(_STATEMENTS[variables], min_size=1, max_size=max_statements))
    for i, s in enumerate(statements):
        if draw(st.booleans()):
            s["Sid"] = f"S{i}"
    body: Any = statements[0] if len(statements) == 1 and draw(st.booleans()) else statements
    return {"Version": "2012-10-17", "Statement": body}


def documents(
    variables: bool = False, max_statements: int = 5
) -> st.SearchStrategy[PolicyDocument]:
    return document_dicts(variables=variables, max_statements=max_statements).map(
        PolicyDocument.from_dict
    )


# --- claims -------------------------------------------------------------------------

usable_values = st.one_of(
    st.text(alphabet="ab1._@+=,-", min_size=1, max_size=6).filter(lambda s: s not in (".", "..")),
    st.integers(-5, 99999),
)
unusable_values = st.one_of(
    st.sampled_from(["", ".", ".."]),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, max_value=10, min_value=-10),
    st.lists(st.just("a"), max_size=2),
    st.text(alphabet="ab*?/:${} \n", min_size=1, max_size=5).filter(
        lambda s: any(c in s for c in "*?/:${} \n")
    ),
)
CLAIM_NAMES = ("sub", "username", "client_id", "tenant")


def claims(usable_only: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Claim sets for the variables the generated documents use; some absent."""
    if usable_only:
        return st.fixed_dictionaries(dict.fromkeys(CLAIM_NAMES, usable_values))
    values = st.one_of(usable_values, unusable_values)
    return st.dictionaries(st.sampled_from(CLAIM_NAMES), values, max_size=4)


# --- the execute-api:/ shorthand ----------------------------------------------------

SHORTHAND = "execute-api:/"
_shorthand_forms = st.integers(0, 9)


@st.composite
def _shorthand_patterns(draw: st.DrawFn) -> str:
    form = draw(_shorthand_forms)
    if form == 0:
        return SHORTHAND + "*"
    stage = draw(_stage_parts)
    if form == 1:
        return f"{SHORTHAND}{stage}/*"
    return f"{SHORTHAND}{stage}/{draw(_verb_parts)}/{'/'.join(draw(_path_lists))}"


_SHORTHAND_PATTERNS = _shorthand_patterns()


def shorthand_patterns() -> st.SearchStrategy[str]:
    """Valid shorthand resources: every form, wildcards in stage, verb and path."""
    return _SHORTHAND_PATTERNS


_mixed_resources = st.lists(
    _SHORTHAND_PATTERNS | _SHORTHAND_PATTERNS | _PATTERNS[False], min_size=1, max_size=3
)


@st.composite
def mixed_documents(draw: st.DrawFn, max_statements: int = 4) -> PolicyDocument:
    """Validated documents whose resources are mostly shorthand, some full ARNs."""
    statements = [
        {
            "Effect": draw(_effects),
            "Action": "execute-api:Invoke",
            "Resource": draw(_mixed_resources),
        }
        for _ in range(draw(st.integers(1, max_statements)))
    ]
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": statements})


api_stage_prefixes = st.builds(
    lambda region, account, api, stage: f"{PREFIX}{region}:{account}:{api}/{stage}",
    regions,
    accounts,
    api_ids,
    stages,
)


def shorthand_requests(patterns: Iterable[str], prefixes: Iterable[str]) -> list[str]:
    """Requests at ``prefixes`` derived from shorthand patterns, with ``*`` filled by runs
    that cross ``/`` (the cross-segment attacks) and by one segment, and near misses."""
    out: set[str] = set()
    for prefix in prefixes:
        head = prefix.rsplit("/", 1)[0]
        out.add(prefix + "/GET/")
        for p in patterns:
            rest = p[len(SHORTHAND) :] if p.startswith(SHORTHAND) else ""
            for fillers, one in (
                (("x",), "a"),
                (("",), "1"),
                (STAR_FILLERS, "a"),
                (("GET/x",), "T"),
            ):
                text = derive(rest, fillers, one)
                for request in (f"{head}/{text}", f"{prefix}/{text}"):
                    out.update((request, request[:-1], request + "x", request + "/"))
    return sorted(out)
