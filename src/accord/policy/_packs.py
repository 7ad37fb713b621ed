"""Compiled packs: a pack's scope, rules, exemptions and index, compiled once.

:class:`_CPack` compiles a pack's scope and rules (with the shortcuts: shared parts, generated
code, the index, memo keys) and interns its results and statuses. :func:`_gate` and :func:`_pass`
work out the exporter countries for which the scope is settled by the country alone.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable
from typing import Any

from accord.policy._codegen import _function, _written
from accord.policy._constraints import (
    CNode,
    CompileError,
    _expand,
    _facts_of,
    _repeated,
    _Shared,
    compile_constraint,
)
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
from accord.policy._index import _Index
from accord.policy._rules import _CRule, _PackResult, _with_confidence
from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    Rule,
    RuleKind,
    ThresholdRef,
)
from accord.policy.decision import Effect, Obligation, Outcome, PackStatus, Reason
from accord.policy.transfer import Transfer


class _CPack:
    """A compiled pack: its scope, rules (with their exemptions), index and memos."""

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
