"""Certification schemes, their validity rules, and mutual recognition between them.

An importer may hold certifications (``importer.certifications`` in a transfer document: a scheme
id, a status and an optional ``valid_until``). Which of them *count* on a given day, and which other
schemes they satisfy through recognition, is decided here, from the data file
``vocab/data/certifications.yaml``:

- a certification counts only when its status is ``active``, its ``valid_until`` (if any) is on or
  after the day, and every scheme it ``requires`` is also held and counts (the UK Extension to the
  DPF needs an active EU-U.S. DPF certification);
- a counted scheme satisfies itself and every scheme the recognition matrix maps it to (an APEC CBPR
  certification is recognised as a Global CBPR certification), and each such step is reported as a
  :class:`Recognition` carrying its citation, so decisions can cite what they relied on;
- a certification whose status is ``unknown`` counts for nothing, but :func:`assess` reports the
  schemes it *might* satisfy as unknown, so the engine can say that the outcome depends on it.

The engine calls :func:`effective_schemes` (and, when it wants the unknowns, :func:`assess`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from accord.errors import Diagnostic, InputError

__all__ = [
    "Assessment",
    "NonRecognition",
    "Recognition",
    "Scheme",
    "assess",
    "effective_schemes",
    "not_recognised",
    "recognitions",
    "scheme",
    "schemes",
]

_DATA = Path(__file__).with_name("data") / "certifications.yaml"


@dataclass(frozen=True, slots=True)
class Scheme:
    """A certification scheme an importer can hold, with its validity rules."""

    id: str
    name: str
    administrator: str
    holders: tuple[str, ...]
    validity: str
    max_validity: str | None
    requires: tuple[str, ...]
    citation: str
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class Recognition:
    """Holding ``held`` satisfies ``satisfied`` under ``regime``, for the cited reason."""

    held: str
    satisfied: str
    regime: str
    citation: str
    source: str = ""
    confidence: str = "confirmed"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form, as decisions carry it."""
        return {
            "held": self.held,
            "satisfied": self.satisfied,
            "regime": self.regime,
            "citation": self.citation,
            "source": self.source,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recognition:
        """Inverse of :meth:`to_dict`."""
        return cls(
            held=data["held"],
            satisfied=data["satisfied"],
            regime=data["regime"],
            citation=data["citation"],
            source=data.get("source", ""),
            confidence=data.get("confidence", "confirmed"),
        )


@dataclass(frozen=True, slots=True)
class NonRecognition:
    """``scheme`` is *not* a transfer route under ``regime``, for the cited reason."""

    scheme: str
    regime: str
    citation: str
    source: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a set of certifications amounts to on one day.

    ``effective``: scheme ids that count (held and valid, plus those satisfied by recognition).
    ``unknown``: scheme ids that would count if an ``unknown`` status turned out ``active``
    (never overlapping ``effective``). ``recognitions``: the cross-scheme recognitions relied on.
    """

    effective: frozenset[str]
    unknown: frozenset[str]
    recognitions: tuple[Recognition, ...]


class _Registry:
    __slots__ = ("not_recognised", "recognitions", "schemes")

    def __init__(
        self,
        schemes: dict[str, Scheme],
        recognitions: tuple[Recognition, ...],
        not_recognised: tuple[NonRecognition, ...],
    ) -> None:
        self.schemes = schemes
        self.recognitions = recognitions
        self.not_recognised = not_recognised


def _fail(message: str, path: str) -> InputError:
    return InputError(
        "the certification registry is invalid",
        [Diagnostic(message, file=str(_DATA), path=path)],
    )


@cache
def _registry() -> _Registry:
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise _fail("expected a mapping at the top level", "$")
    schemes: dict[str, Scheme] = {}
    for sid, body in (raw.get("schemes") or {}).items():
        if not isinstance(body, dict):
            raise _fail("expected a mapping", f"schemes.{sid}")
        schemes[sid] = Scheme(
            id=sid,
            name=str(body["name"]),
            administrator=str(body["administrator"]),
            holders=tuple(body.get("holders") or ()),
            validity=str(body["validity"]),
            max_validity=body.get("max_validity"),
            requires=tuple(body.get("requires") or ()),
            citation=str(body["citation"]),
            source=str(body["source"]),
            confidence=str(body.get("confidence", "confirmed")),
        )
    recs: list[Recognition] = []
    for i, body in enumerate(raw.get("recognitions") or ()):
        rec = Recognition(
            held=str(body["held"]),
            satisfied=str(body["satisfies"]),
            regime=str(body["regime"]),
            citation=" ".join(str(body["citation"]).split()),
            source=str(body["source"]),
            confidence=str(body.get("confidence", "confirmed")),
        )
        for name in (rec.held, rec.satisfied):
            if name not in schemes:
                raise _fail(f"unknown scheme {name!r}", f"recognitions[{i}]")
        recs.append(rec)
    nots: list[NonRecognition] = []
    for i, body in enumerate(raw.get("not_recognised") or ()):
        if body["scheme"] not in schemes:
            raise _fail(f"unknown scheme {body['scheme']!r}", f"not_recognised[{i}]")
        nots.append(
            NonRecognition(
                scheme=str(body["scheme"]),
                regime=str(body["regime"]),
                citation=" ".join(str(body["citation"]).split()),
                source=str(body["source"]),
            )
        )
    for sid, sch in schemes.items():
        for req in sch.requires:
            if req not in schemes:
                raise _fail(f"unknown required scheme {req!r}", f"schemes.{sid}.requires")
    return _Registry(schemes, tuple(recs), tuple(nots))


def schemes() -> Mapping[str, Scheme]:
    """Every known scheme, by id."""
    return dict(_registry().schemes)


def scheme(scheme_id: str) -> Scheme | None:
    """The scheme with this id, or ``None``."""
    return _registry().schemes.get(scheme_id)


def recognitions(regime: str | None = None) -> tuple[Recognition, ...]:
    """The recognition matrix (optionally only the entries made under ``regime``)."""
    recs = _registry().recognitions
    return recs if regime is None else tuple(r for r in recs if r.regime == regime)


def not_recognised(regime: str | None = None) -> tuple[NonRecognition, ...]:
    """Schemes recorded as *not* being a transfer route (optionally under one regime)."""
    nots = _registry().not_recognised
    return nots if regime is None else tuple(n for n in nots if n.regime == regime)


def _get(cert: Any, name: str) -> Any:
    if isinstance(cert, Mapping):
        return cert.get(name)
    return getattr(cert, name, None)


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(
            "a certification's valid_until is not a date",
            [Diagnostic("not an ISO date", expected="YYYY-MM-DD", found=str(value))],
        ) from exc


def _expand(held: Iterable[str]) -> tuple[frozenset[str], list[Recognition]]:
    """Close ``held`` under the recognition matrix; return it and the cross-scheme steps used."""
    out = set(held)
    used: list[Recognition] = []
    frontier = sorted(out)
    while frontier:
        nxt: list[str] = []
        for name in frontier:
            for rec in _registry().recognitions:
                if rec.held == name and rec.satisfied != name:
                    if rec not in used:
                        used.append(rec)
                    if rec.satisfied not in out:
                        out.add(rec.satisfied)
                        nxt.append(rec.satisfied)
        frontier = sorted(nxt)
    return frozenset(out), used


def assess(certs: Iterable[Any] | None, on: date) -> Assessment:
    """Which schemes ``certs`` (mappings or objects with ``scheme``/``status``/``valid_until``)
    amount to on day ``on``: the effective ones, the unknown ones and the recognitions used.

    Certifications naming a scheme outside the registry count as held (and satisfy themselves) so
    a pack may refer to a scheme the registry does not describe yet.
    """
    active: set[str] = set()
    maybe: set[str] = set()
    for cert in certs or ():
        name = _text(_get(cert, "scheme"))
        status = _text(_get(cert, "status")).lower()
        until = _as_date(_get(cert, "valid_until"))
        if not name or (until is not None and until < on):
            continue
        if status == "active":
            active.add(name)
        elif status in {"unknown", ""}:
            maybe.add(name)
    reg = _registry().schemes

    def requirements_met(pool: set[str]) -> set[str]:
        # Drop schemes whose prerequisites are not in the pool, until nothing changes.
        kept = set(pool)
        changed = True
        while changed:
            changed = False
            for name in sorted(kept):
                sch = reg.get(name)
                if sch is not None and any(req not in kept for req in sch.requires):
                    kept.discard(name)
                    changed = True
        return kept

    held = requirements_met(active)
    possible = requirements_met(active | maybe)
    effective, used = _expand(held)
    possible_all, _ = _expand(possible)
    used.sort(key=lambda r: (r.held, r.satisfied, r.regime))
    return Assessment(
        effective=effective,
        unknown=frozenset(possible_all - effective),
        recognitions=tuple(used),
    )


def effective_schemes(
    certs: Iterable[Any] | None, on: date
) -> tuple[frozenset[str], list[Recognition]]:
    """The schemes ``certs`` satisfy on day ``on`` and the recognitions relied on to get there.

    Only ``active`` certifications whose ``valid_until`` is absent or not before ``on`` (and whose
    required schemes also count) are held; held schemes are expanded through the recognition
    matrix. A certification with status ``unknown`` yields nothing here (see :func:`assess`).
    """
    result = assess(certs, on)
    return result.effective, list(result.recognitions)
