"""Compiled rules: a rule's condition, window, precomputed reasons and obligations.

:class:`_CRule` checks a rule on a transfer through its generated function, falling back to the
closures (which record the error, fail closed) when it fails, and works out the facts an undecided
rule leaves unknown. :class:`_PackResult` is what a pack's rules give for one transfer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accord.policy._codegen import _Written
from accord.policy._constraints import _UNSET, CNode, _always, _and, _not
from accord.policy._facts import _MEMO_LIMIT, Ev, Tri, _View
from accord.policy.ast import Rule
from accord.policy.decision import Effect, Obligation, Outcome, PackStatus, Reason, RuleError
from accord.policy.transfer import Transfer

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


@dataclass(slots=True, eq=False)
class _PackResult:
    """What a pack gives for one transfer: its status, outcome (``None`` when not applied),
    obligations, reasons, missing facts and the errors of rules that failed."""

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
