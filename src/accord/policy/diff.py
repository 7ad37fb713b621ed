"""What changed between two versions of a rule pack, and which decisions change with it.

:func:`diff_packs` compares two packs structurally (locations ignored): metadata field by field,
groups and thresholds by name, rules by id — added, removed, and changed field by field (a changed
condition is shown in a compact one-line form). :func:`decision_changes` decides a set of transfers
under both versions and reports every transfer whose outcome, deciding rules, obligations or missing
facts differ: the practical question a negotiator asks of a new draft.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any

from accord.policy.ast import Atomic, Constraint, Logical, LogicalOp, Pack, Rule, ThresholdRef

if TYPE_CHECKING:
    from accord.policy.transfer import Transfer

__all__ = [
    "DecisionChange",
    "FieldChange",
    "PackDiff",
    "RuleChange",
    "decision_changes",
    "diff_packs",
    "render_constraint",
]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field whose value differs: ``old`` and ``new`` are JSON-ready (``None`` = absent).

    For a condition whose top-level connective is unchanged (an ``or`` of clauses, say),
    ``added`` and ``removed`` list the clauses that came and went, rendered one per line.
    """

    field: str
    old: Any
    new: Any
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {"field": self.field, "old": self.old, "new": self.new}
        if self.added or self.removed:
            data["added"] = list(self.added)
            data["removed"] = list(self.removed)
        return data


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A rule present in both versions whose fields differ."""

    rule: str
    changes: tuple[FieldChange, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rule": self.rule, "changes": [c.to_dict() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class PackDiff:
    """The differences between two versions of a pack."""

    old_id: str
    new_id: str
    old_version: str
    new_version: str
    metadata: tuple[FieldChange, ...]
    groups: tuple[FieldChange, ...]
    thresholds: tuple[FieldChange, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[RuleChange, ...]

    @property
    def empty(self) -> bool:
        """True when the two packs are structurally identical."""
        return not (
            self.metadata
            or self.groups
            or self.thresholds
            or self.added
            or self.removed
            or self.changed
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``accord packs diff --json`` prints under ``diff``)."""
        return {
            "old": {"id": self.old_id, "version": self.old_version},
            "new": {"id": self.new_id, "version": self.new_version},
            "metadata": [c.to_dict() for c in self.metadata],
            "groups": [c.to_dict() for c in self.groups],
            "thresholds": [c.to_dict() for c in self.thresholds],
            "rules": {
                "added": list(self.added),
                "removed": list(self.removed),
                "changed": [c.to_dict() for c in self.changed],
            },
        }


@dataclass(frozen=True, slots=True)
class DecisionChange:
    """A transfer decided differently under the old and the new pack."""

    transfer: str
    old_outcome: str
    new_outcome: str
    old_rules: tuple[str, ...]
    new_rules: tuple[str, ...]
    obligations_added: tuple[str, ...]
    obligations_removed: tuple[str, ...]
    old_missing: tuple[str, ...]
    new_missing: tuple[str, ...]

    @property
    def outcome_changed(self) -> bool:
        """Whether the outcome itself (not only its reasons) differs."""
        return self.old_outcome != self.new_outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "transfer": self.transfer,
            "old_outcome": self.old_outcome,
            "new_outcome": self.new_outcome,
            "outcome_changed": self.outcome_changed,
            "old_rules": list(self.old_rules),
            "new_rules": list(self.new_rules),
            "obligations_added": list(self.obligations_added),
            "obligations_removed": list(self.obligations_removed),
            "old_missing": list(self.old_missing),
            "new_missing": list(self.new_missing),
        }


def _fmt_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_fmt_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render_constraint(c: Constraint | None) -> str | None:
    """A compact one-line rendering, e.g. ``(exporter.country eq US and not (x gt 3))``."""
    if c is None:
        return None
    if isinstance(c, Atomic):
        return f"{c.fact} {c.op} {_fmt_value(c.value)}"
    if isinstance(c, ThresholdRef):
        return f"threshold {c.name}"
    assert isinstance(c, Logical)
    if c.op is LogicalOp.NOT:
        return f"not ({render_constraint(c.args[0])})"
    parts = [render_constraint(a) or "" for a in c.args]
    return "(" + f" {c.op} ".join(parts) + ")"


