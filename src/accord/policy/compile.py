"""Compile packs once, decide many transfers: constraint trees → closures and generated code,
rules → indexes, decisions → memos.

- Each constraint is compiled once into a closure ``ev(view) -> True | False | None`` (``None`` is
  *unknown*, Kleene logic); ``and``/``or``/``xone`` test their cheapest parts first. A
  per-decision :class:`_View` reads facts off the transfer and caches the costly ones (subject
  counts, certifications, parts shared between rules).
- With the shortcuts (the default), each rule's condition is also written out as one generated
  Python function (:class:`_Writer`: the same Kleene logic, order and short-circuits, common
  atomic shapes inline), and the parts a pack's rules share (YAML anchors) are worked out once per
  decision. A rule that fails is always re-run through the closures, which record the error.
- Each pack files its rules in a cascade of indexes (:class:`_Index`) under the values of the
  facts they pin (``transaction``, ``importer.country``, ``mechanisms`` …), so a decision only
  evaluates rules that can hold.
- Which packs apply: per window interval and exporter country, packs whose scope the country
  alone decides are settled once (:class:`_Stage`, :func:`_gate`, :func:`_pass`); the other
  scopes are memoised on the facts they read.
- A pack's result is memoised on its candidate rules' values (and, for open rules, the facts
  they leave unknown): :class:`_Cands`; a decision whose packs were all served so is memoised on
  those results, and built without re-sorting or re-merging anything.
- Missing facts are worked out (:meth:`CNode.explain`) only for rules left undecided.

The semantics are those of docs/pack-language.md, "How a pack decides";
:func:`accord.policy.decide.decide` is a thin wrapper around :class:`Engine`. Property tests check
that the shortcuts never change a decision: against ``Engine(packs, _shortcuts=False)`` (the
closures alone, no index, no memo) and against a plain interpreter of the pack AST
(tests/property/test_engine_reference.py).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import importlib
import operator
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accord.policy import _vocab
from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    PackDefault,
    Rule,
    RuleKind,
    ThresholdRef,
    Value,
)
from accord.policy.decision import (
    Decision,
    Effect,
    Obligation,
    Outcome,
    PackStatus,
    Reason,
    Recognition,
    RuleError,
    _decision,
)
from accord.policy.transfer import SUBJECTS_PREFIX, Transfer, fact_spec

__all__ = ["Engine", "compile_constraint", "compile_packs"]

Tri = bool | None
Ev = Callable[["_View"], Tri]
CERTS = "importer.certifications"


class CompileError(Exception):
    """A constraint that cannot be compiled (the validator reports these as located errors)."""


# -- the per-decision fact view -------------------------------------------------------------------


class _View:
    """Facts of one transfer on one day, read lazily and cached."""

    __slots__ = ("cache", "cert_refs", "on", "t")

    def __init__(self, transfer: Transfer, on: dt.date) -> None:
        self.t = transfer
        self.on = on
        self.cache: dict[str, Any] = {}
        self.cert_refs: set[str] | None = None  # made when a certification is looked at

    def certs(self) -> tuple[frozenset[str], frozenset[str], tuple[Any, ...]] | None:
        """(schemes that count, schemes that might count, recognitions used), or unknown."""
        cache = self.cache
        if CERTS in cache:
            hit: tuple[frozenset[str], frozenset[str], tuple[Any, ...]] | None = cache[CERTS]
            return hit
        hit = _assess_certs(self.t.importer.certifications, self.on)
        cache[CERTS] = hit
        return hit


_CertKey = tuple[tuple[Any, ...], dt.date]
_CertValue = tuple[frozenset[str], frozenset[str], tuple[Any, ...]]
_cert_memo: dict[_CertKey, _CertValue] = {}


def _assess_certs(certs: Sequence[Any] | None, on: dt.date) -> _CertValue | None:
    if certs is None:
        return None
    key = (tuple(certs), on)
    hit = _cert_memo.get(key)
    if hit is None:
        hit = _assess_certs_uncached(certs, on)
        if len(_cert_memo) >= 1024:
            _cert_memo.clear()
        _cert_memo[key] = hit
    return hit


def _assess_certs_uncached(certs: Sequence[Any], on: dt.date) -> _CertValue:
    try:
        registry: Any = importlib.import_module("accord.vocab.certifications")
    except ImportError:  # pragma: no cover - the registry ships with the package
        registry = None
    assess = getattr(registry, "assess", None)
    if assess is not None:
        result = assess(certs, on)
        return frozenset(result.effective), frozenset(result.unknown), tuple(result.recognitions)
    effective_schemes = getattr(registry, "effective_schemes", None)
    if effective_schemes is not None:  # pragma: no cover - older registry API
        schemes, recs = effective_schemes(certs, on)
        maybe = frozenset(c.scheme for c in certs if str(c.status) == "unknown")
        return frozenset(schemes), maybe - frozenset(schemes), tuple(recs)
    active = frozenset(  # pragma: no cover - no registry at all
        c.scheme
        for c in certs
        if str(c.status) == "active" and (c.valid_until is None or c.valid_until >= on)
    )
    maybe = frozenset(c.scheme for c in certs if str(c.status) == "unknown")  # pragma: no cover
    return active, maybe - active, ()  # pragma: no cover


def _attr_getter(path: str) -> Callable[[_View], Any]:
    """Read a fact straight off the view's transfer (``view.t.<path>``), in C."""
    getter: Callable[[_View], Any] = operator.attrgetter("t." + path)
    return getter


def _set_getter(path: str) -> Callable[[_View], tuple[Any, ...] | None]:
    """A list fact as stored (a tuple, or ``None`` when unknown); set operators take any
    iterable, so no set is built per decision."""
    getter: Callable[[_View], tuple[Any, ...] | None] = operator.attrgetter("t." + path)
    return getter


def _subjects_getter(category: str) -> Callable[[_View], int | None]:
    below = _vocab.descendants(category)
    key = SUBJECTS_PREFIX + category

    def count(v: _View) -> int | None:
        data = v.t.data
        subjects = data.subjects
        if subjects is not None:
            exact = subjects.get(category)
            if exact is not None:
                return exact
            narrower = [n for k, n in subjects.items() if k in below]
            if narrower:
                return max(narrower)
        cats = data.categories
        if cats is not None and below.isdisjoint(cats):
            return 0  # the category is not transferred at all
        return None

    def get(v: _View) -> int | None:
        cache = v.cache
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        value = count(v)
        cache[key] = value
        return value

    return get


def _intra_group(v: _View) -> bool | None:
    a, b = v.t.exporter.group, v.t.importer.group
    if a is None or b is None:
        return None
    return a == b


def _date_fact(v: _View) -> dt.date:
    return v.t.date or v.on


def _scalar_getter(path: str) -> Callable[[_View], Any]:
    if path.startswith(SUBJECTS_PREFIX):
        return _subjects_getter(path[len(SUBJECTS_PREFIX) :])
    if path == "intra_group":
        return _intra_group
    if path == "date":
        return _date_fact
    return _attr_getter(path)


# -- constraints ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CNode:
    """A compiled constraint: ``ev`` and what is needed to explain an unknown or false result."""

    ev: Ev
    source: Constraint
    children: tuple[CNode, ...] = ()
    fact: str | None = None
    getter: Callable[[_View], Any] | None = None

    @property
    def cost(self) -> int:
        """Rough evaluation cost: atomic comparisons in the subtree (certifications weigh more)."""
        if self.fact is not None:
            return 4 if self.fact == CERTS else 1
        return sum(ch.cost for ch in self.children) + 1

    def unknowns(self, view: _View) -> set[str]:
        """Facts whose absence makes this node unknown (empty when it is decided)."""
        _value, found = self.explain(view)
        return found

    def explain(self, view: _View) -> tuple[Tri, set[str]]:
        """The node's value and, when unknown, the facts that make it so (one pass)."""
        if self.fact is not None or not self.children:
            value = self.ev(view)
            return value, ({self.fact} if value is None and self.fact is not None else set())
        src = self.source
        if isinstance(src, ThresholdRef) or (
            len(self.children) == 1
            and not (isinstance(src, Logical) and src.op in (LogicalOp.NOT, LogicalOp.XONE))
        ):
            return self.children[0].explain(view)
        assert isinstance(src, Logical)
        op = src.op
        if op is LogicalOp.NOT:
            inner, why = self.children[0].explain(view)
            return (None, why) if inner is None else (not inner, set())
        found: set[str] = set()
        unknown = False
        trues = 0
        for child in self.children:
            value, facts = child.explain(view)
            if value is None:
                unknown = True
                found |= facts
            elif op is LogicalOp.AND:
                if value is False:
                    return False, set()
            elif op is LogicalOp.OR:
                if value is True:
                    return True, set()
            elif value is True:
                trues += 1
                if trues > 1:
                    return False, set()
        if unknown:
            return None, found
        if op is LogicalOp.AND:
            return True, set()
        if op is LogicalOp.OR:
            return False, set()
        return trues == 1, set()

    def why_false(self, view: _View) -> str | None:
        """A short account of why a false node is false (the first false atomic part)."""
        if self.ev(view) is not False:
            return None
        src = self.source
        if isinstance(src, Atomic) and self.getter is not None:
            found = self.getter(view)
            if isinstance(found, (frozenset, tuple)):
                found = sorted(found, key=str)
            if src.op == Operator.EQ:
                return f"{src.fact} is {_show(found)}, not {_show(src.value)}"
            return f"{src.fact} is {_show(found)} (needs {src.op} {_show(src.value)})"
        if isinstance(src, Logical) and src.op is LogicalOp.AND:
            for child in self.children:
                text = child.why_false(view)
                if text is not None:
                    return text
        if isinstance(src, ThresholdRef) and self.children:
            return self.children[0].why_false(view)
        return "the condition does not hold"


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "unknown"
    return str(value)


