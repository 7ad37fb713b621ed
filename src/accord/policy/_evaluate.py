"""Per-pack evaluation: whether a pack applies (window and scope, memoised) and what its
rules decide (exemptions, then prohibitions over permissions, obligations, undecided rules).

:func:`_fast_pack` serves a pack's result from the memo of its candidate rules' values;
:func:`_run_pack` runs the full procedure of docs/pack-language.md, "How a pack decides".
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

from accord.policy._facts import _MEMO_LIMIT, Tri, _View
from accord.policy._index import _Open
from accord.policy._packs import _CPack
from accord.policy._rules import _CRule, _error_text, _in_window, _PackResult
from accord.policy.ast import PackDefault
from accord.policy.decision import Obligation, Outcome, Reason, RuleError


def _not_applied(cp: _CPack, why: str, errors: list[RuleError]) -> _PackResult:
    return _PackResult(cp.status(False, why, None, set()), None, [], [], set(), errors)


# Enum members bound once: attribute access and hashing of enum members are slow in the hot path.
_PERMIT = Outcome.PERMIT
_PWO = Outcome.PERMIT_WITH_OBLIGATIONS
_INDETERMINATE = Outcome.INDETERMINATE
_DENY = Outcome.DENY
_DEFAULT_DENY = PackDefault.DENY


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
