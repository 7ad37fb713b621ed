"""Invariants, checked on random packs and transfers: Kleene logic, parse∘print = id,
determinism, and "adding a prohibition never makes a decision less strict"."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.policy import (
    Atomic,
    Constraint,
    Duty,
    Engine,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    PackDefault,
    PackMeta,
    Rule,
    RuleKind,
    Transfer,
    compile_packs,
)
from accord.policy.compile import _View, compile_constraint
from accord.policy.decision import STRICTNESS, Outcome
from accord.policy.printer import print_pack

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BOOL_FACTS = (
    "data.government_related",
    "data.important_data",
    "data.de_identified",
    "occasional",
    "initial_collection",
    "importer.covered_person",
)
TRANSACTIONS = ("vendor", "data-brokerage", "employment")
CATEGORIES = ("contact-details", "human-genomic", "precise-geolocation")
COUNTRIES = ("US", "DE", "CN")
MECHANISMS = ("bcr", "scc-2021-module-1", "derogation-consent")

# -- constraints and a reference Kleene evaluator -----------------------------------------------

atomics = st.one_of(
    st.builds(lambda f, v: Atomic(f, Operator.EQ, v), st.sampled_from(BOOL_FACTS), st.booleans()),
    st.builds(lambda v: Atomic("transaction", Operator.EQ, v), st.sampled_from(TRANSACTIONS)),
    st.builds(
        lambda vs: Atomic("data.categories", Operator.IS_ANY_OF, tuple(vs)),
        st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(lambda v: Atomic("exporter.country", Operator.EQ, v), st.sampled_from(COUNTRIES)),
    st.builds(
        lambda vs: Atomic("importer.country", Operator.IS_ANY_OF, tuple(vs)),
        st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(
        lambda vs: Atomic("mechanisms", Operator.IS_ANY_OF, tuple(vs)),
        st.lists(st.sampled_from(MECHANISMS), min_size=1, max_size=2, unique=True),
    ),
    st.builds(
        lambda op, n: Atomic("data.subjects.human-genomic", op, n),
        st.sampled_from([Operator.GT, Operator.GTEQ, Operator.LT, Operator.LTEQ]),
        st.integers(0, 200),
    ),
)


def _logical(children: st.SearchStrategy[Constraint]) -> st.SearchStrategy[Constraint]:
    many = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(Logical, st.sampled_from([LogicalOp.AND, LogicalOp.OR, LogicalOp.XONE]), many),
        st.builds(lambda c: Logical(LogicalOp.NOT, (c,)), children),
    )


constraints = st.recursive(atomics, _logical, max_leaves=6)

transfers = st.builds(
    lambda bools, txn, cats, count, countries, mechs: Transfer.from_mapping(
        {
            "id": "tx",
            "date": "2026-06-01",
            "exporter": {"country": countries[0]},
            "importer": {
                "country": countries[1],
                **({"covered_person": bools[5]} if bools[5] is not None else {}),
            },
            "data": {
                **{
                    f.split(".")[1]: b
                    for f, b in zip(BOOL_FACTS[:3], bools[:3], strict=True)
                    if b is not None
                },
                **({"categories": cats} if cats is not None else {}),
                **({"subjects": {"human-genomic": count}} if count is not None else {}),
            },
            **{f: b for f, b in zip(BOOL_FACTS[3:5], bools[3:5], strict=True) if b is not None},
            **({"transaction": txn} if txn is not None else {}),
            **({"mechanisms": mechs} if mechs is not None else {}),
        }
    ),
    st.tuples(*[st.sampled_from([True, False, None])] * 6),
    st.sampled_from([*TRANSACTIONS, None]),
    st.one_of(st.none(), st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True)),
    st.one_of(st.none(), st.integers(0, 200)),
    st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES)),
    st.one_of(st.none(), st.lists(st.sampled_from(MECHANISMS), max_size=2, unique=True)),
)


def _fact(t: Transfer, path: str) -> Any:
    if path.startswith("data.subjects."):
        cat = path.removeprefix("data.subjects.")
        if t.data.subjects is not None and cat in t.data.subjects:
            return t.data.subjects[cat]
        if t.data.categories is not None and cat not in t.data.categories:
            return 0
        return None
    value: Any = t
    for part in path.split("."):
        value = getattr(value, part)
    return value


def reference(c: Constraint, t: Transfer) -> bool | None:
    """Kleene three-valued logic, written as plainly as possible."""
    if isinstance(c, Atomic):
        x = _fact(t, c.fact)
        if x is None:
            return None
        if c.op == Operator.EQ:
            return bool(x == c.value)
        if c.op == Operator.IS_ANY_OF:
            assert isinstance(c.value, tuple)
            if isinstance(x, tuple):
                return bool(set(x) & set(c.value))
            return x in c.value
        return {
            Operator.GT: x > c.value,
            Operator.GTEQ: x >= c.value,
            Operator.LT: x < c.value,
            Operator.LTEQ: x <= c.value,
        }[Operator(c.op)]
    assert isinstance(c, Logical)
    vals = [reference(a, t) for a in c.args]
    if c.op is LogicalOp.NOT:
        return None if vals[0] is None else not vals[0]
    if c.op is LogicalOp.AND:
        if False in vals:
            return False
        return None if None in vals else True
    if c.op is LogicalOp.OR:
        if True in vals:
            return True
        return None if None in vals else False
    trues = vals.count(True)
    if trues > 1:
        return False
    return None if None in vals else trues == 1


@SETTINGS
@given(constraints, transfers)
def test_compiled_constraints_follow_kleene_logic(c: Constraint, t: Transfer) -> None:
    compiled = compile_constraint(c)
    view = _View(t, date(2026, 6, 1))
    result = compiled.ev(view)
    assert result is reference(c, t)
    unknown = compiled.unknowns(view)
    assert (result is None) == bool(unknown)


def test_truth_tables() -> None:
    t_true, t_false, t_unknown = (
        Atomic("occasional", Operator.EQ, True),
        Atomic("initial_collection", Operator.EQ, True),
        Atomic("data.government_related", Operator.EQ, True),
    )
    t = Transfer.from_mapping(
        {
            "id": "tx",
            "exporter": {"country": "US"},
            "importer": {"country": "CN"},
            "data": {},
            "occasional": True,
            "initial_collection": False,
        }
    )
    view = _View(t, date(2026, 6, 1))
    value = {"T": t_true, "F": t_false, "U": t_unknown}
    result = {True: "T", False: "F", None: "U"}
    table = {
        LogicalOp.AND: {"TT": "T", "TF": "F", "TU": "U", "FU": "F", "UU": "U", "FF": "F"},
        LogicalOp.OR: {"TT": "T", "TF": "T", "TU": "T", "FU": "U", "UU": "U", "FF": "F"},
        LogicalOp.XONE: {"TT": "F", "TF": "T", "TU": "U", "FU": "U", "UU": "U", "FF": "F"},
    }
    for op, rows in table.items():
        for args, want in rows.items():
            for a, b in (args, args[::-1]):
                c = Logical(op, (value[a], value[b]))
                assert result[compile_constraint(c).ev(view)] == want, (op, a, b)
    for arg, want in (("T", "F"), ("F", "T"), ("U", "U")):
        c = Logical(LogicalOp.NOT, (value[arg],))
        assert result[compile_constraint(c).ev(view)] == want


# -- random packs --------------------------------------------------------------------------------

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s)
duties = st.builds(
    Duty,
    id=st.sampled_from(["d1", "d2", "d3"]),
    text=texts,
    citation=st.one_of(st.none(), texts),
    deadline=st.sampled_from([None, "P14D", "PT72H"]),
    protects=st.lists(st.sampled_from(["accountability", "transparency"]), max_size=2).map(tuple),
)


@st.composite
def packs(draw: st.DrawFn, pack_id: str = "p") -> Pack:
    n = draw(st.integers(1, 5))
    ids = [f"r{i}" for i in range(n)]
    rules = []
    for rule_id in ids:
        kind = draw(st.sampled_from(list(RuleKind)))
        exempts: tuple[str, ...] = ()
        if kind is RuleKind.EXEMPTION:
            exempts = tuple(draw(st.lists(st.sampled_from([*ids, "*"]), min_size=1, max_size=2)))
        rule_duties: tuple[Duty, ...] = ()
        if kind in (RuleKind.PERMISSION, RuleKind.OBLIGATION):
            found = draw(st.lists(duties, max_size=2, unique_by=lambda d: d.id))
            rule_duties = tuple(found)
        rules.append(
            Rule(
                id=rule_id,
                kind=kind,
                text=draw(texts),
                citation=f"s.{rule_id}",
                source="https://example.org/" + rule_id,
                when=draw(st.one_of(st.none(), constraints)),
                unless=draw(st.one_of(st.none(), constraints)),
                duties=rule_duties,
                exempts=exempts,
                effective_from=draw(st.sampled_from([None, date(2026, 1, 1), date(2026, 7, 1)])),
            )
        )
    default = draw(st.sampled_from(list(PackDefault)))
    meta = PackMeta(
        id=pack_id,
        title=draw(texts),
        kind=draw(st.sampled_from(["regulation", "agreement"])),  # type: ignore[arg-type]
        jurisdiction="US",
        version=draw(st.sampled_from(["1", "2025.1", "1.10"])),
        effective_from=date(2025, 1, 1),
        sunset=draw(st.sampled_from([None, date(2030, 12, 31)])),
        default=default,
        default_citation="s.0" if default is PackDefault.DENY else None,
        sources=("https://example.org/law",),
        scope=draw(st.one_of(st.none(), constraints)),
    )
    return Pack(meta, tuple(rules))


@SETTINGS
@given(packs())
def test_printing_then_parsing_gives_the_same_pack(pack: Pack) -> None:
    text = print_pack(pack)
    assert Pack.from_text(text, validate=False) == pack


@SETTINGS
@given(packs(), packs(pack_id="q"), transfers)
def test_decisions_are_deterministic(p: Pack, q: Pack, t: Transfer) -> None:
    first = compile_packs([p, q]).decide(t).to_dict()
    again = compile_packs([p, q]).decide(t).to_dict()
    assert first == again
    assert compile_packs([p, q]).decide(t, as_of=date(2026, 6, 1)).to_dict() == first


def _with_prohibition(pack: Pack, when: Constraint | None) -> Pack:
    extra = Rule(
        id="added",
        kind=RuleKind.PROHIBITION,
        text="added",
        citation="s.x",
        source="https://example.org/x",
        when=when,
    )
    return Pack(pack.meta, (*pack.rules, extra), pack.groups, pack.thresholds)


@SETTINGS
@given(packs(), st.one_of(st.none(), constraints), transfers)
def test_adding_a_prohibition_never_makes_a_decision_less_strict(
    pack: Pack, when: Constraint | None, t: Transfer
) -> None:
    before = compile_packs([pack]).decide(t).outcome
    after = compile_packs([_with_prohibition(pack, when)]).decide(t).outcome
    assert STRICTNESS[after] >= STRICTNESS[before]
    if before is Outcome.DENY:
        assert after is Outcome.DENY


@SETTINGS
@given(packs(), transfers)
def test_missing_facts_only_when_indeterminate(pack: Pack, t: Transfer) -> None:
    d = compile_packs([pack]).decide(t)
    assert (d.outcome is Outcome.INDETERMINATE) == bool(d.missing)
    assert list(d.missing) == sorted(set(d.missing))
    if d.outcome is Outcome.PERMIT_WITH_OBLIGATIONS:
        assert d.obligations
    if d.outcome in (Outcome.PERMIT, Outcome.DENY):
        assert d.obligations == ()


@SETTINGS
@given(st.lists(packs(), min_size=1, max_size=3), st.lists(transfers, min_size=1, max_size=4))
def test_indexes_and_memos_do_not_change_decisions(
    pack_list: list[Pack], batch: list[Transfer]
) -> None:
    renamed = [
        Pack(replace(p.meta, id=f"p{i}"), p.rules, p.groups, p.thresholds)
        for i, p in enumerate(pack_list)
    ]
    fast = compile_packs(renamed)
    plain = Engine(renamed, _shortcuts=False)
    for t in [*batch, *batch]:  # twice: the second round is served from the memos
        assert fast.decide(t).to_dict() == plain.decide(t).to_dict()