def _expand(value: Value, groups: dict[str, frozenset[str]]) -> list[Any]:
    """The value as a flat list, ``group:NAME`` replaced by the group's members."""
    items: Iterable[Value] = value if isinstance(value, tuple) else (value,)
    out: list[Any] = []
    for item in items:
        if isinstance(item, str) and item.startswith("group:"):
            name = item[len("group:") :]
            members = groups.get(name)
            if members is None:
                members = _vocab.group(name)
            if members is None:
                raise CompileError(f"unknown group {name!r}")
            out.extend(sorted(members))
        elif isinstance(item, tuple):
            out.extend(_expand(item, groups))
        else:
            out.append(item)
    return out


_ORDER = {
    Operator.LT: operator.lt,
    Operator.LTEQ: operator.le,
    Operator.GT: operator.gt,
    Operator.GTEQ: operator.ge,
}


def _is_a_closure(targets: Iterable[Any]) -> frozenset[Any]:
    """Every value that ``isA`` one of ``targets``: the targets and their descendants."""
    out: set[Any] = set()
    for t in targets:
        out.add(t)
        if isinstance(t, str):
            out |= _vocab.descendants(t)
    return frozenset(out)


def _compile_scalar(
    a: Atomic, get: Callable[[_View], Any], groups: dict[str, frozenset[str]]
) -> Ev:
    op = a.op
    is_group = isinstance(a.value, str) and a.value.startswith("group:")
    if op in (Operator.EQ, Operator.NEQ) and not isinstance(a.value, tuple) and not is_group:
        target = a.value
        if op == Operator.EQ:

            def ev_eq(v: _View) -> Tri:
                x = get(v)
                return None if x is None else x == target

            return ev_eq

        def ev_neq(v: _View) -> Tri:
            x = get(v)
            return None if x is None else x != target

        return ev_neq
    if op in _ORDER:
        if isinstance(a.value, tuple):
            raise CompileError(f"{op} needs a single value, not a list")
        cmp = _ORDER[Operator(op)]
        bound: Any = a.value

        def ev_cmp(v: _View) -> Tri:
            x = get(v)
            return None if x is None else bool(cmp(x, bound))

        return ev_cmp
    values = frozenset(_expand(a.value, groups))
    if op in (Operator.IS_ANY_OF, Operator.EQ):

        def ev_in(v: _View) -> Tri:
            x = get(v)
            return None if x is None else x in values

        return ev_in
    if op in (Operator.IS_NONE_OF, Operator.NEQ):

        def ev_not_in(v: _View) -> Tri:
            x = get(v)
            return None if x is None else x not in values

        return ev_not_in
    if op == Operator.IS_A:
        closure = _is_a_closure(values)

        def ev_is_a(v: _View) -> Tri:
            x = get(v)
            return None if x is None else x in closure

        return ev_is_a
    if op == Operator.IS_ALL_OF:

        def ev_all(v: _View) -> Tri:
            x = get(v)
            return None if x is None else values <= {x}

        return ev_all
    raise CompileError(f"unknown operator {op!r}")


def _compile_set(a: Atomic, groups: dict[str, frozenset[str]]) -> Ev:
    op = a.op
    values = frozenset(_expand(a.value, groups))
    read = operator.attrgetter(a.fact)
    if op == Operator.IS_ANY_OF:
        return lambda v: None if (x := read(v.t)) is None else not values.isdisjoint(x)
    if op == Operator.IS_ALL_OF:
        return lambda v: None if (x := read(v.t)) is None else values.issubset(x)
    if op == Operator.IS_NONE_OF:
        return lambda v: None if (x := read(v.t)) is None else values.isdisjoint(x)
    if op == Operator.IS_A:
        closure = _is_a_closure(values)
        return lambda v: None if (x := read(v.t)) is None else not closure.isdisjoint(x)
    if op in (Operator.EQ, Operator.NEQ):
        want = op == Operator.EQ
        return lambda v: None if (x := read(v.t)) is None else (frozenset(x) == values) is want
    raise CompileError(f"operator {op!r} does not apply to the list fact {a.fact}")


def _compile_certs(a: Atomic, groups: dict[str, frozenset[str]]) -> Ev:
    op = a.op
    values = frozenset(_expand(a.value, groups))

    def parts(v: _View) -> tuple[frozenset[str], frozenset[str]] | None:
        assessed = v.certs()
        if assessed is None:
            return None
        if v.cert_refs is None:
            v.cert_refs = set(values)
        else:
            v.cert_refs.update(values)
        return assessed[0], assessed[1]

    if op in (Operator.IS_ANY_OF, Operator.IS_A):

        def ev_any(v: _View) -> Tri:
            p = parts(v)
            if p is None:
                return None
            known, maybe = p
            if not known.isdisjoint(values):
                return True
            return None if not maybe.isdisjoint(values) else False

        return ev_any
    if op == Operator.IS_ALL_OF:

        def ev_all(v: _View) -> Tri:
            p = parts(v)
            if p is None:
                return None
            known, maybe = p
            if values <= known:
                return True
            return None if values <= (known | maybe) else False

        return ev_all
    if op == Operator.IS_NONE_OF:

        def ev_none(v: _View) -> Tri:
            p = parts(v)
            if p is None:
                return None
            known, maybe = p
            if not known.isdisjoint(values):
                return False
            return None if not maybe.isdisjoint(values) else True

        return ev_none
    raise CompileError(f"operator {op!r} does not apply to {CERTS}")


def _and(evs: tuple[Ev, ...]) -> Ev:
    if len(evs) == 2:
        e1, e2 = evs

        def ev2(v: _View) -> Tri:
            r1 = e1(v)
            if r1 is False:
                return False
            r2 = e2(v)
            if r2 is False:
                return False
            return None if r1 is None or r2 is None else True

        return ev2

    def ev(v: _View) -> Tri:
        unknown = False
        for e in evs:
            r = e(v)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return ev


def _or(evs: tuple[Ev, ...]) -> Ev:
    def ev(v: _View) -> Tri:
        unknown = False
        for e in evs:
            r = e(v)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return ev


def _xone(evs: tuple[Ev, ...]) -> Ev:
    def ev(v: _View) -> Tri:
        true = unknown = 0
        for e in evs:
            r = e(v)
            if r is True:
                true += 1
                if true > 1:
                    return False
            elif r is None:
                unknown += 1
        if unknown:
            return None
        return true == 1

    return ev


def _not(e: Ev) -> Ev:
    def ev(v: _View) -> Tri:
        r = e(v)
        return None if r is None else not r

    return ev


def compile_constraint(
    c: Constraint,
    *,
    groups: dict[str, frozenset[str]] | None = None,
    thresholds: dict[str, Constraint] | None = None,
    _seen: frozenset[str] = frozenset(),
    _shared: _Shared | None = None,
) -> CNode:
    """Compile one constraint (threshold references resolved against ``thresholds``)."""
    groups = groups or {}
    thresholds = thresholds or {}
    if _shared is not None and isinstance(c, Logical):
        nodes, repeated = _shared
        text = repr(c)
        if text in repeated:
            hit = nodes.get(text)
            if hit is None:
                node = compile_constraint(
                    c, groups=groups, thresholds=thresholds, _seen=_seen, _shared=None
                )
                hit = nodes[text] = CNode(
                    _remembered(node.ev), node.source, node.children, node.fact, node.getter
                )
            return hit
    if isinstance(c, Atomic):
        spec = fact_spec(c.fact)
        if spec is None:
            raise CompileError(f"unknown fact {c.fact!r}")
        if c.fact == CERTS:
            return CNode(_compile_certs(c, groups), c, fact=c.fact, getter=_cert_display)
        if spec.type == "set":
            return CNode(_compile_set(c, groups), c, fact=c.fact, getter=_set_getter(c.fact))
        get = _scalar_getter(c.fact)
        return CNode(_compile_scalar(c, get, groups), c, fact=c.fact, getter=get)
    if isinstance(c, ThresholdRef):
        target = thresholds.get(c.name)
        if target is None:
            raise CompileError(f"unknown threshold {c.name!r}")
        if c.name in _seen:
            raise CompileError(f"threshold {c.name!r} refers to itself")
        inner = compile_constraint(
            target, groups=groups, thresholds=thresholds, _seen=_seen | {c.name}, _shared=_shared
        )
        return CNode(inner.ev, c, (inner,))
    children = tuple(
        compile_constraint(a, groups=groups, thresholds=thresholds, _seen=_seen, _shared=_shared)
        for a in c.args
    )
    if c.op is not LogicalOp.NOT:
        # Kleene and/or/xone are commutative: test cheap parts first so short-circuits skip the
        # costly ones (stable, so equal-cost parts keep the author's order).
        children = tuple(sorted(children, key=lambda ch: ch.cost))
    evs = tuple(ch.ev for ch in children)
    if c.op is LogicalOp.NOT:
        if len(evs) != 1:
            raise CompileError("'not' takes exactly one constraint")
        return CNode(_not(evs[0]), c, children)
    if not evs:
        raise CompileError(f"{c.op!r} needs at least one constraint")
    if len(evs) == 1 and c.op in (LogicalOp.AND, LogicalOp.OR):
        return CNode(evs[0], c, children)
    build = {LogicalOp.AND: _and, LogicalOp.OR: _or, LogicalOp.XONE: _xone}[c.op]
    return CNode(build(evs), c, children)