def _plain(value: Any) -> Any:
    """JSON-ready, location-free form of an AST value."""
    if isinstance(value, Atomic | Logical | ThresholdRef):
        return render_constraint(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare and f.name != "location"
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _clauses(a: Any, b: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Clauses added and removed between two conditions sharing a top-level ``and``/``or``."""
    if not (isinstance(a, Logical) and isinstance(b, Logical)) or a.op != b.op:
        return (), ()
    if a.op is LogicalOp.NOT:
        return (), ()
    old = [render_constraint(c) or "" for c in a.args]
    new = [render_constraint(c) or "" for c in b.args]
    return tuple(c for c in new if c not in old), tuple(c for c in old if c not in new)


def _field_changes(old: Any, new: Any, *, prefix: str = "") -> list[FieldChange]:
    out: list[FieldChange] = []
    for f in dataclasses.fields(old):
        if not f.compare or f.name == "location":
            continue
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            added, removed = _clauses(a, b)
            out.append(FieldChange(f"{prefix}{f.name}", _plain(a), _plain(b), added, removed))
    return out


def _named_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], *, kind: str
) -> list[FieldChange]:
    """Changes between two name → item mappings; items present in both are compared field by
    field when they are dataclasses (``thresholds.NAME.constraint``)."""
    out: list[FieldChange] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if a is not None and b is not None and dataclasses.is_dataclass(a):
            out.extend(_field_changes(a, b, prefix=f"{kind}.{name}."))
        else:
            out.append(
                FieldChange(
                    f"{kind}.{name}",
                    None if a is None else _plain(a),
                    None if b is None else _plain(b),
                )
            )
    return out


def _rule_changes(old: Rule, new: Rule) -> RuleChange | None:
    changes: list[FieldChange] = []
    for change in _field_changes(old, new):
        if change.field == "duties":
            # Duties are matched by id and compared field by field, like rules.
            changes.extend(
                _named_changes(
                    {d.id: d for d in old.duties}, {d.id: d for d in new.duties}, kind="duties"
                )
            )
        else:
            changes.append(change)
    return RuleChange(old.id, tuple(changes)) if changes else None


def diff_packs(old: Pack, new: Pack) -> PackDiff:
    """Compare two packs (usually two drafts or versions of the same one), ignoring locations.

    Rules are matched by id: ``added`` and ``removed`` keep source order; ``changed`` lists, per
    rule present in both, every field that differs (conditions rendered one per line).
    """
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    changed: list[RuleChange] = []
    for rule in old.rules:
        other = new_rules.get(rule.id)
        if other is not None:
            change = _rule_changes(rule, other)
            if change is not None:
                changed.append(change)
    return PackDiff(
        old_id=old.id,
        new_id=new.id,
        old_version=old.version,
        new_version=new.version,
        metadata=tuple(_field_changes(old.meta, new.meta)),
        groups=tuple(
            _named_changes(
                {g.name: g.members for g in old.groups},
                {g.name: g.members for g in new.groups},
                kind="groups",
            )
        ),
        thresholds=tuple(
            _named_changes(
                {t.name: t for t in old.thresholds},
                {t.name: t for t in new.thresholds},
                kind="thresholds",
            )
        ),
        added=tuple(r.id for r in new.rules if r.id not in old_rules),
        removed=tuple(r.id for r in old.rules if r.id not in new_rules),
        changed=tuple(changed),
    )


def _summary(decision: Any, pack_id: str) -> tuple[str, tuple[str, ...], set[str], tuple[str, ...]]:
    data = decision.to_dict()
    outcome = str(data["outcome"])
    rules = tuple(
        sorted(
            {
                str(r.get("rule") or "(default)")
                for r in data.get("reasons", [])
                if r.get("pack") in {pack_id, None}
            }
        )
    )
    obligations = {str(o["id"]) for o in data.get("obligations", [])}
    missing = tuple(str(m) for m in data.get("missing", []))
    return outcome, rules, obligations, missing


def decision_changes(
    old: Pack,
    new: Pack,
    transfers: Iterable[Transfer],
    *,
    as_of: date | None = None,
    context: Sequence[Pack] = (),
) -> list[DecisionChange]:
    """Decide every transfer under ``old`` and under ``new`` (each alongside ``context`` packs) and
    return those whose outcome, deciding rules, obligations or missing facts differ, in input order.
    """
    from accord.policy.decide import decide

    out: list[DecisionChange] = []
    for transfer in transfers:
        before = _summary(decide(transfer, [*context, old], as_of=as_of), old.id)
        after = _summary(decide(transfer, [*context, new], as_of=as_of), new.id)
        if before == after:
            continue
        out.append(
            DecisionChange(
                transfer=str(transfer.id),
                old_outcome=before[0],
                new_outcome=after[0],
                old_rules=before[1],
                new_rules=after[1],
                obligations_added=tuple(sorted(after[2] - before[2])),
                obligations_removed=tuple(sorted(before[2] - after[2])),
                old_missing=before[3],
                new_missing=after[3],
            )
        )
    return out
