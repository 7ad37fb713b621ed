"""The rule-pack abstract syntax tree: frozen, slotted values with source locations.

Every node carries an optional :class:`Location`. Locations never take part in equality, so a pack
parsed from a file equals the same pack built in code or parsed back from the printer's output.

The tree is purely structural: the parser (:mod:`accord.policy.syntax`) builds it, the validator
(:mod:`accord.policy.validate`) checks its meaning, the compiler (:mod:`accord.policy.compile`)
turns it into closures. Operators are kept as strings (known ones as :class:`Operator` members,
which compare equal to their text) so the validator can report an unknown operator with its
location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from accord.errors import Diagnostic

__all__ = [
    "Atomic",
    "Confidence",
    "Constraint",
    "Duty",
    "Group",
    "Location",
    "Logical",
    "LogicalOp",
    "Operator",
    "Pack",
    "PackDefault",
    "PackKind",
    "PackMeta",
    "Rule",
    "RuleKind",
    "Threshold",
    "ThresholdRef",
    "Value",
]

#: A constraint's right operand: a scalar, a date, or a (nested) tuple of them. ``"group:NAME"``
#: strings stand for the members of a group.
Value: TypeAlias = Union[str, int, float, bool, date, tuple["Value", ...], None]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node starts in its source: 1-based line and column."""

    file: str | None
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file or '<text>'}:{self.line}:{self.column}"

    def diagnostic(
        self,
        message: str,
        *,
        path: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> Diagnostic:
        """A :class:`~accord.errors.Diagnostic` located here."""
        from accord.errors import Diagnostic

        return Diagnostic(
            message,
            file=self.file,
            line=self.line,
            column=self.column,
            path=path,
            expected=expected,
            found=found,
            hint=hint,
        )


class RuleKind(StrEnum):
    """What a rule does when its condition holds."""

    PERMISSION = "permission"
    PROHIBITION = "prohibition"
    OBLIGATION = "obligation"
    EXEMPTION = "exemption"


class Operator(StrEnum):
    """ODRL 2.2 operators understood in atomic constraints."""

    EQ = "eq"
    NEQ = "neq"
    LT = "lt"
    LTEQ = "lteq"
    GT = "gt"
    GTEQ = "gteq"
    IS_A = "isA"
    IS_ANY_OF = "isAnyOf"
    IS_ALL_OF = "isAllOf"
    IS_NONE_OF = "isNoneOf"


class LogicalOp(StrEnum):
    """Logical connectives: ``and``, ``or``, ``xone`` (exactly one) and ``not``."""

    AND = "and"
    OR = "or"
    XONE = "xone"
    NOT = "not"


class Confidence(StrEnum):
    """How well the encoded facts were checked against the official text."""

    CONFIRMED = "confirmed"
    SECONDARY = "secondary"
    UNCERTAIN = "uncertain"


class PackKind(StrEnum):
    """A statute/regulation or a negotiated agreement."""

    REGULATION = "regulation"
    AGREEMENT = "agreement"


class PackDefault(StrEnum):
    """A pack's outcome when it applies and no rule decides."""

    PERMIT = "permit"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Atomic:
    """``{fact: PATH, op: OP, value: VALUE}``."""

    fact: str
    op: str
    value: Value
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Logical:
    """``{and|or|xone: [...]}`` or ``{not: C}`` (``args`` then holds exactly one constraint)."""

    op: LogicalOp
    args: tuple[Constraint, ...]
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ThresholdRef:
    """``{threshold: NAME}``: evaluates the pack's named threshold."""

    name: str
    location: Location | None = field(default=None, compare=False, repr=False)


Constraint: TypeAlias = Atomic | Logical | ThresholdRef


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of values, usable as ``group:NAME``."""

    name: str
    members: tuple[str, ...]
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A named, cited constraint (usually one atomic comparison on a count)."""

    name: str
    constraint: Constraint
    citation: str | None = None
    source: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Duty:
    """An obligation attached to a permission or obligation rule."""

    id: str
    text: str
    citation: str | None = None
    source: str | None = None
    deadline: str | None = None
    protects: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack."""

    id: str
    kind: RuleKind
    text: str
    citation: str | None = None
    source: str | None = None
    when: Constraint | None = None
    unless: Constraint | None = None
    duties: tuple[Duty, ...] = ()
    exempts: tuple[str, ...] = ()
    effective_from: date | None = None
    sunset: date | None = None
    confidence: Confidence | None = None
    protects: tuple[str, ...] = ()
    notes: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PackMeta:
    """The ``pack:`` block: identity, window, default and scope."""

    id: str
    title: str
    kind: PackKind
    jurisdiction: str
    version: str
    effective_from: date
    instrument: str | None = None
    sunset: date | None = None
    review_interval: str | None = None
    parties: tuple[str, ...] = ()
    confidence: Confidence = Confidence.CONFIRMED
    default: PackDefault = PackDefault.PERMIT
    default_citation: str | None = None
    sources: tuple[str, ...] = ()
    scope: Constraint | None = None
    notes: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Pack:
    """A rule pack: metadata, named groups and thresholds, and rules (in source order)."""

    meta: PackMeta
    rules: tuple[Rule, ...] = ()
    groups: tuple[Group, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    source: str | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        """The pack id (``meta.id``)."""
        return self.meta.id

    @property
    def version(self) -> str:
        """The pack version (``meta.version``)."""
        return self.meta.version

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or ``None``."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def group(self, name: str) -> Group | None:
        """The pack's own group with this name, or ``None``."""
        return next((g for g in self.groups if g.name == name), None)

    def threshold(self, name: str) -> Threshold | None:
        """The named threshold, or ``None``."""
        return next((t for t in self.thresholds if t.name == name), None)

    @classmethod
    def from_file(cls, path: str | Path, *, validate: bool = True) -> Pack:
        """Parse (and by default validate) a pack file; raise ``PackError`` with every problem."""
        from accord.policy.syntax import load_pack_file

        return load_pack_file(path, validate=validate)

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None, validate: bool = True) -> Pack:
        """Parse (and by default validate) pack text; ``source`` names it in diagnostics."""
        from accord.policy.syntax import load_pack_text

        return load_pack_text(text, source=source, validate=validate)