#: Nodes shared between a pack's rules: (compiled nodes by ``repr`` of their constraint, the
#: ``repr`` of every compound constraint that occurs more than once in the pack's rules).
_Shared = tuple[dict[str, CNode], frozenset[str]]
_UNSET: Any = object()


def _remembered(ev: Ev) -> Ev:
    """``ev``, evaluated once per decision: a part shared by several rules (e.g. "the data is
    bulk sensitive data") is worked out for the first and reused by the others. Evaluation is a
    function of the transfer and the day, so the value is the same; a part that fails is not
    remembered and fails again."""
    token = object()

    def ev_once(v: _View) -> Tri:
        cache = v.cache
        hit: Tri = cache.get(token, _UNSET)  # type: ignore[call-overload]
        if hit is _UNSET:
            hit = cache[token] = ev(v)  # type: ignore[index]
        return hit

    _REMEMBERED[ev_once] = token
    return ev_once


#: The functions :func:`_remembered` made, and the key each keeps its value under.
_REMEMBERED: weakref.WeakKeyDictionary[Ev, object] = weakref.WeakKeyDictionary()


def _repeated(constraints: Iterable[Constraint | None]) -> frozenset[str]:
    """The compound constraints (by ``repr``) that occur more than once among ``constraints``."""
    counts: dict[str, int] = {}

    def walk(c: Constraint) -> None:
        if isinstance(c, Logical):
            text = repr(c)
            counts[text] = counts.get(text, 0) + 1
            for arg in c.args:
                walk(arg)

    for c in constraints:
        if c is not None:
            walk(c)
    return frozenset(t for t, n in counts.items() if n > 1)


def _cert_display(v: _View) -> frozenset[str] | None:
    assessed = v.certs()
    return None if assessed is None else assessed[0]


def _always(_v: _View) -> Tri:
    return True


# -- rules and packs -----------------------------------------------------------------------------


_VERBS = {
    Effect.DENY: "prohibits this transfer",
    Effect.PERMIT: "permits this transfer",
    Effect.OBLIGATION: "attaches an obligation",
    Effect.EXEMPTION: "exempts this transfer",
    Effect.UNDECIDED: "cannot be decided yet (missing facts)",
}


def _with_confidence(sentence: str, uncertain: bool) -> str:
    if uncertain:
        return f"{sentence} [confidence: uncertain — verify against the official text]"
    return sentence


class _CRule:
    """A compiled rule: its condition, its position, its precomputed obligations and reasons."""

    __slots__ = (
        "error",
        "exempted_by",
        "facts_key",
        "fast",
        "holds",
        "kind",
        "obligations",
        "pack_id",
        "pos",
        "reason_deny",
        "reason_exemption",
        "reason_obligation",
        "reason_permit",
        "reason_undecided",
        "rule",
        "uncertain",
        "unknowns_memo",
        "unless",
        "when",
        "windowed",
        "written",
    )

    def __init__(
        self,
        rule: Rule,
        pack_id: str,
        pos: int,
        uncertain: bool,
        when: CNode | None = None,
        unless: CNode | None = None,
        obligations: tuple[Obligation, ...] = (),
        error: str | None = None,
    ) -> None:
        self.rule = rule
        self.kind = rule.kind
        self.pack_id = pack_id
        self.pos = pos
        self.uncertain = uncertain
        self.when = when
        self.unless = unless
        self.holds: Ev = _never if error is not None else _holds(when, unless)
        self.obligations = obligations
        self.error = error
        self.exempted_by: tuple[_CRule, ...] = ()
        self.windowed = rule.effective_from is not None or rule.sunset is not None
        self.fast: Ev = _fast_holds(rule, self.holds) if error is None else _never
        # set by the pack (with the shortcuts): the facts the rule reads, in one C call
        self.facts_key: Callable[[Transfer], Any] | None = None
        self.unknowns_memo: dict[Any, frozenset[str]] = {}
        self.written: _Written | None = None  # the condition as an expression (with shortcuts)
        self.reason_deny = self._reason(Effect.DENY)
        self.reason_permit = self._reason(Effect.PERMIT)
        self.reason_obligation = self._reason(Effect.OBLIGATION)
        self.reason_exemption = self._reason(Effect.EXEMPTION)
        self.reason_undecided = self._reason(Effect.UNDECIDED)

    def _reason(self, effect: Effect) -> Reason:
        rule = self.rule
        cite = f" ({rule.citation})" if rule.citation else ""
        sentence = f"{self.pack_id} rule {rule.id}{cite} {_VERBS[effect]}: {rule.text}"
        return Reason(
            pack=self.pack_id,
            rule=rule.id,
            citation=rule.citation,
            source=rule.source,
            effect=effect,
            sentence=_with_confidence(sentence, self.uncertain),
            confidence="uncertain" if self.uncertain else None,
        )

    def check(self, view: _View, errors: list[RuleError]) -> Tri:
        """Whether the rule holds today (``when`` and not ``unless``, inside its window).

        Fail closed: a rule that errors is recorded in ``errors`` and counts as not holding.
        """
        if self.error is not None:
            errors.append(RuleError(self.pack_id, self.rule.id, self.error))
            return False
        try:
            value = self.fast(view)  # the same value as below, when it does not fail
        except Exception:  # the closures below record the exact error
            value = _UNSET
        if value is not _UNSET:
            return value
        if self.windowed:
            r = self.rule
            if _in_window(r.effective_from, r.sunset, view.on) is not None:
                return False
        try:
            return self.holds(view)
        except Exception as exc:
            errors.append(RuleError(self.pack_id, self.rule.id, _error_text(exc)))
            return False

    def unknowns(self, view: _View) -> frozenset[str]:
        """Facts whose absence leaves this rule undecided (memoised on the facts the rule reads,
        when they are plain attributes of the transfer)."""
        key_of = self.facts_key
        if key_of is None:
            return self._unknowns(view)
        key = key_of(view.t)
        memo = self.unknowns_memo
        hit = memo.get(key)
        if hit is None:
            hit = self._unknowns(view)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = hit
        return hit

    def _unknowns(self, view: _View) -> frozenset[str]:
        out: set[str] = set()
        try:
            when_value: Tri = True
            if self.when is not None:
                when_value, out = self.when.explain(view)
            if self.unless is not None and when_value is not False:
                out |= self.unless.explain(view)[1]
        except Exception:  # pragma: no cover - the rule was already recorded as failing
            return frozenset()
        return frozenset(out)


def _holds(when: CNode | None, unless: CNode | None) -> Ev:
    w = when.ev if when is not None else None
    u = unless.ev if unless is not None else None
    if w is None and u is None:
        return _always
    if u is None:
        assert w is not None
        return w
    not_u = _not(u)
    if w is None:
        return not_u
    return _and((w, not_u))


def _never(_v: _View) -> Tri:
    return False


