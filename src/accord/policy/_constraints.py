"""Constraint trees compiled into closures: :class:`CNode` and :func:`compile_constraint`.

Each constraint becomes ``ev(view) -> True | False | None`` (``None`` is *unknown*, Kleene logic);
``and``/``or``/``xone`` test their cheapest parts first. A node keeps what is needed to explain an
unknown or false result (:meth:`CNode.explain`, :meth:`CNode.why_false`). Parts that several of a
pack's rules share (its YAML anchors) are remembered once per decision (:func:`_remembered`).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from accord.policy import _vocab
from accord.policy._facts import CERTS, Ev, Tri, _cert_display, _scalar_getter, _set_getter, _View
from accord.policy.ast import Atomic, Constraint, Logical, LogicalOp, Operator, ThresholdRef, Value
from accord.policy.transfer import fact_spec


class CompileError(Exception):
    """A constraint that cannot be compiled (the validator reports these as located errors)."""


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


def _always(_v: _View) -> Tri:
    return True


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
