"""Static checks on a parsed pack. Never evaluates a transfer.

:func:`validate_pack` reports every problem it finds as a located
:class:`~accord.errors.Diagnostic` (file:line:column, field path, expected, found, hint):

- identity and metadata: pack id syntax, missing source URLs, ``default: deny`` without
  ``default_citation``, bad ISO 8601 durations, ``sunset`` before ``effective_from``;
- rules: duplicate ids, missing citation or source URL, exemptions that name unknown rules, duties
  on rules that cannot carry them, rule windows outside the pack's window;
- constraints: unknown facts (``data.subjects.<category>`` must name a category), unknown operators,
  operators that do not fit the fact's type, values of the wrong type, unknown vocabulary terms and
  groups, unknown or circular thresholds, and conditions that can never hold (``eq X`` and ``eq Y``
  on one fact, empty numeric ranges …).

Warnings (``confidence: uncertain``, a duty without a citation …) are reported but not fatal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from accord.errors import Diagnostic, PackError
from accord.policy import _vocab
from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Location,
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
from accord.policy.transfer import FACTS, SUBJECTS_PREFIX, FactSpec, fact_spec

__all__ = ["OPERATORS_BY_TYPE", "Report", "validate_file", "validate_pack", "validate_text"]

_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")

#: Operators that make sense for each fact type.
OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    "bool": frozenset({Operator.EQ, Operator.NEQ}),
    "int": frozenset(
        {
            Operator.EQ,
            Operator.NEQ,
            Operator.LT,
            Operator.LTEQ,
            Operator.GT,
            Operator.GTEQ,
            Operator.IS_ANY_OF,
            Operator.IS_NONE_OF,
        }
    ),
    "date": frozenset(
        {Operator.EQ, Operator.NEQ, Operator.LT, Operator.LTEQ, Operator.GT, Operator.GTEQ}
    ),
    "str": frozenset(
        {
            Operator.EQ,
            Operator.NEQ,
            Operator.LT,
            Operator.LTEQ,
            Operator.GT,
            Operator.GTEQ,
            Operator.IS_A,
            Operator.IS_ANY_OF,
            Operator.IS_NONE_OF,
        }
    ),
    "set": frozenset({Operator.IS_A, Operator.IS_ANY_OF, Operator.IS_ALL_OF, Operator.IS_NONE_OF}),
}
_LIST_OPS = frozenset({Operator.IS_ANY_OF, Operator.IS_ALL_OF, Operator.IS_NONE_OF})
_ORDER_OPS = frozenset({Operator.LT, Operator.LTEQ, Operator.GT, Operator.GTEQ})


@dataclass(slots=True)
class Report:
    """Errors (fatal) and warnings found in a pack."""

    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    pack: Pack | None = None

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self, source: str | None = None) -> None:
        """Raise :class:`PackError` listing every error, if there is any."""
        if self.errors:
            n = len(self.errors)
            where = f" {source}" if source else ""
            raise PackError(
                f"invalid rule pack{where}: {n} problem{'s' if n != 1 else ''}", list(self.errors)
            )


def _diag(
    loc: Location | None,
    message: str,
    *,
    source: str | None,
    path: str,
    expected: str | None = None,
    found: str | None = None,
    hint: str | None = None,
) -> Diagnostic:
    if loc is None:
        return Diagnostic(
            message, file=source, path=path, expected=expected, found=found, hint=hint
        )
    return loc.diagnostic(message, path=path, expected=expected, found=found, hint=hint)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _kind_of(value: Value) -> str:
    if isinstance(value, tuple):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, date):
        return "a date"
    if value is None:
        return "null"
    return "text"


class _Checker:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.source = pack.source
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.groups = {g.name: g for g in pack.groups}
        self.thresholds = {t.name: t for t in pack.thresholds}

    def error(self, loc: Location | None, message: str, *, path: str, **kw: str | None) -> None:
        self.errors.append(_diag(loc, message, source=self.source, path=path, **kw))

    def warn(self, loc: Location | None, message: str, *, path: str, **kw: str | None) -> None:
        self.warnings.append(_diag(loc, message, source=self.source, path=path, **kw))

    # -- metadata ----------------------------------------------------------------------------

    def meta(self) -> None:
        m = self.pack.meta
        loc = m.location
        if not _PACK_ID.match(m.id):
            self.error(
                loc,
                "bad pack id",
                path="pack.id",
                expected="[a-z0-9-]+ (e.g. us-dsp)",
                found=repr(m.id),
                hint="use lower-case letters, digits and hyphens",
            )
        if not m.sources:
            self.error(
                loc,
                "the pack has no source URL",
                path="pack.sources",
                expected="at least one https:// URL of the official text",
                found="none",
                hint="add `sources: [https://...]`",
            )
        for i, url in enumerate(m.sources):
            self.url(loc, url, f"pack.sources[{i}]")
        if m.default is PackDefault.DENY and not m.default_citation:
            self.error(
                loc,
                "`default: deny` needs a `default_citation`",
                path="pack.default_citation",
                expected="the provision that makes the default a denial",
                found="nothing",
                hint="add `default_citation:` (e.g. GDPR Art 44)",
            )
        if m.sunset is not None and m.sunset < m.effective_from:
            self.error(
                loc,
                "the pack's sunset is before its effective_from",
                path="pack.sunset",
                expected=f"a date on or after {m.effective_from.isoformat()}",
                found=m.sunset.isoformat(),
                hint="swap or correct the dates",
            )
        if m.review_interval is not None:
            self.duration(loc, m.review_interval, "pack.review_interval")
        if m.confidence is Confidence.UNCERTAIN:
            self.warn(
                loc,
                "the pack is marked `confidence: uncertain`",
                path="pack.confidence",
                hint="every decision will flag it; verify against the official text",
            )
        if m.jurisdiction and not (
            _vocab.known("country", m.jurisdiction)
            or _vocab.group(m.jurisdiction.lower()) is not None
        ):
            self.warn(
                loc,
                f"unknown jurisdiction {m.jurisdiction!r}",
                path="pack.jurisdiction",
                expected="an ISO 3166-1 alpha-2 code or a group name",
                found=repr(m.jurisdiction),
            )
        for i, party in enumerate(m.parties):
            if not (_vocab.known("country", party) or _vocab.group(party.lower()) is not None):
                self.warn(
                    loc,
                    f"unknown party {party!r}",
                    path=f"pack.parties[{i}]",
                    expected="an ISO 3166-1 alpha-2 code or a group name",
                    found=repr(party),
                )
        if m.scope is not None:
            self.constraint(m.scope, "pack.scope")
            self.satisfiable(m.scope, m.scope.location or loc, "pack.scope")

    def url(self, loc: Location | None, url: str | None, path: str) -> None:
        if url is None:
            return
        if not _URL.match(url):
            self.error(
                loc,
                "not a URL",
                path=path,
                expected="an http(s):// URL",
                found=repr(url),
                hint="link the official text",
            )

    def duration(self, loc: Location | None, text: str, path: str) -> None:
        if not _DURATION.match(text):
            self.error(
                loc,
                "not an ISO 8601 duration",
                path=path,
                expected="e.g. P1Y, P14D, PT72H",
                found=repr(text),
                hint="write P<n>Y<n>M<n>D or PT<n>H",
            )

    # -- constraints -------------------------------------------------------------------------

    def constraint(self, c: Constraint, path: str, seen: frozenset[str] = frozenset()) -> None:
        if isinstance(c, Atomic):
            self.atomic(c, path)
        elif isinstance(c, ThresholdRef):
            if c.name not in self.thresholds:
                self.error(
                    c.location,
                    f"unknown threshold {c.name!r}",
                    path=f"{path}.threshold",
                    expected="a name under `thresholds:`",
                    found=repr(c.name),
                    hint=_vocab.did_you_mean(c.name, list(self.thresholds))
                    or "define it under `thresholds:`",
                )
        else:
            if c.op is LogicalOp.NOT and len(c.args) != 1:
                self.error(
                    c.location,
                    "'not' takes exactly one constraint",
                    path=path,
                    expected="one constraint",
                    found=f"{len(c.args)}",
                )
            if not c.args:
                self.error(
                    c.location,
                    f"{c.op!s} needs at least one constraint",
                    path=path,
                    expected="a non-empty list",
                    found="[]",
                )
            for i, arg in enumerate(c.args):
                sub = f"{path}.{c.op}" if c.op is LogicalOp.NOT else f"{path}.{c.op}[{i}]"
                self.constraint(arg, sub, seen)

    def fact(self, a: Atomic, path: str) -> FactSpec | None:
        spec = fact_spec(a.fact)
        if spec is None:
            choices = [*FACTS, "data.subjects.<category>"]
            self.error(
                a.location,
                f"unknown fact {a.fact!r}",
                path=f"{path}.fact",
                expected="a fact of the transfer document (see docs/transfer.md)",
                found=repr(a.fact),
                hint=_vocab.did_you_mean(a.fact, choices) or "see docs/transfer.md",
            )
            return None
        if a.fact.startswith(SUBJECTS_PREFIX):
            cat = a.fact[len(SUBJECTS_PREFIX) :]
            if not _vocab.known("category", cat):
                self.error(
                    a.location,
                    f"unknown data category {cat!r} in {a.fact!r}",
                    path=f"{path}.fact",
                    expected="data.subjects.<a known category id>",
                    found=repr(cat),
                    hint=_vocab.did_you_mean(cat, _vocab.terms("category"))
                    or "see `accord glossary`",
                )
        return spec

    def expand(self, value: Value, a: Atomic, path: str) -> list[Any] | None:
        """The value's items with groups expanded; ``None`` after reporting an unknown group."""
        items = value if isinstance(value, tuple) else (value,)
        out: list[Any] = []
        for item in items:
            if isinstance(item, str) and item.startswith("group:"):
                name = item[len("group:") :]
                if name in self.groups:
                    out.extend(self.groups[name].members)
                else:
                    members = _vocab.group(name)
                    if members is None:
                        known = [*self.groups, *_vocab.groups()]
                        self.error(
                            a.location,
                            f"unknown group {name!r}",
                            path=f"{path}.value",
                            expected="a group under `groups:` or a vocabulary group",
                            found=repr(item),
                            hint=_vocab.did_you_mean(name, known) or "define it under `groups:`",
                        )
                        return None
                    out.extend(sorted(members))
            elif isinstance(item, tuple):
                self.error(
                    a.location,
                    "nested lists are not allowed",
                    path=f"{path}.value",
                    expected="a flat list",
                    found=_show(value),
                )
                return None
            else:
                out.append(item)
        return out

    def atomic(self, a: Atomic, path: str) -> None:
        spec = self.fact(a, path)
        op = a.op
        if op not in set(Operator):
            self.error(
                a.location,
                f"unknown operator {op!r}",
                path=f"{path}.op",
                expected="one of: " + ", ".join(Operator),
                found=repr(op),
                hint=_vocab.did_you_mean(op, [str(o) for o in Operator]) or "use an ODRL operator",
            )
            return
        if spec is None:
            return
        allowed = OPERATORS_BY_TYPE[spec.type]
        if op not in allowed:
            hint = None
            if spec.type == "set" and op in (Operator.EQ, Operator.NEQ):
                hint = "for a list fact use isAnyOf / isAllOf / isNoneOf"
            elif spec.type == "bool":
                hint = "compare a yes/no fact with eq true or eq false"
            self.error(
                a.location,
                f"operator {op!s} does not apply to {a.fact}",
                path=f"{path}.op",
                expected="one of: " + ", ".join(sorted(allowed)),
                found=str(op),
                hint=hint,
            )
            return
        value = a.value
        is_list = isinstance(value, tuple)
        is_group = isinstance(value, str) and value.startswith("group:")
        if op in _LIST_OPS and not (is_list or is_group):
            self.error(
                a.location,
                f"{op!s} compares with a list",
                path=f"{path}.value",
                expected="a list of values (or group:NAME)",
                found=_show(value),
                hint=f"write value: [{_show(value)}]",
            )
            return
        if op in _ORDER_OPS and (is_list or is_group):
            self.error(
                a.location,
                f"{op!s} compares with a single value",
                path=f"{path}.value",
                expected="one number, date or string",
                found=_show(value),
            )
            return
        if op in (Operator.EQ, Operator.NEQ) and (is_list or is_group):
            self.error(
                a.location,
                f"{op!s} compares with a single value",
                path=f"{path}.value",
                expected="one value",
                found=_show(value),
                hint="use isAnyOf / isNoneOf to compare with several values",
            )
            return
        items = self.expand(value, a, path)
        if items is None:
            return
        if not items and op in _LIST_OPS:
            self.warn(
                a.location,
                f"{op!s} with an empty list",
                path=f"{path}.value",
                found="[]",
                hint="an empty list makes the comparison constant",
            )
        want = {"set": "str", "str": "str", "int": "int", "bool": "bool", "date": "date"}[spec.type]
        for item in items:
            if not _type_ok(item, want):
                self.error(
                    a.location,
                    f"wrong value type for {a.fact}",
                    path=f"{path}.value",
                    expected=_TYPE_TEXT[want],
                    found=f"{_kind_of(item)} {_show(item)}",
                    hint=_type_hint(want, item),
                )
                return
        if spec.vocab is not None and spec.vocab != "certification":
            for item in items:
                if not _vocab.known(spec.vocab, item):
                    kind = spec.vocab.replace("_", " ")
                    self.error(
                        a.location,
                        f"unknown {kind} {item!r}",
                        path=f"{path}.value",
                        expected=f"a known {kind} id",
                        found=repr(item),
                        hint=_vocab.did_you_mean(item, _vocab.terms(spec.vocab))
                        or "see `accord glossary`",
                    )
        elif spec.vocab == "certification":
            self.schemes(a, items, path)

    def schemes(self, a: Atomic, items: list[Any], path: str) -> None:
        try:
            from accord.vocab import certifications as registry
        except ImportError:  # pragma: no cover - the registry ships with the package
            return
        known = set(registry.schemes())
        for item in items:
            if item not in known:
                self.warn(
                    a.location,
                    f"certification scheme {item!r} is not in the registry",
                    path=f"{path}.value",
                    found=repr(item),
                    hint=_vocab.did_you_mean(item, list(known))
                    or "it will only match certifications naming it exactly",
                )

    # -- satisfiability ----------------------------------------------------------------------

    def conjuncts(self, c: Constraint, seen: frozenset[str] = frozenset()) -> Iterator[Atomic]:
        if isinstance(c, Atomic):
            yield c
        elif isinstance(c, ThresholdRef):
            t = self.thresholds.get(c.name)
            if t is not None and c.name not in seen:
                yield from self.conjuncts(t.constraint, seen | {c.name})
        elif c.op is LogicalOp.AND or (c.op is LogicalOp.OR and len(c.args) == 1):
            for arg in c.args:
                yield from self.conjuncts(arg, seen)

    def satisfiable(self, c: Constraint, loc: Location | None, path: str) -> None:
        problem = _contradiction(list(self.conjuncts(c)), self)
        if problem is not None:
            self.error(
                loc,
                "this condition can never hold",
                path=path,
                expected="a satisfiable condition",
                found=problem,
                hint="the rule would never apply; fix or remove one of the parts",
            )

    # -- rules -------------------------------------------------------------------------------

    def thresholds_(self) -> None:
        for t in self.pack.thresholds:
            path = f"thresholds.{t.name}"
            if not t.citation:
                self.error(
                    t.location,
                    f"threshold {t.name!r} has no citation",
                    path=f"{path}.citation",
                    expected="the provision that sets it",
                    found="nothing",
                    hint="add `citation:`",
                )
            self.url(t.location, t.source, f"{path}.source")
            if self.cyclic(t.name):
                self.error(
                    t.location,
                    f"threshold {t.name!r} refers to itself",
                    path=path,
                    expected="a threshold that does not loop",
                    found="a cycle",
                )
                continue
            self.constraint(t.constraint, path)

    def cyclic(self, name: str) -> bool:
        stack = [(name, frozenset[str]())]
        while stack:
            current, seen = stack.pop()
            t = self.thresholds.get(current)
            if t is None:
                continue
            for ref in _refs(t.constraint):
                if ref == name:
                    return True
                if ref not in seen:
                    stack.append((ref, seen | {ref}))
        return False

    def groups_(self) -> None:
        for g in self.pack.groups:
            if not g.members:
                self.warn(
                    g.location, f"group {g.name!r} is empty", path=f"groups.{g.name}", found="[]"
                )
            if _vocab.group(g.name) is not None:
                self.warn(
                    g.location,
                    f"group {g.name!r} shadows the vocabulary group",
                    path=f"groups.{g.name}",
                    hint="rename it, or drop it to use the vocabulary's definition",
                )

    def rules(self) -> None:
        m = self.pack.meta
        ids: dict[str, Rule] = {}
        for rule in self.pack.rules:
            path = f"rules[{rule.id}]"
            loc = rule.location
            if rule.id in ids:
                first = ids[rule.id].location
                where = f" (first at line {first.line})" if first else ""
                self.error(
                    loc,
                    f"duplicate rule id {rule.id!r}",
                    path=f"{path}.id",
                    expected="unique rule ids",
                    found=f"{rule.id!r} again{where}",
                    hint="rename one of the rules",
                )
            else:
                ids[rule.id] = rule
        for rule in self.pack.rules:
            path = f"rules[{rule.id}]"
            loc = rule.location
            if not rule.citation:
                self.error(
                    loc,
                    f"rule {rule.id!r} has no citation",
                    path=f"{path}.citation",
                    expected="the provision it encodes (e.g. 28 CFR 202.301(a))",
                    found="nothing",
                    hint="add `citation:`",
                )
            if not rule.source:
                self.error(
                    loc,
                    f"rule {rule.id!r} has no source URL",
                    path=f"{path}.source",
                    expected="an https:// URL of the provision",
                    found="nothing",
                    hint="add `source:`",
                )
            else:
                self.url(loc, rule.source, f"{path}.source")
            if rule.confidence is Confidence.UNCERTAIN:
                self.warn(
                    loc,
                    f"rule {rule.id!r} is marked `confidence: uncertain`",
                    path=f"{path}.confidence",
                    hint="every decision it shapes will flag it",
                )
            self.window(rule, path, m.effective_from, m.sunset)
            if rule.kind is RuleKind.EXEMPTION:
                if not rule.exempts:
                    self.error(
                        loc,
                        f"exemption {rule.id!r} exempts nothing",
                        path=f"{path}.exempts",
                        expected="rule ids (or '*')",
                        found="nothing",
                        hint="add `exempts: [rule-id]`",
                    )
                for i, target in enumerate(rule.exempts):
                    if target == "*":
                        continue
                    if target == rule.id:
                        self.error(
                            loc,
                            "an exemption cannot exempt itself",
                            path=f"{path}.exempts[{i}]",
                            found=repr(target),
                        )
                    elif target not in ids:
                        self.error(
                            loc,
                            f"exemption names unknown rule {target!r}",
                            path=f"{path}.exempts[{i}]",
                            expected="a rule id of this pack",
                            found=repr(target),
                            hint=_vocab.did_you_mean(target, list(ids)) or "check the rule ids",
                        )
                    elif ids[target].kind is RuleKind.EXEMPTION:
                        self.error(
                            loc,
                            "an exemption cannot exempt another exemption",
                            path=f"{path}.exempts[{i}]",
                            found=repr(target),
                            hint="name the rules it switches off instead",
                        )
            elif rule.exempts:
                self.error(
                    loc,
                    f"only exemptions have `exempts` (this is a {rule.kind!s})",
                    path=f"{path}.exempts",
                    expected="kind: exemption",
                    found=str(rule.kind),
                )
            if rule.duties and rule.kind in (RuleKind.PROHIBITION, RuleKind.EXEMPTION):
                self.error(
                    loc,
                    f"a {rule.kind!s} cannot carry duties",
                    path=f"{path}.duties",
                    expected="duties on a permission or obligation",
                    found=f"{len(rule.duties)} duties",
                    hint="move them to the permission they condition",
                )
            duty_ids: set[str] = set()
            for i, d in enumerate(rule.duties):
                dpath = f"{path}.duties[{i}]"
                if d.id in duty_ids:
                    self.error(
                        d.location,
                        f"duplicate duty id {d.id!r}",
                        path=f"{dpath}.id",
                        expected="unique duty ids within a rule",
                        found=repr(d.id),
                    )
                duty_ids.add(d.id)
                if not d.citation:
                    self.warn(
                        d.location,
                        f"duty {d.id!r} has no citation",
                        path=f"{dpath}.citation",
                        hint="add `citation:`",
                    )
                self.url(d.location, d.source, f"{dpath}.source")
                if d.deadline is not None:
                    self.duration(d.location, d.deadline, f"{dpath}.deadline")
            for key, c in (("when", rule.when), ("unless", rule.unless)):
                if c is not None:
                    self.constraint(c, f"{path}.{key}")
            if rule.when is not None:
                self.satisfiable(rule.when, rule.when.location or loc, f"{path}.when")

    def window(self, rule: Rule, path: str, start: date, end: date | None) -> None:
        loc = rule.location
        r_start, r_end = rule.effective_from, rule.sunset
        if r_start is not None and r_end is not None and r_end < r_start:
            self.error(
                loc,
                f"rule {rule.id!r}: sunset is before effective_from",
                path=f"{path}.sunset",
                expected=f"on or after {r_start.isoformat()}",
                found=r_end.isoformat(),
            )
            return
        if r_end is not None and r_end < start:
            self.error(
                loc,
                f"rule {rule.id!r} ends before the pack starts",
                path=f"{path}.sunset",
                expected=f"on or after {start.isoformat()}",
                found=r_end.isoformat(),
                hint="the rule can never apply",
            )
        if r_start is not None and end is not None and r_start > end:
            self.error(
                loc,
                f"rule {rule.id!r} starts after the pack's sunset",
                path=f"{path}.effective_from",
                expected=f"on or before {end.isoformat()}",
                found=r_start.isoformat(),
                hint="the rule can never apply",
            )
        if r_start is not None and r_start < start:
            self.warn(
                loc,
                f"rule {rule.id!r} starts before its pack",
                path=f"{path}.effective_from",
                hint=f"the pack's window applies: not before {start.isoformat()}",
            )

    def run(self) -> Report:
        self.meta()
        self.groups_()
        self.thresholds_()
        self.rules()
        return Report(self.errors, self.warnings, self.pack)