class _Writer:
    """Writes a compiled condition out as one Python expression over the view ``v`` (and its
    transfer ``t``), for :func:`_written`.

    The expression follows the closures exactly: Kleene logic over ``True``/``False``/``None``,
    the parts in the same (cheapest first) order, ``and`` stopping at the first false part and
    ``or`` at the first true one. Common atomic shapes on plain facts are written inline; every
    other node (counts, the certifications, ``xone``, parts shared between rules) is a call to its
    closure. Values are bound by generated names, never written into the source.
    """

    def __init__(
        self,
        groups: dict[str, frozenset[str]],
        shared: dict[object, Ev] | None = None,
        prefix: str = "",
    ) -> None:
        self.groups = groups
        self.namespace: dict[str, Any] = {}
        self.count = 0
        self.prefix = prefix  # keeps names apart when several rules share one function
        # generated functions of the parts shared between rules, by their remembering key
        self.shared: dict[object, Ev] = {} if shared is None else shared

    def const(self, value: Any) -> str:
        name = f"_{self.prefix}k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def var(self) -> str:
        self.count += 1
        return f"_{self.prefix}v{self.count}"

    def call(self, node: CNode) -> str:
        return f"{self.const(node.ev)}(v)"

    def expr(self, node: CNode, *, whole: bool = False) -> str:
        src = node.source
        if not whole and node.ev in _REMEMBERED:
            return self.remembered(node)
        if isinstance(src, Atomic):
            return self.atomic(node, src)
        if isinstance(src, ThresholdRef):
            return self.expr(node.children[0]) if node.children else self.call(node)
        children = node.children
        if src.op is LogicalOp.NOT and len(children) == 1:
            return self.negation(self.expr(children[0]))
        if len(children) == 1 and src.op in (LogicalOp.AND, LogicalOp.OR):
            return self.expr(children[0])
        if src.op is LogicalOp.AND and children:
            return self.conjunction([self.expr(c) for c in children])
        if src.op is LogicalOp.OR and children:
            names = [self.var() for _ in children]
            stops = " or ".join(
                f"({n} := {self.expr(c)}) is True" for n, c in zip(names, children, strict=True)
            )
            unknown = " or ".join(f"{n} is None" for n in names)
            return f"(True if {stops} else (None if {unknown} else False))"
        return self.call(node)

    def remembered(self, node: CNode) -> str:
        """A call to the shared part's own generated function, which keeps its value in the
        view under the same key as its closure (either computes it once per decision)."""
        token = _REMEMBERED[node.ev]
        fn = self.shared.get(token)
        if fn is None:
            inner = _Writer(self.groups, self.shared)
            body = inner.expr(node, whole=True)
            inner.namespace["_token"] = token
            inner.namespace["_unset"] = _UNSET
            lines = [
                "def part(v):",
                "    cache = v.cache",
                "    hit = cache.get(_token, _unset)",
                "    if hit is _unset:",
                "        t = v.t",
                f"        hit = cache[_token] = {body}",
                "    return hit",
                "",
            ]
            exec(compile("\n".join(lines), "<shared part>", "exec"), inner.namespace)  # noqa: S102
            fn = self.shared[token] = inner.namespace["part"]
        return f"{self.const(fn)}(v)"

    def negation(self, inner: str) -> str:
        n = self.var()
        return f"(None if ({n} := {inner}) is None else not {n})"

    def conjunction(self, parts: list[str]) -> str:
        names = [self.var() for _ in parts]
        stops = " or ".join(f"({n} := {p}) is False" for n, p in zip(names, parts, strict=True))
        unknown = " or ".join(f"{n} is None" for n in names)
        return f"(False if {stops} else (None if {unknown} else True))"

    def atomic(self, node: CNode, a: Atomic) -> str:
        fact = a.fact
        spec = fact_spec(fact)
        if (
            fact.startswith(SUBJECTS_PREFIX)
            and a.op in _ORDER
            and not isinstance(a.value, tuple)
            and node.getter is not None
        ):
            return self.subjects_count(node, a)
        if (
            spec is None
            or not _plain_attr(fact)
            or not all(p.isidentifier() for p in fact.split("."))
        ):
            return self.call(node)
        op = a.op
        value = a.value
        is_group = isinstance(value, str) and value.startswith("group:")
        x = self.var()
        test: str | None = None
        if spec.type == "set":
            values = frozenset(_expand(value, self.groups))
            if op == Operator.IS_A:
                values = _is_a_closure(values)
            single = next(iter(values)) if len(values) == 1 else None
            if op in (Operator.IS_ANY_OF, Operator.IS_A):
                if isinstance(single, str):
                    test = f"{self.const(single)} in {x}"
                else:
                    test = f"not {self.const(values)}.isdisjoint({x})"
            elif op == Operator.IS_NONE_OF:
                if isinstance(single, str):
                    test = f"{self.const(single)} not in {x}"
                else:
                    test = f"{self.const(values)}.isdisjoint({x})"
            elif op == Operator.IS_ALL_OF:
                test = f"{self.const(values)}.issubset({x})"
        elif op in (Operator.EQ, Operator.NEQ) and not isinstance(value, tuple) and not is_group:
            test = f"{x} {'==' if op == Operator.EQ else '!='} {self.const(value)}"
        elif op in _ORDER:
            if not isinstance(value, tuple):
                symbol = {Operator.LT: "<", Operator.LTEQ: "<=", Operator.GT: ">"}.get(
                    Operator(op), ">="
                )
                test = f"bool({x} {symbol} {self.const(value)})"
        elif op in (Operator.IS_ANY_OF, Operator.EQ):
            test = f"{x} in {self.const(frozenset(_expand(value, self.groups)))}"
        elif op in (Operator.IS_NONE_OF, Operator.NEQ):
            test = f"{x} not in {self.const(frozenset(_expand(value, self.groups)))}"
        elif op == Operator.IS_A:
            closure = _is_a_closure(frozenset(_expand(value, self.groups)))
            test = f"{x} in {self.const(closure)}"
        if test is None:
            return self.call(node)
        return f"(None if ({x} := t.{fact}) is None else {test})"

    def subjects_count(self, node: CNode, a: Atomic) -> str:
        """A comparison of a subject count: the count as given, else its closure (which works
        it out from narrower categories, or 0 for a category the transfer does not carry)."""
        assert node.getter is not None
        category = a.fact[len(SUBJECTS_PREFIX) :]
        s, x = self.var(), self.var()
        given = f"({x} := {s}.get({self.const(category)})) is not None"
        value = f"({x} if ({s} := t.data.subjects) is not None and {given} else "
        value += f"{self.const(node.getter)}(v))"
        symbol = {Operator.LT: "<", Operator.LTEQ: "<=", Operator.GT: ">"}.get(Operator(a.op), ">=")
        y = self.var()
        return f"(None if ({y} := {value}) is None else bool({y} {symbol} {self.const(a.value)}))"


#: A rule's condition inside its window as a generated expression over ``v`` and ``t``, and the
#: names it uses (see :class:`_Writer`).
_Written = tuple[str, dict[str, Any]]


def _written(
    rule: Rule,
    pos: int,
    when: CNode | None,
    unless: CNode | None,
    groups: dict[str, frozenset[str]],
    shared: dict[object, Ev] | None = None,
) -> _Written | None:
    """The rule's condition inside its window as one expression, or ``None`` when it cannot be
    written (the closures then serve)."""
    w = _Writer(groups, shared, prefix=f"r{pos}")
    try:
        if when is None and unless is None:
            body = "True"
        elif unless is None:
            assert when is not None
            body = w.expr(when)
        elif when is None:
            body = w.negation(w.expr(unless))
        else:
            body = w.conjunction([w.expr(when), w.negation(w.expr(unless))])
        outside = []
        if rule.effective_from is not None:
            outside.append(f"v.on < {w.const(rule.effective_from)}")
        if rule.sunset is not None:
            outside.append(f"v.on > {w.const(rule.sunset)}")
        if outside:
            body = f"(False if {' or '.join(outside)} else {body})"
    except (CompileError, RecursionError, MemoryError, ValueError, TypeError):
        return None
    return body, w.namespace


def _function(name: str, bodies: Sequence[_Written], *, single: bool) -> Callable[[_View], Any]:
    """``def f(v): return <body>`` (or a tuple of the bodies), compiled."""
    namespace: dict[str, Any] = {}
    for _body, names in bodies:
        namespace.update(names)
    result = bodies[0][0] if single else "(" + ", ".join(b for b, _n in bodies) + ",)"
    source = f"def {name}(v):\n    t = v.t\n    return {result}\n"
    # The source holds only generated names and operators; values are bound in the namespace.
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102
    fn: Callable[[_View], Any] = namespace[name]
    return fn


def _fast_holds(rule: Rule, holds: Ev) -> Ev:
    """``holds`` inside the rule's window, ``False`` outside it (as :meth:`_CRule.check`, but
    raising instead of recording an error: the caller then takes the recording path)."""
    start, end = rule.effective_from, rule.sunset
    if start is None and end is None:
        return holds

    def ev(v: _View) -> Tri:
        on = v.on
        if (start is not None and on < start) or (end is not None and on > end):
            return False
        return holds(v)

    return ev


def _plain_attr(path: str) -> bool:
    """A fact read straight off the transfer's attributes (no computation, no registry)."""
    spec = fact_spec(path)
    return (
        spec is not None
        and path != CERTS
        and path not in ("date", "intra_group")
        and not path.startswith(SUBJECTS_PREFIX)
    )


class _Cands:
    """One set of candidate rules of a pack (interned per index key), and the pack's results
    memoised on what those rules say about a transfer.

    A pack's result is a function of its candidate rules' values (true, false or unknown), of the
    facts each unknown rule leaves unknown, and of its scope's unknown facts: the decision
    procedure reads nothing else (unless a rule fails, which is never memoised). The first
    transfer with a given key is decided by the full procedure (:func:`_run_pack`); later ones
    reuse its result.
    """

    __slots__ = ("buckets", "fns", "memo", "rules", "values")

    def __init__(self, buckets: _Buckets) -> None:
        self.buckets = buckets
        self.rules: tuple[_CRule, ...] = tuple(r for b in buckets for r in b)
        self.fns: tuple[Ev, ...] = tuple(r.fast for r in self.rules)
        self.values = _values_of(self.fns)
        written = [r.written for r in self.rules]
        if self.rules and len(written) <= 32:
            bodies = [w for w in written if w is not None]
            if len(bodies) == len(written):
                with contextlib.suppress(SyntaxError, RecursionError, MemoryError, ValueError):
                    # every candidate rule in one generated function
                    self.values = _function("values", bodies, single=False)
        self.memo: dict[tuple[Any, ...], _PackResult | _Open] = {}


