"""Rule indexing and candidate selection.

:class:`_Index` files a pack's rules in a cascade of indexes under the values of the facts they pin
(``transaction``, ``importer.country``, ``mechanisms`` …), so a decision only evaluates rules that
can hold. Each distinct set of candidates is one :class:`_Cands`, with the generated function that
returns all their values and the pack's results memoised on those values (:class:`_Open` when
rules are left open).
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from accord.policy._codegen import _function, _values_of
from accord.policy._constraints import CompileError, _expand
from accord.policy._facts import (
    _MEMO_LIMIT,
    CERTS,
    Ev,
    _is_set,
    _plain_attr,
    _scalar_getter,
    _set_getter,
    _View,
)
from accord.policy._rules import _CRule, _PackResult
from accord.policy.ast import Atomic, Constraint, Logical, LogicalOp, Operator, RuleKind
from accord.policy.transfer import Transfer, fact_spec


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


class _Open:
    """A memo entry for rule values that leave rules open: the result also depends on the facts
    those rules leave unknown (the missing facts), so it is memoised on them too."""

    __slots__ = ("results", "rules")

    def __init__(self, rules: tuple[_CRule, ...]) -> None:
        self.rules = rules
        self.results: dict[tuple[frozenset[str], ...], _PackResult] = {}

    def key(self, view: _View) -> tuple[frozenset[str], ...]:
        return tuple([r.unknowns(view) for r in self.rules])