_TYPE_TEXT = {
    "str": "text (a vocabulary id or code)",
    "int": "a whole number",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD",
}


def _type_ok(item: Any, want: str) -> bool:
    if want == "str":
        return isinstance(item, str)
    if want == "int":
        return isinstance(item, (int, float)) and not isinstance(item, bool)
    if want == "bool":
        return isinstance(item, bool)
    return isinstance(item, date)


def _type_hint(want: str, item: Any) -> str | None:
    if want == "str" and isinstance(item, bool):
        return "quote it: YAML reads yes/no/true/false as booleans"
    if want == "int" and isinstance(item, str):
        return "write the number without quotes"
    if want == "bool" and isinstance(item, str):
        return "write true or false without quotes"
    return None


def _refs(c: Constraint) -> Iterator[str]:
    if isinstance(c, ThresholdRef):
        yield c.name
    elif isinstance(c, Logical):
        for arg in c.args:
            yield from _refs(arg)


def _contradiction(parts: list[Atomic], checker: _Checker) -> str | None:
    """A description of why these ANDed atomic constraints cannot all hold, or ``None``."""
    by_fact: dict[str, list[Atomic]] = {}
    for a in parts:
        spec = fact_spec(a.fact)
        if spec is None or spec.type == "set" or a.op not in set(Operator):
            continue
        by_fact.setdefault(a.fact, []).append(a)
    for fact, atoms in by_fact.items():
        allowed: set[Any] | None = None  # values the fact may take, when pinned
        excluded: set[Any] = set()
        lo: tuple[Any, bool] | None = None  # (bound, inclusive)
        hi: tuple[Any, bool] | None = None
        for a in atoms:
            value: Any = a.value
            if isinstance(value, str) and value.startswith("group:"):
                name = value[len("group:") :]
                g = checker.groups.get(name)
                members = g.members if g is not None else _vocab.group(name)
                if not members:
                    continue  # an empty group is reported on its own (a warning)
                value = tuple(members)
            try:
                if a.op == Operator.EQ and not isinstance(value, tuple):
                    new = {value}
                    allowed = new if allowed is None else allowed & new
                elif a.op == Operator.IS_ANY_OF and isinstance(value, tuple):
                    new = set(value)
                    allowed = new if allowed is None else allowed & new
                elif a.op == Operator.NEQ and not isinstance(value, tuple):
                    excluded.add(value)
                elif a.op == Operator.IS_NONE_OF and isinstance(value, tuple):
                    excluded |= set(value)
                elif a.op in (Operator.GT, Operator.GTEQ) and not isinstance(value, tuple):
                    bound = (value, a.op == Operator.GTEQ)
                    if lo is None or _tighter_lo(bound, lo):
                        lo = bound
                elif a.op in (Operator.LT, Operator.LTEQ) and not isinstance(value, tuple):
                    bound = (value, a.op == Operator.LTEQ)
                    if hi is None or _tighter_hi(bound, hi):
                        hi = bound
            except TypeError:
                continue
        try:
            if allowed is not None:
                remaining = {v for v in allowed if v not in excluded and _within(v, lo, hi, fact)}
                if not remaining:
                    return f"no value of {fact} satisfies all of: " + "; ".join(
                        f"{a.op} {_show(a.value)}" for a in atoms
                    )
            elif lo is not None and hi is not None and _empty_range(lo, hi, fact):
                return f"{fact} cannot be both {_bound_text(lo, '>')} and {_bound_text(hi, '<')}"
        except TypeError:
            continue
    return None