def _values_of(fns: tuple[Ev, ...]) -> Callable[[_View], tuple[Tri, ...]]:
    """``lambda v: (fns[0](v), fns[1](v), …)``, written out (no loop, no list)."""
    if len(fns) > 32:
        return lambda v: tuple([f(v) for f in fns])
    names = [f"f{i}" for i in range(len(fns))]
    body = "".join(f"{n}(v), " for n in names)
    # The source holds only generated names; the functions are passed in, never printed.
    namespace: dict[str, Any] = dict(zip(names, fns, strict=True))
    exec(f"def values(v):\n    return ({body})\n", namespace)  # noqa: S102
    values: Callable[[_View], tuple[Tri, ...]] = namespace["values"]
    return values


def _discriminators(
    c: Constraint | None, groups: dict[str, frozenset[str]]
) -> dict[str, frozenset[Any]]:
    """Facts a constraint pins (top-level conjuncts only): a text fact to a set of values it must
    take, or a list fact to a set of values it must share at least one with."""
    if c is None:
        return {}
    if isinstance(c, Atomic):
        spec = fact_spec(c.fact)
        if spec is None or c.fact == CERTS or spec.type not in ("str", "set"):
            return {}
        try:
            items = frozenset(_expand(c.value, groups))
        except CompileError:
            return {}
        if not items or any(not isinstance(x, str) for x in items):
            return {}
        if spec.type == "str":
            scalar = not isinstance(c.value, tuple)
            if (c.op == Operator.EQ and scalar) or c.op == Operator.IS_ANY_OF:
                return {c.fact: items}
            return {}
        if c.op == Operator.IS_ANY_OF or (c.op == Operator.IS_ALL_OF and len(items) == 1):
            return {c.fact: items}
        return {}
    if isinstance(c, Logical) and c.op is LogicalOp.AND:
        out: dict[str, frozenset[Any]] = {}
        for arg in c.args:
            for k, vals in _discriminators(arg, groups).items():
                # for a text fact both pins must hold; for a list fact keep the narrower pin
                if k not in out:
                    out[k] = vals
                elif _is_set(k):
                    out[k] = vals if len(vals) < len(out[k]) else out[k]
                else:
                    out[k] = out[k] & vals
        return out
    return {}


_Buckets = tuple[tuple[_CRule, ...], tuple[_CRule, ...], tuple[_CRule, ...], tuple[_CRule, ...]]
_KIND_SLOT = {
    RuleKind.EXEMPTION: 0,
    RuleKind.PROHIBITION: 1,
    RuleKind.PERMISSION: 2,
    RuleKind.OBLIGATION: 3,
}


def _split(rules: Iterable[_CRule]) -> _Buckets:
    slots: tuple[list[_CRule], ...] = ([], [], [], [])
    for r in rules:
        slots[_KIND_SLOT[r.kind]].append(r)
    return tuple(slots[0]), tuple(slots[1]), tuple(slots[2]), tuple(slots[3])


_EMPTY: tuple[tuple[_CRule, ...], ...] = ((), (), (), ())


def _merge(parts: list[_Buckets]) -> _Buckets:
    ex: dict[_CRule, None] = {}
    pr: dict[_CRule, None] = {}
    pe: dict[_CRule, None] = {}
    ob: dict[_CRule, None] = {}
    for b in parts:
        ex.update(dict.fromkeys(b[0]))
        pr.update(dict.fromkeys(b[1]))
        pe.update(dict.fromkeys(b[2]))
        ob.update(dict.fromkeys(b[3]))
    return tuple(ex), tuple(pr), tuple(pe), tuple(ob)


class _Index:
    """A cascade of rule indexes. Each level takes the rules pinned on one fact (a text fact to a
    set of values, or a list fact to values it must share) and files them under those values; a
    decision looks up the transfer's value(s) and skips every rule filed elsewhere."""

    __slots__ = ("groups", "key_of", "levels", "memo", "rest", "single", "whole")

    def __init__(
        self,
        rules: Sequence[_CRule],
        groups: dict[str, frozenset[str]],
        *,
        max_levels: int = 4,
    ) -> None:
        self.levels: list[tuple[Callable[[_View], Any], dict[Any, _Buckets], _Buckets, bool]] = []
        pending = list(rules)
        facts: list[str] = []
        for _ in range(max_levels):
            pins = [(r, _discriminators(r.rule.when, groups)) for r in pending]
            counts: dict[str, int] = {}
            for _r, d in pins:
                for k in d:
                    counts[k] = counts.get(k, 0) + 1
            if not counts:
                break
            best = max(sorted(counts), key=lambda k: counts[k])
            if counts[best] < 2:
                break
            keyed: dict[Any, list[_CRule]] = {}
            pinned: list[_CRule] = []
            loose: list[_CRule] = []
            for r, d in pins:
                if best in d:
                    pinned.append(r)
                    for value in sorted(d[best]):
                        keyed.setdefault(value, []).append(r)
                else:
                    loose.append(r)
            table = {k: _split(v) for k, v in keyed.items()}
            is_set = _is_set(best)
            getter = _set_getter(best) if is_set else _scalar_getter(best)
            self.levels.append((getter, table, _split(pinned), is_set))
            pending = loose
            facts.append(best)
        self.rest = _split(pending)
        self.memo: dict[Any, _Cands] = {}
        self.groups: dict[_Buckets, _Cands] = {}
        self.whole = _Cands(self.rest)
        # The facts the levels read, in one C call when they are plain attributes (a tuple for
        # several, the bare value for one).
        self.key_of: Callable[[Transfer], Any] | None = None
        self.single = len(facts) == 1
        if facts and all(_plain_attr(f) for f in facts):
            self.key_of = operator.attrgetter(*facts)

    def candidates(self, view: _View) -> _Buckets:
        """The rules that can hold for this transfer, by kind (the others cannot hold)."""
        return self.cands(view).buckets

    def cands(self, view: _View) -> _Cands:
        """The candidate rules for this transfer, as an interned group (with its own memo)."""
        if not self.levels:
            return self.whole
        key_of = self.key_of
        key: Any
        if key_of is not None:
            key = key_of(view.t)
        else:
            key = tuple([get(view) for get, _t, _e, _s in self.levels])
        hit = self.memo.get(key)
        if hit is None:
            keys = key if key_of is None or not self.single else (key,)
            buckets = self._gather(keys)
            # many keys give the same rules: one group (one generated function, one memo) each
            hit = self.groups.get(buckets)
            if hit is None:
                if len(self.groups) >= _MEMO_LIMIT:
                    self.groups.clear()
                hit = self.groups[buckets] = _Cands(buckets)
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = hit
        return hit

    def _gather(self, keys: tuple[Any, ...]) -> _Buckets:
        parts: list[_Buckets] = [self.rest]
        overlap = False  # a rule is filed under several values of a list fact
        for (_get, table, everything, is_set), key in zip(self.levels, keys, strict=True):
            if key is None:
                parts.append(everything)
            elif is_set:
                hits = [table[v] for v in key if v in table]
                overlap = overlap or len(hits) > 1
                parts.extend(hits)
            else:
                hit = table.get(key)
                if hit is not None:
                    parts.append(hit)
        if len(parts) == 1:
            return parts[0]
        if overlap:
            return _merge(parts)
        # each rule is filed at one level under one value: plain concatenation
        return (
            tuple(r for p in parts for r in p[0]),
            tuple(r for p in parts for r in p[1]),
            tuple(r for p in parts for r in p[2]),
            tuple(r for p in parts for r in p[3]),
        )


def _facts_of(c: Constraint, thresholds: dict[str, Constraint], seen: frozenset[str]) -> set[str]:
    if isinstance(c, Atomic):
        return {c.fact}
    if isinstance(c, ThresholdRef):
        t = thresholds.get(c.name)
        if t is None or c.name in seen:
            return set()
        return _facts_of(t, thresholds, seen | {c.name})
    out: set[str] = set()
    for arg in c.args:
        out |= _facts_of(arg, thresholds, seen)
    return out


_MEMO_LIMIT = 4096


def _is_set(path: str) -> bool:
    spec = fact_spec(path)
    return spec is not None and spec.type == "set"


