"""Rule-pack text (YAML or JSON) → :class:`~accord.policy.ast.Pack`, keeping source locations.

The parser checks *structure* (which keys exist, what type each value has, dates, rule kinds) and
reports every problem it finds, not just the first. Meaning (facts, operators, vocabulary, windows,
citations) is checked by :mod:`accord.policy.validate`; :func:`load_pack_text` runs both by default.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from accord.errors import Diagnostic, PackError
from accord.policy._yaml import (
    LMap,
    LNode,
    LocatedError,
    LScalar,
    LSeq,
    describe,
    key_location,
    load_documents,
)
from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Duty,
    Group,
    Location,
    Logical,
    LogicalOp,
    Pack,
    PackDefault,
    PackKind,
    PackMeta,
    Rule,
    RuleKind,
    Threshold,
    ThresholdRef,
    Value,
)

__all__ = [
    "DUTY_KEYS",
    "PACK_KEYS",
    "RULE_KEYS",
    "TOP_KEYS",
    "ParseResult",
    "load_pack_file",
    "load_pack_text",
    "parse_constraint",
    "parse_pack",
]

TOP_KEYS = ("pack", "groups", "thresholds", "rules")
PACK_KEYS = (
    "id",
    "title",
    "kind",
    "jurisdiction",
    "instrument",
    "version",
    "effective_from",
    "sunset",
    "review_interval",
    "parties",
    "confidence",
    "default",
    "default_citation",
    "sources",
    "scope",
    "notes",
)
RULE_KEYS = (
    "id",
    "kind",
    "text",
    "citation",
    "source",
    "effective_from",
    "sunset",
    "confidence",
    "protects",
    "when",
    "unless",
    "duties",
    "exempts",
    "notes",
)
DUTY_KEYS = ("id", "text", "citation", "source", "deadline", "protects")
ATOMIC_KEYS = ("fact", "op", "value")
THRESHOLD_EXTRA_KEYS = ("citation", "source")
LOGICAL_KEYS = tuple(op.value for op in LogicalOp)
_CONSTRAINT_FORMS = "{fact, op, value}, {and|or|xone: [...]}, {not: C} or {threshold: NAME}"

_T = TypeVar("_T")


@dataclass(slots=True)
class ParseResult:
    """What the parser made of a text: the pack (``None`` if hopeless) and its diagnostics."""

    pack: Pack | None
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def _hint_for(name: str, choices: tuple[str, ...] | list[str]) -> str:
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "expected one of: " + ", ".join(options)


class _Parser:
    def __init__(self) -> None:
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    # -- helpers -----------------------------------------------------------------------------

    def err(
        self,
        loc: Location,
        message: str,
        *,
        path: str,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.errors.append(
            loc.diagnostic(message, path=path, expected=expected, found=found, hint=hint)
        )

    def check_keys(self, node: LMap, allowed: tuple[str, ...], path: str, what: str) -> None:
        for key in node.items:
            if key not in allowed:
                self.err(
                    key_location(node, key),
                    f"unknown key {key!r} in {what}",
                    path=f"{path}.{key}" if path else key,
                    expected="one of: " + ", ".join(allowed),
                    found=repr(key),
                    hint=_hint_for(key, allowed),
                )

    def mapping(self, node: LNode, path: str, what: str) -> LMap | None:
        if isinstance(node, LMap):
            return node
        self.err(
            node.loc,
            f"{what} must be a mapping",
            path=path,
            expected="a mapping",
            found=describe(node),
        )
        return None

    def required(self, node: LMap, key: str, path: str) -> LNode | None:
        if key in node.items:
            return node.items[key]
        self.err(
            node.loc,
            f"missing required key {key!r}",
            path=f"{path}.{key}" if path else key,
            expected=f"a {key!r} entry",
            found="nothing",
            hint=f"add `{key}:` to this mapping",
        )
        return None

    def string(self, node: LNode | None, path: str, *, allow_null: bool = False) -> str | None:
        if node is None:
            return None
        if isinstance(node, LScalar):
            if node.value is None and allow_null:
                return None
            if isinstance(node.value, str):
                return node.value
        self.err(
            node.loc,
            "expected text",
            path=path,
            expected="a string",
            found=describe(node),
            hint="quote the value if it looks like a number or date",
        )
        return None

    def version(self, node: LNode | None, path: str) -> str | None:
        if (
            isinstance(node, LScalar)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            self.warnings.append(
                node.loc.diagnostic(
                    "version is a number; it is read as text",
                    path=path,
                    found=describe(node),
                    expected="a quoted string",
                    hint=f'write version: "{node.value}" (numbers lose trailing zeros)',
                )
            )
            return str(node.value)
        return self.string(node, path)

    def strings(self, node: LNode | None, path: str) -> tuple[str, ...]:
        if node is None or (isinstance(node, LScalar) and node.value is None):
            return ()
        if not isinstance(node, LSeq):
            self.err(
                node.loc,
                "expected a list of strings",
                path=path,
                expected="a list",
                found=describe(node),
                hint="write [a, b] or one item per line with '- '",
            )
            return ()
        out: list[str] = []
        for i, item in enumerate(node.items):
            text = self.string(item, f"{path}[{i}]")
            if text is not None:
                out.append(text)
        return tuple(out)

    def date_(self, node: LNode | None, path: str) -> date | None:
        if node is None or (isinstance(node, LScalar) and node.value is None):
            return None
        if isinstance(node, LScalar):
            value = node.value
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    pass
        self.err(
            node.loc,
            "bad date",
            path=path,
            expected="a date YYYY-MM-DD",
            found=describe(node),
            hint="write the date as e.g. 2025-04-08",
        )
        return None

    def enum(
        self, node: LNode | None, cls: Callable[[str], _T], choices: tuple[str, ...], path: str
    ) -> _T | None:
        if node is None:
            return None
        if isinstance(node, LScalar) and isinstance(node.value, str) and node.value in choices:
            return cls(node.value)
        found = node.value if isinstance(node, LScalar) else None
        self.err(
            node.loc,
            f"unknown value for {path.rsplit('.', 1)[-1]}",
            path=path,
            expected="one of: " + ", ".join(choices),
            found=describe(node),
            hint=_hint_for(str(found), choices) if isinstance(found, str) else None,
        )
        return None

    # -- constraints -------------------------------------------------------------------------

    def value(self, node: LNode, path: str) -> Value:
        if isinstance(node, LScalar):
            v = node.value
            if isinstance(v, datetime):
                return v.date()
            if v is None or isinstance(v, (str, int, float, bool, date)):
                return v
            return str(v)
        if isinstance(node, LSeq):
            return tuple(self.value(item, f"{path}[{i}]") for i, item in enumerate(node.items))
        self.err(
            node.loc,
            "a constraint value cannot be a mapping",
            path=path,
            expected="a scalar or a list",
            found="a mapping",
            hint="use a list of values, or a group: value 'group:NAME'",
        )
        return None

    def constraint(
        self, node: LNode, path: str, *, extra: tuple[str, ...] = ()
    ) -> Constraint | None:
        if isinstance(node, LSeq):
            # A bare list is read as ``and`` (ODRL ANDs a rule's constraints).
            args = [self.constraint(item, f"{path}[{i}]") for i, item in enumerate(node.items)]
            if not node.items:
                self.err(
                    node.loc,
                    "empty constraint list",
                    path=path,
                    expected="at least one constraint",
                    found="[]",
                )
                return None
            if any(a is None for a in args):
                return None
            return Logical(LogicalOp.AND, tuple(a for a in args if a is not None), node.loc)
        if not isinstance(node, LMap):
            self.err(
                node.loc,
                "expected a constraint",
                path=path,
                expected=_CONSTRAINT_FORMS,
                found=describe(node),
            )
            return None
        keys = set(node.items)
        if "fact" in keys or "op" in keys or "value" in keys:
            self.check_keys(node, ATOMIC_KEYS + extra, path, "an atomic constraint")
            fact_node = self.required(node, "fact", path)
            op_node = self.required(node, "op", path)
            if "value" not in node.items:
                self.required(node, "value", path)
                return None
            fact = self.string(fact_node, f"{path}.fact")
            op = self.string(op_node, f"{path}.op")
            value = self.value(node.items["value"], f"{path}.value")
            if fact is None or op is None:
                return None
            return Atomic(fact, _operator(op), value, node.loc)
        logical = [k for k in LOGICAL_KEYS if k in keys]
        if logical:
            if len(logical) > 1:
                self.err(
                    node.loc,
                    "one logical operator per mapping",
                    path=path,
                    expected="exactly one of and, or, xone, not",
                    found=", ".join(logical),
                    hint="nest them: {and: [{or: [...]}, ...]}",
                )
                return None
            op_name = logical[0]
            self.check_keys(node, (op_name, *extra), path, f"an {op_name!r} constraint")
            body = node.items[op_name]
            sub = f"{path}.{op_name}"
            if op_name == "not":
                if isinstance(body, LSeq):
                    self.err(
                        body.loc,
                        "'not' takes one constraint",
                        path=sub,
                        expected="a single constraint",
                        found="a list",
                        hint="wrap several in {and: [...]} or {or: [...]}",
                    )
                    return None
                inner = self.constraint(body, sub)
                return None if inner is None else Logical(LogicalOp.NOT, (inner,), node.loc)
            if not isinstance(body, LSeq) or not body.items:
                self.err(
                    body.loc,
                    f"{op_name!r} takes a non-empty list of constraints",
                    path=sub,
                    expected="a list of constraints",
                    found=describe(body),
                )
                return None
            args = [self.constraint(item, f"{sub}[{i}]") for i, item in enumerate(body.items)]
            if any(a is None for a in args):
                return None
            return Logical(LogicalOp(op_name), tuple(a for a in args if a is not None), node.loc)
        if "threshold" in keys:
            self.check_keys(node, ("threshold", *extra), path, "a threshold reference")
            name = self.string(node.items["threshold"], f"{path}.threshold")
            return None if name is None else ThresholdRef(name, node.loc)
        self.err(
            node.loc,
            "expected a constraint",
            path=path,
            expected=_CONSTRAINT_FORMS,
            found="keys " + ", ".join(sorted(keys)) if keys else "an empty mapping",
            hint=_hint_for(next(iter(sorted(keys)), ""), ("fact", *LOGICAL_KEYS, "threshold")),
        )
        return None

    # -- pack --------------------------------------------------------------------------------

    def meta(self, node: LNode) -> PackMeta | None:
        m = self.mapping(node, "pack", "the 'pack' block")
        if m is None:
            return None
        self.check_keys(m, PACK_KEYS, "pack", "the 'pack' block")
        g = m.items.get
        ident = self.string(self.required(m, "id", "pack"), "pack.id")
        title = self.string(self.required(m, "title", "pack"), "pack.title")
        kind = self.enum(self.required(m, "kind", "pack"), PackKind, tuple(PackKind), "pack.kind")
        juris = self.string(self.required(m, "jurisdiction", "pack"), "pack.jurisdiction")
        version = self.version(self.required(m, "version", "pack"), "pack.version")
        eff_node = self.required(m, "effective_from", "pack")
        eff = self.date_(eff_node, "pack.effective_from")
        if isinstance(eff_node, LScalar) and eff_node.value is None:
            self.err(
                eff_node.loc,
                "a pack needs a start date",
                path="pack.effective_from",
                expected="a date YYYY-MM-DD",
                found="null",
            )
        scope_node = g("scope")
        scope = None
        if scope_node is not None and not (
            isinstance(scope_node, LScalar) and scope_node.value is None
        ):
            scope = self.constraint(scope_node, "pack.scope")
        confidence = self.enum(g("confidence"), Confidence, tuple(Confidence), "pack.confidence")
        default = self.enum(g("default"), PackDefault, tuple(PackDefault), "pack.default")
        return PackMeta(
            id=ident or "",
            title=title or "",
            kind=kind or PackKind.REGULATION,
            jurisdiction=juris or "",
            version=version or "",
            effective_from=eff or date.min,
            instrument=self.string(g("instrument"), "pack.instrument", allow_null=True),
            sunset=self.date_(g("sunset"), "pack.sunset"),
            review_interval=self.string(
                g("review_interval"), "pack.review_interval", allow_null=True
            ),
            parties=self.strings(g("parties"), "pack.parties"),
            confidence=confidence or Confidence.CONFIRMED,
            default=default or PackDefault.PERMIT,
            default_citation=self.string(
                g("default_citation"), "pack.default_citation", allow_null=True
            ),
            sources=self.strings(g("sources"), "pack.sources"),
            scope=scope,
            notes=self.string(g("notes"), "pack.notes", allow_null=True),
            location=m.loc,
        )

    def groups(self, node: LNode | None) -> tuple[Group, ...]:
        if node is None or (isinstance(node, LScalar) and node.value is None):
            return ()
        m = self.mapping(node, "groups", "'groups'")
        if m is None:
            return ()
        return tuple(
            Group(name, self.strings(value, f"groups.{name}"), key_location(m, name))
            for name, value in m.items.items()
        )

    def thresholds(self, node: LNode | None) -> tuple[Threshold, ...]:
        if node is None or (isinstance(node, LScalar) and node.value is None):
            return ()
        m = self.mapping(node, "thresholds", "'thresholds'")
        if m is None:
            return ()
        out: list[Threshold] = []
        for name, value in m.items.items():
            path = f"thresholds.{name}"
            tm = self.mapping(value, path, f"threshold {name!r}")
            if tm is None:
                continue
            constraint = self.constraint(tm, path, extra=THRESHOLD_EXTRA_KEYS)
            if constraint is None:
                continue
            out.append(
                Threshold(
                    name,
                    constraint,
                    self.string(tm.items.get("citation"), f"{path}.citation", allow_null=True),
                    self.string(tm.items.get("source"), f"{path}.source", allow_null=True),
                    key_location(m, name),
                )
            )
        return tuple(out)

    def duty(self, node: LNode, path: str) -> Duty | None:
        m = self.mapping(node, path, "a duty")
        if m is None:
            return None
        self.check_keys(m, DUTY_KEYS, path, "a duty")
        g = m.items.get
        ident = self.string(self.required(m, "id", path), f"{path}.id")
        text = self.string(self.required(m, "text", path), f"{path}.text")
        if ident is None or text is None:
            return None
        return Duty(
            id=ident,
            text=text,
            citation=self.string(g("citation"), f"{path}.citation", allow_null=True),
            source=self.string(g("source"), f"{path}.source", allow_null=True),
            deadline=self.string(g("deadline"), f"{path}.deadline", allow_null=True),
            protects=self.strings(g("protects"), f"{path}.protects"),
            location=m.loc,
        )

    def optional_constraint(self, node: LNode | None, path: str) -> tuple[Constraint | None, bool]:
        if node is None or (isinstance(node, LScalar) and node.value is None):
            return None, True
        c = self.constraint(node, path)
        return c, c is not None

    def rule(self, node: LNode, path: str) -> Rule | None:
        m = self.mapping(node, path, "a rule")
        if m is None:
            return None
        self.check_keys(m, RULE_KEYS, path, "a rule")
        g = m.items.get
        ident = self.string(self.required(m, "id", path), f"{path}.id")
        if ident is not None:
            path = f"rules[{ident}]"
        kind = self.enum(self.required(m, "kind", path), RuleKind, tuple(RuleKind), f"{path}.kind")
        text = self.string(self.required(m, "text", path), f"{path}.text")
        when, ok_when = self.optional_constraint(g("when"), f"{path}.when")
        unless, ok_unless = self.optional_constraint(g("unless"), f"{path}.unless")
        duties_node = g("duties")
        duties: list[Duty] = []
        if duties_node is not None and not (
            isinstance(duties_node, LScalar) and duties_node.value is None
        ):
            if isinstance(duties_node, LSeq):
                for i, d in enumerate(duties_node.items):
                    duty = self.duty(d, f"{path}.duties[{i}]")
                    if duty is not None:
                        duties.append(duty)
            else:
                self.err(
                    duties_node.loc,
                    "duties must be a list",
                    path=f"{path}.duties",
                    expected="a list of duties",
                    found=describe(duties_node),
                )
        confidence = self.enum(g("confidence"), Confidence, tuple(Confidence), f"{path}.confidence")
        if ident is None or kind is None or text is None or not (ok_when and ok_unless):
            return None
        return Rule(
            id=ident,
            kind=kind,
            text=text,
            citation=self.string(g("citation"), f"{path}.citation", allow_null=True),
            source=self.string(g("source"), f"{path}.source", allow_null=True),
            when=when,
            unless=unless,
            duties=tuple(duties),
            exempts=self.strings(g("exempts"), f"{path}.exempts"),
            effective_from=self.date_(g("effective_from"), f"{path}.effective_from"),
            sunset=self.date_(g("sunset"), f"{path}.sunset"),
            confidence=confidence,
            protects=self.strings(g("protects"), f"{path}.protects"),
            notes=self.string(g("notes"), f"{path}.notes", allow_null=True),
            location=m.loc,
        )

    def pack(self, root: LNode, source: str | None) -> Pack | None:
        top = self.mapping(root, "", "a rule pack")
        if top is None:
            return None
        self.check_keys(top, TOP_KEYS, "", "a rule pack")
        meta_node = self.required(top, "pack", "")
        meta = self.meta(meta_node) if meta_node is not None else None
        groups = self.groups(top.items.get("groups"))
        thresholds = self.thresholds(top.items.get("thresholds"))
        rules: list[Rule] = []
        rules_node = self.required(top, "rules", "")
        if rules_node is not None:
            if isinstance(rules_node, LSeq):
                for i, r in enumerate(rules_node.items):
                    rule = self.rule(r, f"rules[{i}]")
                    if rule is not None:
                        rules.append(rule)
            elif not (isinstance(rules_node, LScalar) and rules_node.value is None):
                self.err(
                    rules_node.loc,
                    "rules must be a list",
                    path="rules",
                    expected="a list of rules",
                    found=describe(rules_node),
                )
        if meta is None:
            return None
        return Pack(meta, tuple(rules), groups, thresholds, source)


def _operator(op: str) -> str:
    from accord.policy.ast import Operator

    try:
        return Operator(op)
    except ValueError:
        return op


def parse_constraint(data: LNode, path: str = "when") -> tuple[Constraint | None, list[Diagnostic]]:
    """Parse one located constraint node (used by tools that embed constraints)."""
    p = _Parser()
    c = p.constraint(data, path)
    return c, p.errors


def parse_pack(text: str, *, source: str | None = None) -> ParseResult:
    """Parse pack text into a :class:`ParseResult` (never raises for bad input)."""
    try:
        docs = load_documents(text, source)
    except LocatedError as exc:
        return ParseResult(None, list(exc.diagnostics))
    if len(docs) != 1:
        return ParseResult(
            None,
            [
                Diagnostic(
                    "a pack file holds exactly one document",
                    file=source,
                    line=1,
                    column=1,
                    expected="one YAML/JSON document",
                    found=f"{len(docs)} documents",
                    hint="split the packs into separate files" if docs else "the file is empty",
                )
            ],
        )
    p = _Parser()
    pack = p.pack(docs[0], source)
    return ParseResult(pack, p.errors, p.warnings)


def _raise(result_errors: list[Diagnostic], source: str | None) -> None:
    where = f" {source}" if source else ""
    n = len(result_errors)
    raise PackError(f"invalid rule pack{where}: {n} problem{'s' if n != 1 else ''}", result_errors)


def load_pack_text(text: str, *, source: str | None = None, validate: bool = True) -> Pack:
    """Parse (and by default validate) pack text; raise :class:`PackError` listing every problem."""
    result = parse_pack(text, source=source)
    errors = list(result.errors)
    if result.pack is not None and validate:
        from accord.policy.validate import validate_pack

        report = validate_pack(result.pack)
        errors.extend(report.errors)
    if errors or result.pack is None:
        _raise(errors, source)
    assert result.pack is not None
    return result.pack


def read_text(path: str | Path, error: type[PackError] | Any = PackError) -> str:
    """Read a UTF-8 file, turning OS errors into an :class:`~accord.errors.InputError`."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"no such file: {p}", [Diagnostic("file not found", file=str(p))]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {p}: {exc}", [Diagnostic(str(exc), file=str(p))]) from exc


def load_pack_file(path: str | Path, *, validate: bool = True) -> Pack:
    """Parse (and by default validate) a pack file."""
    return load_pack_text(read_text(path), source=str(path), validate=validate)