def _tighter_lo(new: tuple[Any, bool], old: tuple[Any, bool]) -> bool:
    return bool(new[0] > old[0] or (new[0] == old[0] and not new[1]))


def _tighter_hi(new: tuple[Any, bool], old: tuple[Any, bool]) -> bool:
    return bool(new[0] < old[0] or (new[0] == old[0] and not new[1]))


def _within(v: Any, lo: tuple[Any, bool] | None, hi: tuple[Any, bool] | None, fact: str) -> bool:
    del fact
    if lo is not None and (v < lo[0] or (v == lo[0] and not lo[1])):
        return False
    return not (hi is not None and (v > hi[0] or (v == hi[0] and not hi[1])))


def _empty_range(lo: tuple[Any, bool], hi: tuple[Any, bool], fact: str) -> bool:
    spec = fact_spec(fact)
    lo_v, lo_inc = lo
    hi_v, hi_inc = hi
    if spec is not None and spec.type == "int" and isinstance(lo_v, int) and isinstance(hi_v, int):
        first = lo_v if lo_inc else lo_v + 1
        last = hi_v if hi_inc else hi_v - 1
        return bool(first > last)
    if lo_v > hi_v:
        return True
    return bool(lo_v == hi_v and not (lo_inc and hi_inc))


def _bound_text(bound: tuple[Any, bool], sign: str) -> str:
    return f"{sign}{'=' if bound[1] else ''} {_show(bound[0])}"


def validate_pack(pack: Pack) -> Report:
    """Check a parsed pack's meaning; never raises for a bad pack (see :class:`Report`)."""
    return _Checker(pack).run()


def validate_text(text: str, *, source: str | None = None) -> Report:
    """Parse and check pack text: parse errors and validation errors together."""
    from accord.policy.syntax import parse_pack

    parsed = parse_pack(text, source=source)
    if parsed.pack is None:
        return Report(list(parsed.errors), list(parsed.warnings), None)
    report = validate_pack(parsed.pack)
    return Report(
        [*parsed.errors, *report.errors], [*parsed.warnings, *report.warnings], parsed.pack
    )


def validate_file(path: str | Path) -> Report:
    """Parse and check a pack file (raises :class:`PackError` only if it cannot be read)."""
    from accord.policy.syntax import read_text

    return validate_text(read_text(path), source=str(path))