class _CPack:
    __slots__ = (
        "certs",
        "default_reason",
        "fast",
        "gate",
        "index",
        "meta",
        "pack",
        "parts",
        "passes",
        "results",
        "rules",
        "scope",
        "scope_error",
        "scope_facts",
        "scope_getters",
        "scope_key",
        "scope_memo",
        "status_memo",
        "uncertain",
    )

    def __init__(self, pack: Pack, *, shortcuts: bool = True) -> None:
        self.pack = pack
        self.meta = pack.meta
        self.uncertain = pack.meta.confidence is Confidence.UNCERTAIN
        groups = {g.name: frozenset(g.members) for g in pack.groups}
        thresholds = {t.name: t.constraint for t in pack.thresholds}
        self.scope: CNode | None = None
        self.scope_error: str | None = None
        self.scope_facts: frozenset[str] = frozenset()
        self.scope_getters: tuple[Callable[[_View], Any], ...] | None = None
        self.scope_memo: dict[tuple[Any, ...], _PackResult | frozenset[str]] = {}
        self.gate: frozenset[Any] | None = None
        self.passes: frozenset[Any] = frozenset()
        self.scope_key: Callable[[Transfer], Any] | None = None
        self.status_memo: dict[tuple[Any, ...], PackStatus] = {}
        self.results: dict[tuple[Any, ...], _PackResult] = {}
        if pack.meta.scope is not None:
            try:
                self.scope = compile_constraint(
                    pack.meta.scope, groups=groups, thresholds=thresholds
                )
                self.scope_facts = frozenset(_facts_of(pack.meta.scope, thresholds, frozenset()))
                if shortcuts and not self.scope_facts & {CERTS, "date"}:
                    # the scope's result depends on these facts only: memoise on them
                    facts = sorted(self.scope_facts)
                    self.scope_getters = tuple(
                        _set_getter(f) if _is_set(f) else _scalar_getter(f) for f in facts
                    )
                    if all(_plain_attr(f) for f in facts):
                        self.scope_key = operator.attrgetter(*facts)
                if shortcuts:
                    self.gate = _gate(self.scope, groups)
                    self.passes = _pass(self.scope, groups)
            except CompileError as exc:
                self.scope_error = str(exc)
        shared: _Shared | None = None
        self.parts: dict[object, Ev] = {}  # generated shared parts (see _Writer)
        if shortcuts:
            shared = ({}, _repeated(c for r in pack.rules for c in (r.when, r.unless)))
        rules = [
            self._compile_rule(i, r, groups, thresholds, shared) for i, r in enumerate(pack.rules)
        ]
        by_id = {r.rule.id: r for r in rules}
        exempted: dict[int, list[_CRule]] = {}
        for r in rules:
            if r.kind is not RuleKind.EXEMPTION:
                continue
            for target in r.rule.exempts:
                if target == "*":
                    for other in rules:
                        if other.kind is not RuleKind.EXEMPTION:
                            exempted.setdefault(id(other), []).append(r)
                elif target in by_id and by_id[target].kind is not RuleKind.EXEMPTION:
                    exempted.setdefault(id(by_id[target]), []).append(r)
        for r in rules:
            r.exempted_by = tuple(exempted.get(id(r), ()))
        self.rules = tuple(rules)
        self.index = _Index(rules, groups, max_levels=4 if shortcuts else 0)
        # Results memoised on rule values (see _Cands): not for packs with a rule that fails to
        # compile, nor for packs whose rules read the certifications when the importer lists
        # some (the decision names the recognitions that the rules it evaluated relied on).
        rule_facts: set[str] = set()
        for source in pack.rules:
            for c in (source.when, source.unless):
                if c is not None:
                    rule_facts |= _facts_of(c, thresholds, frozenset())
        self.certs = CERTS in rule_facts
        self.fast = shortcuts and all(r.error is None for r in rules)
        cit = pack.meta.default_citation
        default = pack.meta.default
        text = f"{pack.meta.id}: no rule decided; the pack's default is {default}"
        self.default_reason = Reason(
            pack=pack.meta.id,
            rule=None,
            citation=cit,
            source=pack.meta.sources[0] if pack.meta.sources else None,
            effect=Effect.DEFAULT,
            sentence=_with_confidence(text + (f" ({cit})." if cit else "."), self.uncertain),
            confidence="uncertain" if self.uncertain else None,
        )

    def _compile_rule(
        self,
        pos: int,
        rule: Rule,
        groups: dict[str, frozenset[str]],
        thresholds: dict[str, Constraint],
        shared: _Shared | None = None,
    ) -> _CRule:
        uncertain = self.uncertain or rule.confidence is Confidence.UNCERTAIN
        obligations: list[Obligation] = [
            Obligation(
                id=d.id,
                text=d.text,
                citation=d.citation,
                source=d.source,
                deadline=d.deadline,
                pack=self.meta.id,
                rule=rule.id,
                protects=d.protects,
            )
            for d in rule.duties
        ]
        if rule.kind is RuleKind.OBLIGATION and not obligations:
            obligations.append(
                Obligation(
                    id=rule.id,
                    text=rule.text,
                    citation=rule.citation,
                    source=rule.source,
                    deadline=None,
                    pack=self.meta.id,
                    rule=rule.id,
                    protects=rule.protects,
                )
            )
        try:
            when = (
                None
                if rule.when is None
                else compile_constraint(
                    rule.when, groups=groups, thresholds=thresholds, _shared=shared
                )
            )
            unless = (
                None
                if rule.unless is None
                else compile_constraint(
                    rule.unless, groups=groups, thresholds=thresholds, _shared=shared
                )
            )
        except CompileError as exc:
            return _CRule(rule, self.meta.id, pos, uncertain, error=str(exc))
        compiled = _CRule(
            rule, self.meta.id, pos, uncertain, when, unless, obligations=tuple(obligations)
        )
        if shared is not None:  # with the shortcuts: the condition as generated code
            written = _written(rule, pos, when, unless, groups, self.parts)
            if written is not None:
                with contextlib.suppress(SyntaxError, RecursionError, MemoryError, ValueError):
                    compiled.fast = _function("holds", [written], single=True)
                    compiled.written = written
            facts: set[str] = set()
            for c in (rule.when, rule.unless):
                if c is not None:
                    facts |= _facts_of(c, thresholds, frozenset())
            if facts and all(_plain_attr(f) for f in facts):
                # a tuple of several facts, the bare value of one: either is a fine memo key
                compiled.facts_key = operator.attrgetter(*sorted(facts))
        return compiled

    def intern(self, res: _PackResult) -> _PackResult:
        """One object per distinct result, so that memos keyed on results (by identity) hit."""
        key = (
            res.status,
            res.outcome,
            tuple(res.obligations),
            tuple(res.reasons),
            frozenset(res.missing),
            tuple(res.errors),
        )
        hit = self.results.get(key)
        if hit is None:
            if len(self.results) >= _MEMO_LIMIT:
                self.results.clear()
            self.results[key] = hit = res
        return hit

    def status(
        self, applied: bool, why: str, outcome: Outcome | None, missing: set[str]
    ) -> PackStatus:
        key = (applied, why, outcome, *sorted(missing))
        hit = self.status_memo.get(key)
        if hit is None:
            if len(self.status_memo) > _MEMO_LIMIT:
                self.status_memo.clear()
            hit = PackStatus(
                self.meta.id, self.meta.version, applied, why, outcome, tuple(sorted(missing))
            )
            self.status_memo[key] = hit
        return hit


@dataclass(slots=True, eq=False)
class _PackResult:
    status: PackStatus
    outcome: Outcome | None
    obligations: list[Obligation]
    reasons: list[Reason]
    missing: set[str]
    errors: list[RuleError]


def _in_window(start: dt.date | None, end: dt.date | None, on: dt.date) -> str | None:
    if start is not None and on < start:
        return f"not in force until {start.isoformat()}"
    if end is not None and on > end:
        return f"no longer in force after {end.isoformat()}"
    return None


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _not_applied(cp: _CPack, why: str, errors: list[RuleError]) -> _PackResult:
    return _PackResult(cp.status(False, why, None, set()), None, [], [], set(), errors)


# Enum members bound once: attribute access and hashing of enum members are slow in the hot path.
_PERMIT = Outcome.PERMIT
_PWO = Outcome.PERMIT_WITH_OBLIGATIONS
_INDETERMINATE = Outcome.INDETERMINATE
_DENY = Outcome.DENY
_DEFAULT_DENY = PackDefault.DENY


def _rank(outcome: Outcome) -> int:
    """``STRICTNESS[outcome]``, by identity (no enum hashing)."""
    if outcome is _PERMIT:
        return 0
    if outcome is _PWO:
        return 1
    if outcome is _INDETERMINATE:
        return 2
    return 3


def _plan_pack(cp: _CPack, view: _View) -> _PackResult | frozenset[str]:
    """Whether the pack applies: a final "not applied" result, or the scope's unknown facts."""
    fixed = _fixed_step(cp, view.on)
    if fixed is not None:
        return fixed
    return _scope_step(cp, view)


def _fixed_step(cp: _CPack, on: dt.date) -> _PackResult | frozenset[str] | None:
    """The pack's step when it does not depend on the transfer (window, broken or no scope)."""
    meta = cp.meta
    out_of_window = _in_window(meta.effective_from, meta.sunset, on)
    if out_of_window is not None:
        return _not_applied(cp, out_of_window, [])
    if cp.scope_error is not None:
        error = RuleError(meta.id, "scope", cp.scope_error)
        return _not_applied(cp, f"scope failed: {cp.scope_error}", [error])
    if cp.scope is None:
        return _NO_FACTS
    return None


def _memo_step(cp: _CPack, view: _View) -> _PackResult | frozenset[str]:
    """:func:`_scope_step`, memoised on the facts the scope reads (when it reads neither the
    certifications nor the date)."""
    key_of = cp.scope_key
    key: Any
    if key_of is not None:
        key = key_of(view.t)
    else:
        getters = cp.scope_getters
        if getters is None:
            return _scope_step(cp, view)
        key = tuple([g(view) for g in getters])
    memo = cp.scope_memo
    step = memo.get(key)
    if step is None:
        step = _scope_step(cp, view)
        if isinstance(step, _PackResult):
            step = cp.intern(step)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = step
    return step


