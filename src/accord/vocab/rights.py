"""The rights glossary: data-subject rights and principles, what realises them, what enforces them.

Each entry (``vocab/data/rights.yaml``) is a right (access, erasure, remedy …) or a principle
(purpose limitation, minimisation, security …), with its citations and the *safeguards*
(vocabulary safeguard ids) that realise it. The *rules that enforce it* are computed from rule
packs: every rule, and every duty of a rule, whose ``protects`` names the entry. So a decision's
obligation can say which right it protects, and the glossary which rules stand behind each right.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from accord.errors import Diagnostic, InputError, NotFoundError

if TYPE_CHECKING:
    from accord.policy.ast import Pack

__all__ = [
    "Citation",
    "Enforcement",
    "Right",
    "RightKind",
    "enforcing",
    "get",
    "known",
    "lookup",
    "protected_by",
    "rights",
    "suggest",
]

_DATA = Path(__file__).with_name("data") / "rights.yaml"


class RightKind(StrEnum):
    """A right a person holds, or a principle the processor must follow."""

    RIGHT = "right"
    PRINCIPLE = "principle"


@dataclass(frozen=True, slots=True)
class Citation:
    """A provision and where to read it."""

    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Right:
    """One glossary entry."""

    id: str
    kind: RightKind
    label: str
    description: str
    citations: tuple[Citation, ...]
    safeguards: tuple[str, ...]
    dpv: str | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "description": self.description,
            "citations": [{"text": c.text, "source": c.source} for c in self.citations],
            "safeguards": list(self.safeguards),
            "dpv": self.dpv,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True, slots=True)
class Enforcement:
    """A rule (or one duty of a rule) whose ``protects`` names a glossary entry."""

    pack: str
    rule: str
    kind: str
    citation: str | None
    text: str
    duty: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pack": self.pack,
            "rule": self.rule,
            "duty": self.duty,
            "kind": self.kind,
            "citation": self.citation,
            "text": self.text,
        }


def _bad(message: str, path: str) -> InputError:
    return InputError(
        "the rights glossary is invalid", [Diagnostic(message, file=str(_DATA), path=path)]
    )


@cache
def _load() -> dict[str, Right]:
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("terms"), dict):
        raise _bad("expected a mapping with a `terms` mapping", "terms")
    out: dict[str, Right] = {}
    for rid, body in raw["terms"].items():
        if not isinstance(body, dict):
            raise _bad("expected a mapping", f"terms.{rid}")
        try:
            kind = RightKind(body["kind"])
        except (KeyError, ValueError) as exc:
            raise _bad("kind must be `right` or `principle`", f"terms.{rid}.kind") from exc
        for i, c in enumerate(body.get("citations") or ()):
            if not isinstance(c, dict) or set(c) != {"text", "source"}:
                raise _bad(
                    "a citation is `{text: ..., source: ...}` (quote text holding commas)",
                    f"terms.{rid}.citations[{i}]",
                )
        out[rid] = Right(
            id=rid,
            kind=kind,
            label=str(body["label"]),
            description=" ".join(str(body["description"]).split()),
            citations=tuple(
                Citation(text=str(c["text"]), source=str(c["source"]))
                for c in body.get("citations") or ()
            ),
            safeguards=tuple(body.get("safeguards") or ()),
            dpv=body.get("dpv"),
            aliases=tuple(body.get("aliases") or ()),
        )
    return out


@cache
def _index() -> dict[str, str]:
    """Lower-cased id, alias and label → id."""
    idx: dict[str, str] = {}
    for right in _load().values():
        for key in (right.id, right.label, *right.aliases):
            idx.setdefault(key.casefold(), right.id)
            idx.setdefault(key.casefold().replace(" ", "-"), right.id)
    return idx


def rights() -> Mapping[str, Right]:
    """Every glossary entry, by id, in glossary order."""
    return dict(_load())


def get(term: str) -> Right | None:
    """The entry for an id, alias or label (case-insensitive), or ``None``."""
    rid = _index().get(term.strip().casefold())
    return None if rid is None else _load()[rid]


def known(term: str) -> bool:
    """Whether ``term`` is a glossary id (exactly, as packs write it in ``protects``)."""
    return term in _load()


def suggest(term: str) -> list[str]:
    """Close glossary ids for a misspelt term."""
    keys = sorted(_index())
    hits = difflib.get_close_matches(term.casefold(), keys, n=5, cutoff=0.6)
    out: list[str] = []
    for hit in hits:
        rid = _index()[hit]
        if rid not in out:
            out.append(rid)
    return out[:3]


def lookup(term: str) -> Right:
    """The entry for ``term``; :class:`~accord.errors.NotFoundError` with suggestions if none."""
    right = get(term)
    if right is not None:
        return right
    close = suggest(term)
    hint = f"did you mean {', '.join(close)}?" if close else "run `accord glossary` for the list"
    raise NotFoundError(
        f"no glossary entry {term!r}",
        [Diagnostic("unknown right or principle", found=term, hint=hint)],
    )


def _shipped() -> list[Pack]:
    """The shipped packs, agreements included (read from the package if it has no loader)."""
    from accord import packs as _packs
    from accord.policy.ast import Pack

    loader = getattr(_packs, "shipped", None)
    if loader is not None:
        return list(loader())
    root = Path(_packs.__path__[0])
    return [Pack.from_file(p) for p in sorted(root.rglob("*.yaml"))]


def enforcing(term: str | None = None, packs: Iterable[Pack] | None = None) -> list[Enforcement]:
    """Rules and duties whose ``protects`` names ``term`` (or any entry when ``term`` is None).

    ``packs`` defaults to the shipped packs. Sorted by pack, rule and duty.
    """
    rid: str | None = None
    if term is not None:
        rid = lookup(term).id
    found: list[Enforcement] = []
    for pack in _shipped() if packs is None else packs:
        for rule in pack.rules:
            if (rid is None or rid in rule.protects) and rule.protects:
                found.append(
                    Enforcement(
                        pack=pack.id,
                        rule=rule.id,
                        kind=str(rule.kind),
                        citation=rule.citation,
                        text=rule.text,
                    )
                )
            for duty in rule.duties:
                if duty.protects and (rid is None or rid in duty.protects):
                    found.append(
                        Enforcement(
                            pack=pack.id,
                            rule=rule.id,
                            kind="duty",
                            citation=duty.citation,
                            text=duty.text,
                            duty=duty.id,
                        )
                    )
    found.sort(key=lambda e: (e.pack, e.rule, e.duty or ""))
    return found


def protected_by(packs: Iterable[Pack] | None = None) -> dict[str, list[Enforcement]]:
    """For every glossary id, the rules and duties that protect it (possibly none)."""
    table: dict[str, list[Enforcement]] = {rid: [] for rid in _load()}
    for pack in _shipped() if packs is None else packs:
        for rule in pack.rules:
            for rid in rule.protects:
                table.setdefault(rid, []).append(
                    Enforcement(pack.id, rule.id, str(rule.kind), rule.citation, rule.text)
                )
            for duty in rule.duties:
                for rid in duty.protects:
                    table.setdefault(rid, []).append(
                        Enforcement(pack.id, rule.id, "duty", duty.citation, duty.text, duty.id)
                    )
    for entries in table.values():
        entries.sort(key=lambda e: (e.pack, e.rule, e.duty or ""))
    return table
