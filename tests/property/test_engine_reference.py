"""The compiled engine against a plain reference interpreter over the pack AST.

The engine compiles constraints into closures and generated code, files rules in indexes and
memoises pack results, plans and whole decisions. :func:`reference_decide` below does none of
that: it walks the AST for every rule of every pack, following docs/pack-language.md ("How a pack
decides"). On random packs with random transfers, and on the shipped packs with random
transfers, both must give the same outcome, missing facts, reasons (pack, rule, effect, in
order), obligation ids and pack statuses. Each transfer is decided twice by the same engine, so
the second decision is served from the memos.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.packs import shipped
from accord.policy import (
    Atomic,
    Constraint,
    Duty,
    Engine,
    Group,
    Importer,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    PackDefault,
    PackMeta,
    Rule,
    RuleKind,
    ThresholdRef,
    Transfer,
    _vocab,
    compile_packs,
)
from accord.policy.ast import Threshold
from accord.policy.compile import _View
from accord.policy.decision import Decision

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Tri = bool | None

# -- the reference: Kleene logic over the AST, read straight off the transfer --------------------


def _subjects(t: Transfer, category: str) -> int | None:
    below = _vocab.descendants(category)
    subjects = t.data.subjects
    if subjects is not None:
        if category in subjects:
            return subjects[category]
        narrower = [n for k, n in subjects.items() if k in below]
        if narrower:
            return max(narrower)
    if t.data.categories is not None and not below & set(t.data.categories):
        return 0
    return None


def fact(t: Transfer, path: str, on: dt.date) -> Any:
    """The value of a fact path (``None`` = unknown)."""
    if path.startswith("data.subjects."):
        return _subjects(t, path.removeprefix("data.subjects."))
    if path == "date":
        return t.date or on
    if path == "intra_group":
        a, b = t.exporter.group, t.importer.group
        return None if a is None or b is None else a == b
    if path == "importer.certifications":
        certs = t.importer.certifications
        assert certs is None, "the generated transfers carry no certifications"
        return None
    value: Any = t
    for part in path.split("."):
        value = getattr(value, part)
    return value


def expand(value: Any, groups: dict[str, frozenset[str]]) -> set[Any]:
    items = value if isinstance(value, tuple) else (value,)
    out: set[Any] = set()
    for item in items:
        if isinstance(item, str) and item.startswith("group:"):
            name = item.removeprefix("group:")
            members = groups.get(name)
            out |= members if members is not None else (_vocab.group(name) or set())
        elif isinstance(item, tuple):
            out |= expand(item, groups)
        else:
            out.add(item)
    return out


def is_a(values: set[Any]) -> set[Any]:
    out = set(values)
    for v in values:
        if isinstance(v, str):
            out |= _vocab.descendants(v)
    return out


SET_FACTS = {
    "importer.subject_to",
    "data.categories",
    "data.subject_countries",
    "purposes",
    "mechanisms",
    "safeguards",
    "exemptions_claimed",
    "importer.certifications",
}


@dataclass
class Ctx:
    t: Transfer
    on: dt.date
    groups: dict[str, frozenset[str]]
    thresholds: dict[str, Constraint]


def atomic(a: Atomic, c: Ctx) -> Tri:
    x = fact(c.t, a.fact, c.on)
    if x is None:
        return None
    op = Operator(a.op)
    if a.fact in SET_FACTS:
        have = set(x)
        values = expand(a.value, c.groups)
        if op is Operator.IS_ANY_OF:
            return bool(have & values)
        if op is Operator.IS_ALL_OF:
            return values <= have
        if op is Operator.IS_NONE_OF:
            return not have & values
        if op is Operator.IS_A:
            return bool(have & is_a(values))
        if op is Operator.EQ:
            return have == values
        return have != values
    plain = not isinstance(a.value, tuple) and not (
        isinstance(a.value, str) and a.value.startswith("group:")
    )
    if op is Operator.EQ and plain:
        return bool(x == a.value)
    if op is Operator.NEQ and plain:
        return bool(x != a.value)
    if op is Operator.LT:
        return bool(x < a.value)
    if op is Operator.LTEQ:
        return bool(x <= a.value)
    if op is Operator.GT:
        return bool(x > a.value)
    if op is Operator.GTEQ:
        return bool(x >= a.value)
    values = expand(a.value, c.groups)
    if op in (Operator.IS_ANY_OF, Operator.EQ):
        return x in values
    if op in (Operator.IS_NONE_OF, Operator.NEQ):
        return x not in values
    if op is Operator.IS_A:
        return x in is_a(values)
    return values <= {x}  # isAllOf on a single value


def kleene(con: Constraint, c: Ctx) -> Tri:
    if isinstance(con, Atomic):
        return atomic(con, c)
    if isinstance(con, ThresholdRef):
        return kleene(c.thresholds[con.name], c)
    values = [kleene(arg, c) for arg in con.args]
    if con.op is LogicalOp.NOT:
        return None if values[0] is None else not values[0]
    if con.op is LogicalOp.AND:
        return False if False in values else (None if None in values else True)
    if con.op is LogicalOp.OR:
        return True if True in values else (None if None in values else False)
    if values.count(True) > 1:
        return False
    return None if None in values else values.count(True) == 1


def unknown_facts(con: Constraint, c: Ctx) -> set[str]:
    """The facts that leave an unknown constraint unknown (empty when it is decided)."""
    if kleene(con, c) is not None:
        return set()
    if isinstance(con, Atomic):
        return {con.fact}
    if isinstance(con, ThresholdRef):
        return unknown_facts(c.thresholds[con.name], c)
    out: set[str] = set()
    for arg in con.args:
        out |= unknown_facts(arg, c)
    return out


def in_window(start: dt.date | None, end: dt.date | None, on: dt.date) -> bool:
    return (start is None or start <= on) and (end is None or on <= end)


def holds(rule: Rule, c: Ctx) -> Tri:
    if not in_window(rule.effective_from, rule.sunset, c.on):
        return False
    w = True if rule.when is None else kleene(rule.when, c)
    if rule.unless is None:
        return w
    u = kleene(rule.unless, c)
    n = None if u is None else not u
    return False if False in (w, n) else (None if None in (w, n) else True)


def rule_unknowns(rule: Rule, c: Ctx) -> set[str]:
    out = set() if rule.when is None else unknown_facts(rule.when, c)
    when = True if rule.when is None else kleene(rule.when, c)
    if rule.unless is not None and when is not False:
        out |= unknown_facts(rule.unless, c)
    return out


def duties(rule: Rule) -> list[str]:
    ids = [d.id for d in rule.duties]
    if rule.kind is RuleKind.OBLIGATION and not ids:
        ids = [rule.id]
    return ids


@dataclass
class PackOut:
    applied: bool
    outcome: str | None
    reasons: list[tuple[str, str | None, str]] = field(default_factory=list)
    obligations: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)


def apply_rules(pack: Pack, c: Ctx) -> PackOut:
    pid = pack.meta.id
    rules = list(pack.rules)
    value = {r.id: holds(r, c) for r in rules}
    exemptions = [r for r in rules if r.kind is RuleKind.EXEMPTION]

    def exempted_by(r: Rule) -> list[Rule]:
        out: list[Rule] = []
        for e in exemptions:
            for target in e.exempts:
                if target in ("*", r.id):
                    out.append(e)
        return out

    used: list[Rule] = []
    undecided_by: dict[str, list[Rule]] = {}

    def active(kind: RuleKind) -> tuple[list[Rule], list[Rule]]:
        yes: list[Rule] = []
        maybe: list[Rule] = []
        for r in rules:
            if r.kind is not kind:
                continue
            h = value[r.id]
            if h is False:
                continue
            for e in exempted_by(r):
                if value[e.id] is True:
                    h = False
                    if e not in used:
                        used.append(e)
                    break
                if value[e.id] is None:
                    h = None
                    undecided_by.setdefault(r.id, []).append(e)
            if h is True:
                yes.append(r)
            elif h is None:
                maybe.append(r)
        return yes, maybe

    def by_pos(rs: list[Rule]) -> list[Rule]:
        return sorted(rs, key=rules.index)

    def reason(r: Rule, effect: str) -> tuple[str, str | None, str]:
        return (pid, r.id, effect)

    default = (pid, None, "default")
    denied, deny_unknown = active(RuleKind.PROHIBITION)
    if denied:
        why = [reason(r, "deny") for r in denied] + [reason(e, "exemption") for e in by_pos(used)]
        return PackOut(True, "deny", why)
    permits, permit_unknown = active(RuleKind.PERMISSION)
    deny_default = pack.meta.default is PackDefault.DENY
    if not permits and not permit_unknown and deny_default:
        return PackOut(True, "deny", [default] + [reason(e, "exemption") for e in by_pos(used)])
    obliges, oblige_unknown = active(RuleKind.OBLIGATION)
    obligations: list[str] = []
    for r in [*permits, *obliges]:
        for o in duties(r):
            if o not in obligations:
                obligations.append(o)
    why = [reason(r, "permit") for r in permits] + [reason(r, "obligation") for r in obliges]
    if not permits:
        why.append(default)
    why += [reason(e, "exemption") for e in by_pos(used)]
    open_rules = list(deny_unknown)
    if not permits and permit_unknown:
        if deny_default or any(duties(r) for r in permit_unknown):
            open_rules += permit_unknown
    elif permits:
        open_rules += [r for r in permit_unknown if set(duties(r)) - set(obligations)]
    open_rules += [r for r in oblige_unknown if set(duties(r)) - set(obligations)]
    if open_rules:
        missing: set[str] = set()
        for r in by_pos(open_rules):
            missing |= rule_unknowns(r, c)
            for e in undecided_by.get(r.id, []):
                missing |= rule_unknowns(e, c)
            why.append(reason(r, "undecided"))
        return PackOut(True, "indeterminate", why, obligations, missing)
    if not permits and deny_default:
        return PackOut(True, "deny", why)
    return PackOut(True, "permit_with_obligations" if obligations else "permit", why, obligations)


def decide_pack(pack: Pack, t: Transfer, on: dt.date) -> PackOut:
    meta = pack.meta
    if not in_window(meta.effective_from, meta.sunset, on):
        return PackOut(False, None)
    c = Ctx(
        t,
        on,
        {g.name: frozenset(g.members) for g in pack.groups},
        {th.name: th.constraint for th in pack.thresholds},
    )
    scope: Tri = True if meta.scope is None else kleene(meta.scope, c)
    if scope is False:
        return PackOut(False, None)
    out = apply_rules(pack, c)
    if scope is None:
        assert meta.scope is not None
        if out.outcome == "permit":
            return PackOut(False, None)
        out.outcome = "indeterminate"
        out.missing |= unknown_facts(meta.scope, c)
    return out


RANK = {"permit": 0, "permit_with_obligations": 1, "indeterminate": 2, "deny": 3}


def reference_decide(packs: list[Pack], t: Transfer) -> dict[str, Any]:
    on = t.date or dt.date.today()
    outcome = "permit"
    reasons: list[tuple[str, str | None, str]] = []
    obligations: list[str] = []
    missing: set[str] = set()
    statuses: list[tuple[str, bool, str | None, tuple[str, ...]]] = []
    for pack in packs:
        out = decide_pack(pack, t, on)
        statuses.append((pack.meta.id, out.applied, out.outcome, tuple(sorted(out.missing))))
        if not out.applied or out.outcome is None:
            continue
        if RANK[out.outcome] > RANK[outcome]:
            outcome = out.outcome
        reasons += out.reasons
        obligations += [o for o in out.obligations if o not in obligations]
        if out.outcome == "indeterminate":
            missing |= out.missing
    return {
        "outcome": outcome,
        "reasons": reasons,
        "obligations": [] if outcome == "deny" else obligations,
        "missing": sorted(missing) if outcome == "indeterminate" else [],
        "packs": statuses,
    }


def summary(d: Decision) -> dict[str, Any]:
    return {
        "outcome": str(d.outcome),
        "reasons": [(r.pack, r.rule, str(r.effect)) for r in d.reasons],
        "obligations": [o.id for o in d.obligations],
        "missing": list(d.missing),
        "packs": [
            (p.id, p.applied, None if p.outcome is None else str(p.outcome), p.missing)
            for p in d.packs
        ],
    }


# -- random packs ---------------------------------------------------------------------------------

COUNTRIES = ("US", "DE", "FR", "GB", "CN", "RU", "IN", "JP", "SG")
CATEGORIES = (
    "contact-details",
    "human-genomic",
    "human-omic",
    "other-omic",
    "precise-geolocation",
    "personal-health",
    "health-data",
    "government-related",
    "non-personal",
)
TRANSACTIONS = ("vendor", "data-brokerage", "employment", "investment", "intra-group")
MECHANISMS = ("bcr", "scc-2021-module-1", "derogation-consent", "adequacy", "idta")
SAFEGUARDS = ("encryption", "minimisation", "cisa-security-requirements", "pipia")
EXEMPTIONS = ("dsp-travel", "dsp-cfius", "pipl-emergency", "pipl-small-volume")
PURPOSES = ("analytics", "hosting", "research", "evasion")
BOOLS = (
    "data.government_related",
    "data.important_data",
    "data.de_identified",
    "occasional",
    "initial_collection",
    "importer.covered_person",
    "importer.ciio",
    "intra_group",
)
COUNTED = ("human-genomic", "human-omic", "personal-health")


def _some(items: tuple[str, ...], most: int = 2) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), min_size=1, max_size=most, unique=True).map(tuple)


def _list_atoms(path: str, items: tuple[str, ...]) -> st.SearchStrategy[Constraint]:
    return st.builds(
        Atomic,
        st.just(path),
        st.sampled_from(
            [Operator.IS_ANY_OF, Operator.IS_ALL_OF, Operator.IS_NONE_OF, Operator.IS_A]
        ),
        _some(items),
    )


atoms: st.SearchStrategy[Constraint] = st.one_of(
    st.builds(Atomic, st.sampled_from(BOOLS), st.just(Operator.EQ), st.booleans()),
    st.builds(
        Atomic,
        st.sampled_from(["exporter.country", "importer.country"]),
        st.sampled_from([Operator.EQ, Operator.NEQ]),
        st.sampled_from(COUNTRIES),
    ),
    st.builds(
        Atomic,
        st.sampled_from(["exporter.country", "importer.country"]),
        st.sampled_from([Operator.IS_ANY_OF, Operator.IS_NONE_OF]),
        st.one_of(_some(COUNTRIES, 3), st.just(("group:eea",)), st.just("group:local")),
    ),
    st.builds(
        Atomic,
        st.just("transaction"),
        st.sampled_from([Operator.EQ, Operator.IS_ANY_OF, Operator.IS_NONE_OF]),
        st.sampled_from(TRANSACTIONS),
    ),
    _list_atoms("data.categories", CATEGORIES),
    _list_atoms("mechanisms", MECHANISMS),
    _list_atoms("safeguards", SAFEGUARDS),
    _list_atoms("exemptions_claimed", EXEMPTIONS),
    _list_atoms("purposes", PURPOSES),
    st.builds(
        Atomic,
        st.sampled_from([f"data.subjects.{c}" for c in COUNTED]),
        st.sampled_from([Operator.GT, Operator.GTEQ, Operator.LT, Operator.LTEQ]),
        st.integers(0, 200),
    ),
    st.builds(
        Atomic,
        st.just("date"),
        st.sampled_from([Operator.LT, Operator.GTEQ]),
        st.sampled_from([dt.date(2026, 1, 1), dt.date(2026, 7, 1)]),
    ),
    st.sampled_from([ThresholdRef("many-genomic"), ThresholdRef("no-health")]),
)


def _logical(children: st.SearchStrategy[Constraint]) -> st.SearchStrategy[Constraint]:
    many = st.lists(children, min_size=1, max_size=4).map(tuple)
    return st.one_of(
        st.builds(Logical, st.sampled_from([LogicalOp.AND, LogicalOp.OR, LogicalOp.XONE]), many),
        st.builds(lambda c: Logical(LogicalOp.NOT, (c,)), children),
    )


constraints = st.recursive(atoms, _logical, max_leaves=8)


@st.composite
def packs(draw: st.DrawFn, pack_id: str) -> Pack:
    n = draw(st.integers(1, 7))
    ids = [f"r{i}" for i in range(n)]
    # a few conditions shared between rules, as packs do with YAML anchors
    common = draw(st.lists(constraints, min_size=1, max_size=3))
    conditions = st.one_of(st.none(), constraints, st.sampled_from(common))
    rules = []
    for rule_id in ids:
        kind = draw(st.sampled_from(list(RuleKind)))
        exempts: tuple[str, ...] = ()
        if kind is RuleKind.EXEMPTION:
            exempts = tuple(draw(st.lists(st.sampled_from([*ids, "*"]), min_size=1, max_size=2)))
        rule_duties: tuple[Duty, ...] = ()
        if kind in (RuleKind.PERMISSION, RuleKind.OBLIGATION):
            chosen = draw(st.lists(st.sampled_from(["d1", "d2", "d3"]), max_size=2, unique=True))
            rule_duties = tuple(Duty(d, f"duty {d}") for d in chosen)
        when = draw(conditions)
        if when is not None and draw(st.booleans()):
            when = Logical(LogicalOp.AND, (draw(st.sampled_from(common)), when))
        rules.append(
            Rule(
                id=rule_id,
                kind=kind,
                text=f"rule {rule_id}",
                citation=f"s.{rule_id}",
                when=when,
                unless=draw(st.one_of(st.none(), st.none(), conditions)),
                duties=rule_duties,
                exempts=exempts,
                effective_from=draw(st.sampled_from([None, None, dt.date(2026, 3, 1)])),
                sunset=draw(st.sampled_from([None, None, dt.date(2026, 9, 30)])),
            )
        )
    default = draw(st.sampled_from(list(PackDefault)))
    meta = PackMeta(
        id=pack_id,
        title="random",
        kind=draw(st.sampled_from(["regulation", "agreement"])),  # type: ignore[arg-type]
        jurisdiction="US",
        version="1",
        effective_from=draw(st.sampled_from([dt.date(2025, 1, 1), dt.date(2026, 4, 1)])),
        sunset=draw(st.sampled_from([None, dt.date(2026, 8, 31)])),
        default=default,
        default_citation="s.0",
        sources=("https://example.org/law",),
        scope=draw(st.one_of(st.none(), constraints)),
    )
    return Pack(
        meta,
        tuple(rules),
        (Group("local", ("US", "GB", "JP")),),
        (
            Threshold("many-genomic", Atomic("data.subjects.human-genomic", Operator.GT, 100)),
            Threshold(
                "no-health",
                Logical(
                    LogicalOp.NOT,
                    (Atomic("data.categories", Operator.IS_A, ("health-data",)),),
                ),
            ),
        ),
    )


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    def opt(key: str, strategy: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
        value = draw(_maybe(strategy))
        if value is not None:
            into[key] = value

    lists = {
        "categories": st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True),
        "mechanisms": st.lists(st.sampled_from(MECHANISMS), max_size=2, unique=True),
        "safeguards": st.lists(st.sampled_from(SAFEGUARDS), max_size=2, unique=True),
        "exemptions_claimed": st.lists(st.sampled_from(EXEMPTIONS), max_size=1),
        "purposes": st.lists(st.sampled_from(PURPOSES), max_size=2, unique=True),
    }
    exporter: dict[str, Any] = {"country": draw(st.sampled_from(COUNTRIES))}
    importer: dict[str, Any] = {"country": draw(st.sampled_from(COUNTRIES))}
    data: dict[str, Any] = {}
    doc: dict[str, Any] = {
        "id": "tx",
        "date": draw(st.dates(dt.date(2025, 6, 1), dt.date(2026, 12, 31))).isoformat(),
        "exporter": exporter,
        "importer": importer,
        "data": data,
    }
    opt("group", st.sampled_from(["g1", "g2"]), exporter)
    opt("group", st.sampled_from(["g1", "g2"]), importer)
    opt("kind", st.sampled_from(["company", "data-broker", "public-authority"]), exporter)
    for key in ("covered_person", "ciio", "adversary_controlled"):
        if key in Importer.model_fields:  # facts added to the document over time
            opt(key, st.booleans(), importer)
    for key in ("government_related", "important_data", "de_identified"):
        opt(key, st.booleans(), data)
    opt("categories", lists["categories"], data)
    opt("subject_countries", st.lists(st.sampled_from(COUNTRIES), max_size=2, unique=True), data)
    opt(
        "subjects",
        st.dictionaries(
            st.sampled_from([*COUNTED, "contact-details", "precise-geolocation", "other-omic"]),
            st.integers(0, 20_000),
            max_size=3,
        ),
        data,
    )
    for key in ("mechanisms", "safeguards", "exemptions_claimed", "purposes"):
        opt(key, lists[key], doc)
    opt("transaction", st.sampled_from(TRANSACTIONS), doc)
    opt("occasional", st.booleans(), doc)
    opt("initial_collection", st.booleans(), doc)
    return Transfer.from_mapping(doc)


# -- the properties -------------------------------------------------------------------------------


@SETTINGS
@given(st.lists(st.integers(0, 2), min_size=1, max_size=3), st.data())
def test_random_packs_decide_as_the_reference_does(sizes: list[int], data: st.DataObject) -> None:
    pack_list = [data.draw(packs(f"p{i}")) for i in range(len(sizes))]
    batch = data.draw(st.lists(transfers(), min_size=1, max_size=4))
    engine = compile_packs(pack_list)
    plain = Engine(pack_list, _shortcuts=False)
    for t in [*batch, *batch]:  # twice: the second round is served from the memos
        decision = engine.decide(t)
        assert summary(decision) == reference_decide(pack_list, t)
        assert decision.to_dict() == plain.decide(t).to_dict()
        assert decision.errors == ()


SHIPPED = list(shipped())
SHIPPED_ENGINE = compile_packs(SHIPPED)
SHIPPED_PLAIN = Engine(SHIPPED, _shortcuts=False)


@SETTINGS
@given(st.lists(transfers(), min_size=1, max_size=5))
def test_shipped_packs_decide_as_the_reference_does(batch: list[Transfer]) -> None:
    for t in [*batch, *batch]:
        decision = SHIPPED_ENGINE.decide(t)
        assert summary(decision) == reference_decide(SHIPPED, t)
        assert decision.to_dict() == SHIPPED_PLAIN.decide(t).to_dict()


@SETTINGS
@given(constraints, st.one_of(st.none(), constraints), transfers())
def test_generated_conditions_equal_the_closures_and_the_reference(
    when: Constraint, unless: Constraint | None, t: Transfer
) -> None:
    pack = Pack(
        PackMeta(
            id="p",
            title="p",
            kind="regulation",  # type: ignore[arg-type]
            jurisdiction="US",
            version="1",
            effective_from=dt.date(2025, 1, 1),
        ),
        (Rule(id="r", kind=RuleKind.PROHIBITION, text="r", when=when, unless=unless),),
        (Group("local", ("US", "GB", "JP")),),
        (
            Threshold("many-genomic", Atomic("data.subjects.human-genomic", Operator.GT, 100)),
            Threshold(
                "no-health",
                Logical(
                    LogicalOp.NOT, (Atomic("data.categories", Operator.IS_A, ("health-data",)),)
                ),
            ),
        ),
    )
    fast = compile_packs([pack])._packs[0].rules[0]
    plain = Engine([pack], _shortcuts=False)._packs[0].rules[0]
    on = t.date or dt.date.today()
    ctx = Ctx(
        t,
        on,
        {"local": frozenset({"US", "GB", "JP"})},
        {th.name: th.constraint for th in pack.thresholds},
    )
    want = holds(pack.rules[0], ctx)
    assert fast.fast(_View(t, on)) is want  # the generated function
    assert plain.fast(_View(t, on)) is want  # the closures
    assert fast.unknowns(_View(t, on)) == rule_unknowns(pack.rules[0], ctx)