def _pass(node: CNode, groups: dict[str, frozenset[str]]) -> frozenset[Any]:
    """The exporter countries for which ``node`` is true having read nothing but
    ``exporter.country`` (empty when there are none known).

    ``or`` stops at its first true part, so its first part decides; ``and`` needs every part.
    """
    src = node.source
    if isinstance(src, Atomic):
        if src.fact != "exporter.country":
            return frozenset()
        value = src.value
        is_group = isinstance(value, str) and value.startswith("group:")
        if src.op == Operator.EQ and not isinstance(value, tuple) and not is_group:
            return frozenset((value,))
        if src.op in (Operator.EQ, Operator.IS_ANY_OF):
            try:
                return frozenset(_expand(value, groups))
            except CompileError:  # pragma: no cover - the scope compiled
                return frozenset()
        return frozenset()
    if isinstance(src, ThresholdRef) or (isinstance(src, Logical) and src.op is LogicalOp.OR):
        return _pass(node.children[0], groups) if node.children else frozenset()
    if isinstance(src, Logical) and src.op is LogicalOp.AND and node.children:
        out = _pass(node.children[0], groups)
        for child in node.children[1:]:
            out &= _pass(child, groups)
        return out
    return frozenset()


def _gate(node: CNode, groups: dict[str, frozenset[str]]) -> frozenset[Any] | None:
    """The exporter countries outside which ``node`` is false, is false without evaluating (or
    failing on) anything but ``exporter.country``, and explains itself (:meth:`CNode.why_false`)
    from that country alone; ``None`` when there is no such set.

    ``and`` evaluates its parts in order and stops at the first false one, which is also the one
    it explains: its first part decides. ``or`` explains itself with a fixed sentence: all its
    parts must be gated.
    """
    src = node.source
    if isinstance(src, Atomic):
        if src.fact != "exporter.country":
            return None
        value = src.value
        is_group = isinstance(value, str) and value.startswith("group:")
        if src.op == Operator.EQ and not isinstance(value, tuple) and not is_group:
            return frozenset((value,))
        if src.op in (Operator.EQ, Operator.IS_ANY_OF):
            try:
                return frozenset(_expand(value, groups))
            except CompileError:  # pragma: no cover - the scope compiled
                return None
        return None
    if isinstance(src, ThresholdRef):
        return _gate(node.children[0], groups) if node.children else None
    if not node.children:
        return None
    if src.op is LogicalOp.AND:
        return _gate(node.children[0], groups)
    if src.op is LogicalOp.OR:
        out: set[Any] = set()
        for child in node.children:
            allowed = _gate(child, groups)
            if allowed is None:
                return None
            out |= allowed
        return frozenset(out)
    return None


def _fast_pack(cp: _CPack, view: _View, scope_unknown: frozenset[str]) -> _PackResult | None:
    """The pack's result from the memo of its candidate rules' values, or ``None`` when a rule
    fails or the pack cannot be served here (the caller then runs :func:`_run_pack`).

    The memo is keyed on the candidate rules' values and the scope's unknown facts; when those
    values leave rules open (the pack is indeterminate on them), on the facts the open rules leave
    unknown as well (see :class:`_Open`).
    """
    if cp.certs and view.t.importer.certifications is not None:
        return None  # the decision lists the recognitions that the evaluated rules relied on
    index = cp.index
    cands = index.cands(view) if index.levels else index.whole
    try:
        values = cands.values(view)
    except Exception:  # recorded by the full procedure
        return None
    memo = cands.memo
    key = (values, scope_unknown)
    hit = memo.get(key)
    if hit is None:
        opened: list[_CRule] = []
        res = cp.intern(_run_pack(cp, view, scope_unknown, opened))
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        if not opened:
            memo[key] = res
            return res
        hit = memo[key] = _Open(tuple(opened))
        hit.results[hit.key(view)] = res
        return res
    if not isinstance(hit, _Open):
        return hit
    facts = hit.key(view)
    found = hit.results.get(facts)
    if found is None:
        found = cp.intern(_run_pack(cp, view, scope_unknown))
        if len(hit.results) >= _MEMO_LIMIT:
            hit.results.clear()
        hit.results[facts] = found
    return found


class _Open:
    """A memo entry for rule values that leave rules open: the result also depends on the facts
    those rules leave unknown (the missing facts), so it is memoised on them too."""

    __slots__ = ("results", "rules")

    def __init__(self, rules: tuple[_CRule, ...]) -> None:
        self.rules = rules
        self.results: dict[tuple[frozenset[str], ...], _PackResult] = {}

    def key(self, view: _View) -> tuple[frozenset[str], ...]:
        return tuple([r.unknowns(view) for r in self.rules])


_NO_FACTS: frozenset[str] = frozenset()


def _scope_step(cp: _CPack, view: _View) -> _PackResult | frozenset[str]:
    scope = cp.scope
    assert scope is not None
    try:
        in_scope = scope.ev(view)
        if in_scope is False:
            return _not_applied(cp, "scope: " + (scope.why_false(view) or "out of scope"), [])
        if in_scope is None:
            return frozenset(scope.unknowns(view))
    except Exception as exc:  # fail closed: a broken scope contributes nothing
        error = RuleError(cp.meta.id, "scope", _error_text(exc))
        return _not_applied(cp, "scope failed", [error])
    return frozenset()


def _run_pack(
    cp: _CPack,
    view: _View,
    scope_unknown: frozenset[str],
    opened: list[_CRule] | None = None,
) -> _PackResult:
    """Apply the pack's rules (its scope holds, or is unknown: ``scope_unknown`` non-empty).

    ``opened`` receives the rules whose unknown facts became missing facts (see
    :func:`_apply_rules`)."""
    errors: list[RuleError] = []
    outcome, obligations, reasons, missing = _apply_rules(cp, view, errors, opened)
    if scope_unknown:
        # The pack may or may not apply. If applying it changes nothing (a plain permit), the
        # unknown scope does not matter; otherwise the pack cannot be decided.
        listed = ", ".join(sorted(scope_unknown))
        if outcome is _PERMIT:
            why = f"scope unknown (missing {listed}); it would permit anyway"
            return _not_applied(cp, why, errors)
        missing = missing | scope_unknown
        status = cp.status(True, f"scope unknown: missing {listed}", _INDETERMINATE, missing)
        return _PackResult(status, _INDETERMINATE, obligations, reasons, missing, errors)
    why = "in scope" if cp.scope is not None else "applies to every transfer"
    return _PackResult(
        cp.status(True, why, outcome, missing), outcome, obligations, reasons, missing, errors
    )


def _active(
    rules: tuple[_CRule, ...],
    view: _View,
    errors: list[RuleError],
    exemptions: dict[_CRule, Tri],
    used: list[_CRule],
    undecided_by: dict[_CRule, list[_CRule]],
) -> tuple[list[_CRule], list[_CRule]]:
    """The rules that hold and are not exempted, and those that might (unknown)."""
    yes: list[_CRule] = []
    maybe: list[_CRule] = []
    for r in rules:
        h = r.check(view, errors)
        if h is False:
            continue
        for e in r.exempted_by:
            eh = exemptions.get(e, False)
            if eh is True:
                h = False
                if e not in used:
                    used.append(e)
                break
            if eh is None:
                h = None
                undecided_by.setdefault(r, []).append(e)
        if h is True:
            yes.append(r)
        elif h is None:
            maybe.append(r)
    return yes, maybe


def _by_pos(rules: list[_CRule]) -> list[_CRule]:
    return rules if len(rules) < 2 else sorted(rules, key=_POS)


_POS = operator.attrgetter("pos")


def _apply_rules(
    cp: _CPack, view: _View, errors: list[RuleError], opened: list[_CRule] | None = None
) -> tuple[Outcome, list[Obligation], list[Reason], set[str]]:
    """The pack's outcome, obligations, reasons and missing facts from its rules.

    ``opened``, when given, receives the rules (in order) whose unknown facts make up the missing
    facts: which rules those are follows from the rules' values alone."""
    ex_rules, pro_rules, per_rules, obl_rules = cp.index.candidates(view)
    # 1. exemptions that hold switch off the rules they name
    exemptions: dict[_CRule, Tri] = {e: e.check(view, errors) for e in ex_rules} if ex_rules else {}
    used: list[_CRule] = []
    undecided_by: dict[_CRule, list[_CRule]] = {}
    # 2. a prohibition that holds denies; prohibitions override permissions
    denied, deny_unknown = _active(pro_rules, view, errors, exemptions, used, undecided_by)
    if denied:
        deny_reasons = [r.reason_deny for r in _by_pos(denied)]
        deny_reasons += [e.reason_exemption for e in _by_pos(used)]
        return _DENY, [], deny_reasons, set()
    permits, permit_unknown = _active(per_rules, view, errors, exemptions, used, undecided_by)
    default = cp.meta.default
    if not permits and not permit_unknown and default is _DEFAULT_DENY:
        # Nothing can permit: unknown prohibitions cannot make it worse than deny.
        default_reasons = [cp.default_reason]
        default_reasons += [e.reason_exemption for e in _by_pos(used)]
        return _DENY, [], default_reasons, set()
    obliges, oblige_unknown = _active(obl_rules, view, errors, exemptions, used, undecided_by)
    permits = _by_pos(permits)
    obliges = _by_pos(obliges)
    obligations: list[Obligation] = []
    seen: set[str] = set()
    for r in (*permits, *obliges):
        for o in r.obligations:
            if o.id not in seen:
                seen.add(o.id)
                obligations.append(o)
    reasons: list[Reason] = [r.reason_permit for r in permits]
    reasons += [r.reason_obligation for r in obliges]
    if not permits:
        reasons.append(cp.default_reason)
    reasons += [e.reason_exemption for e in _by_pos(used)]
    # 3. which undecided rules could change this result?
    open_rules: list[_CRule] = list(deny_unknown)
    if not permits and permit_unknown:
        if default is _DEFAULT_DENY or any(r.obligations for r in permit_unknown):
            open_rules += permit_unknown
    elif permits:
        open_rules += [r for r in permit_unknown if any(o.id not in seen for o in r.obligations)]
    open_rules += [r for r in oblige_unknown if any(o.id not in seen for o in r.obligations)]
    if open_rules:
        missing: set[str] = set()
        for r in _by_pos(open_rules):
            missing |= r.unknowns(view)
            for e in undecided_by.get(r, ()):
                missing |= e.unknowns(view)
            reasons.append(r.reason_undecided)
            if opened is not None:
                opened.append(r)
                opened += undecided_by.get(r, ())
        return _INDETERMINATE, obligations, reasons, missing
    if not permits and default is _DEFAULT_DENY:
        return _DENY, [], reasons, set()
    if obligations:
        return _PWO, obligations, reasons, set()
    return _PERMIT, [], reasons, set()


