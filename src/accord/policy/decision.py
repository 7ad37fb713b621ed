"""The result of deciding a transfer: :class:`Decision` and its parts (frozen, JSON round-trip)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from accord.vocab.certifications import Recognition

__all__ = [
    "STRICTNESS",
    "Decision",
    "Effect",
    "Obligation",
    "Outcome",
    "PackStatus",
    "Reason",
    "Recognition",
    "RuleError",
    "strictest",
]


class Outcome(StrEnum):
    """What a decision says about a transfer."""

    PERMIT = "permit"
    PERMIT_WITH_OBLIGATIONS = "permit_with_obligations"
    DENY = "deny"
    INDETERMINATE = "indeterminate"

    @property
    def exit_code(self) -> int:
        """The CLI exit code: 0 permit (with or without obligations), 3 deny, 4 indeterminate."""
        return {Outcome.DENY: 3, Outcome.INDETERMINATE: 4}.get(self, 0)


#: Rank of each outcome; across packs the highest wins.
STRICTNESS: Mapping[Outcome, int] = {
    Outcome.PERMIT: 0,
    Outcome.PERMIT_WITH_OBLIGATIONS: 1,
    Outcome.INDETERMINATE: 2,
    Outcome.DENY: 3,
}


def strictest(outcomes: list[Outcome] | tuple[Outcome, ...]) -> Outcome:
    """The strictest of ``outcomes`` (``permit`` for none)."""
    best = Outcome.PERMIT
    for o in outcomes:
        if STRICTNESS[o] > STRICTNESS[best]:
            best = o
    return best


class Effect(StrEnum):
    """What a reason did to the decision."""

    DENY = "deny"
    PERMIT = "permit"
    OBLIGATION = "obligation"
    EXEMPTION = "exemption"
    DEFAULT = "default"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something the parties must do for the transfer to go ahead lawfully."""

    id: str
    text: str
    citation: str | None
    source: str | None
    deadline: str | None
    pack: str
    rule: str
    protects: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "text": self.text,
            "citation": self.citation,
            "source": self.source,
            "deadline": self.deadline,
            "pack": self.pack,
            "rule": self.rule,
            "protects": list(self.protects),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Obligation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=data["id"],
            text=data["text"],
            citation=data.get("citation"),
            source=data.get("source"),
            deadline=data.get("deadline"),
            pack=data["pack"],
            rule=data["rule"],
            protects=tuple(data.get("protects") or ()),
        )


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule (or a pack default) that shaped the decision, with its citation."""

    pack: str
    rule: str | None
    citation: str | None
    source: str | None
    effect: Effect
    sentence: str
    confidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pack": self.pack,
            "rule": self.rule,
            "citation": self.citation,
            "source": self.source,
            "effect": str(self.effect),
            "sentence": self.sentence,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        """Inverse of :meth:`to_dict`."""
        return cls(
            pack=data["pack"],
            rule=data.get("rule"),
            citation=data.get("citation"),
            source=data.get("source"),
            effect=Effect(data["effect"]),
            sentence=data["sentence"],
            confidence=data.get("confidence"),
        )


@dataclass(frozen=True, slots=True)
class PackStatus:
    """Whether a pack applied to the transfer, why (not), and what it concluded."""

    id: str
    version: str
    applied: bool
    why: str
    outcome: Outcome | None = None
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "version": self.version,
            "applied": self.applied,
            "why": self.why,
            "outcome": None if self.outcome is None else str(self.outcome),
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PackStatus:
        """Inverse of :meth:`to_dict`."""
        outcome = data.get("outcome")
        return cls(
            id=data["id"],
            version=data["version"],
            applied=bool(data["applied"]),
            why=data["why"],
            outcome=None if outcome is None else Outcome(outcome),
            missing=tuple(data.get("missing") or ()),
        )


@dataclass(frozen=True, slots=True)
class RuleError:
    """A rule that failed during evaluation; it contributed nothing to the decision."""

    pack: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"pack": self.pack, "rule": self.rule, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleError:
        """Inverse of :meth:`to_dict`."""
        return cls(pack=data["pack"], rule=data["rule"], message=data["message"])


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on one transfer against a set of packs.

    Deterministic: the same transfer, packs and ``as_of`` give an identical :meth:`to_dict`.
    """

    transfer_id: str
    as_of: date
    outcome: Outcome
    obligations: tuple[Obligation, ...] = ()
    reasons: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()
    packs: tuple[PackStatus, ...] = ()
    recognitions: tuple[Recognition, ...] = ()
    errors: tuple[RuleError, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape ``accord check --json`` prints and the API returns)."""
        return {
            "transfer_id": self.transfer_id,
            "as_of": self.as_of.isoformat(),
            "outcome": str(self.outcome),
            "obligations": [o.to_dict() for o in self.obligations],
            "reasons": [r.to_dict() for r in self.reasons],
            "missing": list(self.missing),
            "packs": [p.to_dict() for p in self.packs],
            "recognitions": [r.to_dict() for r in self.recognitions],
            "errors": [e.to_dict() for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Inverse of :meth:`to_dict`."""
        return cls(
            transfer_id=data["transfer_id"],
            as_of=date.fromisoformat(data["as_of"]),
            outcome=Outcome(data["outcome"]),
            obligations=tuple(Obligation.from_dict(o) for o in data.get("obligations") or ()),
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons") or ()),
            missing=tuple(data.get("missing") or ()),
            packs=tuple(PackStatus.from_dict(p) for p in data.get("packs") or ()),
            recognitions=tuple(Recognition.from_dict(r) for r in data.get("recognitions") or ()),
            errors=tuple(RuleError.from_dict(e) for e in data.get("errors") or ()),
        )

    def rules(self) -> tuple[str, ...]:
        """``pack/rule`` ids of the rules that decided (reasons with a rule)."""
        return tuple(f"{r.pack}/{r.rule}" for r in self.reasons if r.rule is not None)


_DECISION_FIELDS = (
    "transfer_id",
    "as_of",
    "outcome",
    "obligations",
    "reasons",
    "missing",
    "packs",
    "recognitions",
    "errors",
)
_SETTERS = tuple(Decision.__dict__[name].__set__ for name in _DECISION_FIELDS)


def _decision(
    transfer_id: str,
    as_of: date,
    outcome: Outcome,
    obligations: tuple[Obligation, ...],
    reasons: tuple[Reason, ...],
    missing: tuple[str, ...],
    packs: tuple[PackStatus, ...],
    recognitions: tuple[Recognition, ...],
    errors: tuple[RuleError, ...],
) -> Decision:
    """``Decision(...)`` with every field given, for the engine's hot path.

    The frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; this sets
    the slots directly (same object, equal to one built by ``__init__``: a test checks it).
    """
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = _SETTERS
    d = _new(Decision)
    s0(d, transfer_id)
    s1(d, as_of)
    s2(d, outcome)
    s3(d, obligations)
    s4(d, reasons)
    s5(d, missing)
    s6(d, packs)
    s7(d, recognitions)
    s8(d, errors)
    return d


_new = object.__new__
