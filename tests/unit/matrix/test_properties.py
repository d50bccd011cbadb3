"""The matrix agrees with ``evaluate``: every non-conditional cell is the decision
on every sample of its route, and an empty impact list means no decision changed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from authz.matrix import Route, SampleApi, Value, build_matrix, impact, sample_arns
from authz.policy import Decision, PolicyDocument, Statement, evaluate, merge, substitute

API = SampleApi()
VERBS = ("GET", "POST", "DELETE")

# Small alphabets so patterns, templates and samples collide often.
_pattern_segments = st.sampled_from(
    ("orders", "o", "a", "*", "?", "o*", "*s", "a?", "${sub}", "x${sub}", "")
)
_route_segments = st.sampled_from(("orders", "o", "a", "os", "{id}", "x{id}", "{id}s"))
_filler_segment = st.text(alphabet="aosrdx1-", min_size=1, max_size=4)


@st.composite
def resources(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(_pattern_segments, min_size=1, max_size=3)))
    verb = draw(st.sampled_from((*VERBS, "*", "G*")))
    form = draw(st.sampled_from(("shorthand", "full", "any-head", "star")))
    if form == "shorthand":
        stage = draw(st.sampled_from(("prod", "*", "dev")))
        return f"execute-api:/{stage}/{verb}/{path}"
    if form == "full":
        return f"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/{verb}/{path}"
    if form == "any-head":
        # IAM's ``*`` crosses ``/``: this stage wildcard can swallow a verb and more.
        return f"arn:aws:execute-api:*:*:*/*/{verb}/{path}"
    return draw(st.sampled_from(("*", "arn:aws:execute-api:*:*:*", "arn:aws:execute-api:*")))


statements = st.builds(
    lambda effect, rs: Statement(effect=effect, actions=("execute-api:Invoke",), resources=rs),
    st.sampled_from(("Allow", "Deny")),
    st.lists(resources(), min_size=1, max_size=3).map(tuple),
)
documents = st.lists(statements, min_size=1, max_size=4).map(lambda s: PolicyDocument(tuple(s)))


@st.composite
def routes(draw: st.DrawFn) -> Route:
    segments = draw(st.lists(_route_segments, min_size=0, max_size=3))
    if draw(st.booleans()):
        segments.append("{proxy+}")
    return Route(draw(st.sampled_from((*VERBS, "ANY"))), "/" + "/".join(segments))


@st.composite
def fillers(draw: st.DrawFn, route: Route) -> list[str]:
    out = []
    for part in route.path.split("{")[1:]:
        if part.startswith("proxy+"):
            out.append("/".join(draw(st.lists(_filler_segment, min_size=1, max_size=3))))
        else:
            out.append(draw(_filler_segment))
    return out


def _agrees(value: Value, decision: Decision) -> bool:
    if value == "allow":
        return decision.allowed
    if value == "explicit-deny":
        return decision.effect == "Deny"
    return not decision.allowed


def _decisions(doc: PolicyDocument, route: Route, filler: list[str], sub: str) -> list[Decision]:
    arns = sample_arns(route, API, filler)
    docs = (doc, substitute(doc, {"sub": sub}))
    return [evaluate(d, arn) for d in docs for arn in arns]


@given(
    default=documents,
    group=documents,
    table=st.lists(routes(), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_every_settled_cell_is_evaluates_decision_on_every_sample(
    default: PolicyDocument, group: PolicyDocument, table: list[Route], data: st.DataObject
) -> None:
    """A cell that is not conditional equals evaluate() on the route's own sample and
    on random samples and principals (``${sub}`` values) of the same template."""
    matrix = build_matrix({"default": default, "group:g": group}, table, api=API)
    for subject, docs in (("default", [default]), ("group:g", [default, group])):
        merged = merge(docs)
        for route in table:
            value = matrix.value(subject, route)
            if value == "conditional":
                continue
            samples = [[], *(data.draw(fillers(route)) for _ in range(3))]
            for filler in samples:
                sub = data.draw(_filler_segment)
                for decision in _decisions(merged, route, filler, sub):
                    assert _agrees(value, decision), (subject, str(route), value, decision)


@given(
    default=documents,
    before=documents,
    after=documents,
    table=st.lists(routes(), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_an_empty_impact_changes_no_decision(
    default: PolicyDocument,
    before: PolicyDocument,
    after: PolicyDocument,
    table: list[Route],
    data: st.DataObject,
) -> None:
    """When impact() lists nothing, no sample of any route, for any principal, is
    allowed before and refused after or the other way round."""
    changes = impact(
        {"default": default, "group:g": before}, {"default": default, "group:g": after}, table
    )
    if changes:
        return
    old, new = merge([default, before]), merge([default, after])
    for route in table:
        for filler in [[], *(data.draw(fillers(route)) for _ in range(3))]:
            sub = data.draw(_filler_segment)
            for a, b in zip(
                _decisions(old, route, filler, sub),
                _decisions(new, route, filler, sub),
                strict=True,
            ):
                assert a.allowed == b.allowed, (str(route), a, b)