class _Plan:
    """Which packs apply to a transfer: each pack's "not applied" result, or the unknown facts of
    its scope (empty when it holds)."""

    __slots__ = ("errors", "run", "statuses")

    def __init__(self, steps: Iterable[tuple[int, _CPack, _PackResult | frozenset[str]]]) -> None:
        self.statuses: list[PackStatus | None] = []
        self.errors: list[RuleError] = []
        # (position, pack, unknown scope facts, whether the memo of rule values may serve it)
        self.run: list[tuple[int, _CPack, frozenset[str], bool]] = []
        for index, cp, step in steps:
            if isinstance(step, _PackResult):
                self.statuses.append(step.status)
                self.errors += step.errors
            else:
                self.statuses.append(None)  # filled in by the decision
                self.run.append((index, cp, step, cp.fast))


class _Stage:
    """The packs' steps that depend only on the day's window interval and the exporter's country
    (windows, scope gates); the other packs' scopes are read per transfer (memoised per pack)."""

    __slots__ = ("fixed", "plans", "todo")

    def __init__(self, packs: tuple[_CPack, ...], view: _View) -> None:
        self.fixed: list[tuple[int, _CPack, _PackResult | frozenset[str]]] = []
        todo: list[tuple[int, _CPack]] = []
        country = view.t.exporter.country
        for index, cp in enumerate(packs):
            step = _fixed_step(cp, view.on)
            if step is None and country in cp.passes:
                step = _NO_FACTS  # the scope holds for this country, whatever the rest
            elif step is None and cp.gate is not None and country not in cp.gate:
                step = _scope_step(cp, view)  # false, explained by the country alone
            if step is None:
                todo.append((index, cp))
            else:
                self.fixed.append((index, cp, step))
        self.todo = tuple(todo)
        self.plans: dict[tuple[Any, ...], _Plan] = {}

    def plan(self, steps: tuple[_PackResult | frozenset[str], ...]) -> _Plan:
        hit = self.plans.get(steps)
        if hit is None:
            merged = self.fixed + [
                (index, cp, step) for (index, cp), step in zip(self.todo, steps, strict=True)
            ]
            hit = _Plan(sorted(merged, key=_FIRST))
            if len(self.plans) >= _MEMO_LIMIT:
                self.plans.clear()
            self.plans[steps] = hit
        return hit


_FIRST = operator.itemgetter(0)
_bisect = bisect.bisect_right


#: A decision's parts but its id, day and recognitions: (outcome, obligations, reasons, missing,
#: pack statuses, errors).
_Merged = tuple[
    Outcome,
    tuple[Obligation, ...],
    tuple[Reason, ...],
    tuple[str, ...],
    tuple[PackStatus, ...],
    tuple[RuleError, ...],
]


def _combine(plan: _Plan, results: list[_PackResult]) -> _Merged:
    """Combine the packs' results: the strictest outcome wins (docs/pack-language.md)."""
    outcome = _PERMIT
    obligations: list[Obligation] = []
    seen: set[str] = set()
    reasons: list[Reason] = []
    missing: set[str] = set()
    statuses = list(plan.statuses)
    errors = list(plan.errors)
    for (index, _cp, _unknown, _fast), res in zip(plan.run, results, strict=True):
        statuses[index] = res.status
        if res.errors:
            errors += res.errors
        if res.outcome is None:
            continue
        if _rank(res.outcome) > _rank(outcome):
            outcome = res.outcome
        reasons += res.reasons
        for o in res.obligations:
            if o.id not in seen:
                seen.add(o.id)
                obligations.append(o)
        if res.outcome is _INDETERMINATE:
            missing |= res.missing
    if outcome is not _INDETERMINATE:
        missing = set()  # each pack's own missing facts stay in its status
    if outcome is _DENY:
        obligations = []
    elif outcome is _PERMIT and obligations:  # pragma: no cover - defensive
        outcome = _PWO
    return (
        outcome,
        tuple(obligations),
        tuple(reasons),
        tuple(sorted(missing)),
        tuple(s for s in statuses if s is not None),
        tuple(errors),
    )


class Engine:
    """Compiled packs: call :meth:`decide` for each transfer."""

    __slots__ = ("_boundaries", "_merged", "_packs", "_stages", "packs")

    def __init__(self, packs: Sequence[Pack], *, _shortcuts: bool = True) -> None:
        ids = [p.meta.id for p in packs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            from accord.errors import Diagnostic, PackError

            raise PackError(
                "the same pack id is loaded twice",
                [
                    Diagnostic(
                        f"pack id {d!r} appears more than once",
                        expected="unique pack ids",
                        found=d,
                        hint="load each pack once",
                    )
                    for d in dupes
                ],
            )
        self.packs: tuple[Pack, ...] = tuple(packs)
        self._packs = tuple(_CPack(p, shortcuts=_shortcuts) for p in packs)
        # Which packs apply: per window interval and exporter country, then per pack's scope.
        self._stages: dict[tuple[int, Any], _Stage] | None = {} if _shortcuts else None
        # Decisions whose packs were all served from their memos: memoised on those results.
        self._merged: dict[tuple[Any, ...], _Merged] = {}
        bounds: set[dt.date] = set()
        for p in self.packs:
            bounds.add(p.meta.effective_from)
            if p.meta.sunset is not None and p.meta.sunset < dt.date.max:
                bounds.add(p.meta.sunset + dt.timedelta(days=1))
        self._boundaries = sorted(bounds)

    def _plan(self, view: _View) -> _Plan:
        stages = self._stages
        if stages is None:
            return _Plan((i, cp, _plan_pack(cp, view)) for i, cp in enumerate(self._packs))
        # Windows only change at their boundaries: key on the interval the day falls in.
        key = (_bisect(self._boundaries, view.on), view.t.exporter.country)
        stage = stages.get(key)
        if stage is None:
            stage = _Stage(self._packs, view)
            if len(stages) >= _MEMO_LIMIT:
                stages.clear()
            stages[key] = stage
        todo = stage.todo
        if not todo:
            steps: tuple[_PackResult | frozenset[str], ...] = ()
        elif len(todo) == 1:
            steps = (_memo_step(todo[0][1], view),)
        else:
            steps = tuple([_memo_step(cp, view) for _i, cp in todo])
        return stage.plans.get(steps) or stage.plan(steps)

    def decide(self, transfer: Transfer, *, as_of: dt.date | None = None) -> Decision:
        """Decide ``transfer`` on ``as_of`` (default: the transfer's date, else today)."""
        on = as_of or transfer.date or dt.date.today()
        view = _View(transfer, on)
        plan = self._plan(view)
        results: list[_PackResult] = []
        served = True  # every pack's result came from a memo (so the merge can, too)
        for _index, cp, scope_unknown, fast in plan.run:
            res = _fast_pack(cp, view, scope_unknown) if fast else None
            if res is None:
                served = False
                res = _run_pack(cp, view, scope_unknown)
            results.append(res)
        if served:
            key = (plan, *results)
            merged = self._merged.get(key)
            if merged is None:
                merged = _combine(plan, results)
                if len(self._merged) >= _MEMO_LIMIT:
                    self._merged.clear()
                self._merged[key] = merged
        else:
            merged = _combine(plan, results)
        outcome, obligations, reasons, missing, statuses, errors = merged
        recognitions: tuple[Recognition, ...] = ()
        refs = view.cert_refs
        if refs:
            assessed = view.certs()
            if assessed is not None:
                recognitions = tuple(
                    Recognition(
                        held=r.held,
                        satisfied=r.satisfied,
                        regime=r.regime,
                        citation=r.citation,
                        source=r.source,
                        confidence=r.confidence,
                    )
                    for r in assessed[2]
                    if r.satisfied in refs
                )
        return _decision(
            transfer.id, on, outcome, obligations, reasons, missing, statuses, recognitions, errors
        )


def compile_packs(packs: Iterable[Pack]) -> Engine:
    """Compile ``packs`` once; the engine decides any number of transfers."""
    return Engine(tuple(packs))
