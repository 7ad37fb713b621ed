"""Generated Python for conditions: a rule's condition written out as one function.

:class:`_Writer` writes a compiled condition (:class:`~accord.policy._constraints.CNode`) as one
Python expression with the closures' exact Kleene logic, order and short-circuits, common atomic
shapes inline; :func:`_function` compiles it, alone or with a pack's other candidate rules into one
function returning all their values. Values are bound by generated names, never written into the
source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from accord.policy._constraints import (
    _ORDER,
    _REMEMBERED,
    _UNSET,
    CNode,
    CompileError,
    _expand,
    _is_a_closure,
)
from accord.policy._facts import Ev, Tri, _plain_attr, _View
from accord.policy.ast import Atomic, LogicalOp, Operator, Rule, ThresholdRef
from accord.policy.transfer import SUBJECTS_PREFIX, fact_spec


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
