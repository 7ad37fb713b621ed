"""Compile packs once, decide many transfers: constraint trees → closures and generated code,
rules → indexes, decisions → memos.

This module is the engine's public face (:func:`compile_packs`, :class:`Engine`) and its last step:
which packs apply to a transfer (:class:`_Stage`, :class:`_Plan`) and how their results combine
(:func:`_combine`). The stages before it live in private modules, each named for its role:

- :mod:`~accord.policy._facts` — the per-decision fact view (:class:`_View`), which reads facts off
  the transfer lazily and caches the costly ones (subject counts, certifications, parts shared
  between rules), and the certification assessment.
- :mod:`~accord.policy._constraints` — each constraint compiled once into a closure
  ``ev(view) -> True | False | None`` (``None`` is *unknown*, Kleene logic); ``and``/``or``/``xone``
  test their cheapest parts first; missing facts are worked out (``CNode.explain``) only for rules
  left undecided.
- :mod:`~accord.policy._codegen` — with the shortcuts (the default), each rule's condition written
  out as one generated Python function (the same Kleene logic, order and short-circuits, common
  atomic shapes inline); the parts a pack's rules share (YAML anchors) are worked out once per
  decision.
- :mod:`~accord.policy._rules` — compiled rules; a rule that fails is always re-run through the
  closures, which record the error.
- :mod:`~accord.policy._index` — each pack files its rules in a cascade of indexes under the values
  of the facts they pin (``transaction``, ``importer.country``, ``mechanisms`` …), so a decision
  only evaluates rules that can hold; a pack's result is memoised on its candidate rules' values
  (and, for open rules, the facts they leave unknown).
- :mod:`~accord.policy._packs` — compiled packs; per window interval and exporter country, packs
  whose scope the country alone decides are settled once (``_gate``, ``_pass``, and
  :class:`_Stage` here).
- :mod:`~accord.policy._evaluate` — per-pack evaluation: scopes memoised on the facts they read,
  the memo of rule values, and the full decision procedure.

A decision whose packs were all served from their memos is memoised on those results, and built
without re-sorting or re-merging anything. Every memo is bounded (cleared when full).

The semantics are those of docs/pack-language.md, "How a pack decides";
:func:`accord.policy.decide.decide` is a thin wrapper around :class:`Engine`. Property tests check
that the shortcuts never change a decision: against ``Engine(packs, _shortcuts=False)`` (the
closures alone, no index, no memo) and against a plain interpreter of the pack AST
(tests/property/test_engine_reference.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from accord.policy._constraints import compile_constraint
from accord.policy._evaluate import (
    _DENY,
    _INDETERMINATE,
    _NO_FACTS,
    _PERMIT,
    _PWO,
    _fast_pack,
    _fixed_step,
    _memo_step,
    _plan_pack,
    _run_pack,
    _scope_step,
)
from accord.policy._facts import _MEMO_LIMIT, _View
from accord.policy._packs import _CPack
from accord.policy._rules import _PackResult
from accord.policy.ast import Pack
from accord.policy.decision import (
    Decision,
    Obligation,
    Outcome,
    PackStatus,
    Reason,
    Recognition,
    RuleError,
    _decision,
)
from accord.policy.transfer import Transfer

__all__ = ["Engine", "compile_constraint", "compile_packs"]


def _rank(outcome: Outcome) -> int:
    """``STRICTNESS[outcome]``, by identity (no enum hashing)."""
    if outcome is _PERMIT:
        return 0
    if outcome is _PWO:
        return 1
    if outcome is _INDETERMINATE:
        return 2
    return 3


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
                recognitions = tuple(r for r in assessed[2] if r.satisfied in refs)
        return _decision(
            transfer.id, on, outcome, obligations, reasons, missing, statuses, recognitions, errors
        )


def compile_packs(packs: Iterable[Pack]) -> Engine:
    """Compile ``packs`` once; the engine decides any number of transfers."""
    return Engine(tuple(packs))
