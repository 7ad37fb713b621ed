"""The vocabulary: typed access to the terms in ``vocab/data/*.yaml``.

Every term has a kind (``category``, ``purpose``, ``safeguard``, ``mechanism``, ``party_kind``,
``role``, ``transaction``, ``exemption``, ``country``), an id unique within its kind, a label, a
description, optional parents (the hierarchy is a DAG), an optional W3C DPV concept, an optional
citation and a confidence. Countries are gathered into named groups (``eu``,
``countries-of-concern`` …).

The data is read once. ``is_a`` answers from precomputed ancestor sets, so it costs one dict lookup
and one set membership test: the engine calls it on its hot path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from accord.errors import AccordError, Diagnostic, NotFoundError

__all__ = ["DPV_PREFIXES", "Group", "Kind", "Term", "Vocabulary"]

_DATA = Path(__file__).with_name("data")
# The vocabulary's own data files (other modules keep theirs in the same folder).
_FILES = (
    "categories.yaml",
    "purposes.yaml",
    "safeguards.yaml",
    "mechanisms.yaml",
    "parties.yaml",
    "transactions.yaml",
    "exemptions.yaml",
    "countries.yaml",
)
_GROUPS_FILE = "groups.yaml"

#: CURIE prefixes used in the data files, expanded to W3C DPV 2.2 namespaces.
DPV_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "dpv": "https://w3id.org/dpv#",
        "pd": "https://w3id.org/dpv/pd#",
        "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    }
)

_GROUP_PREFIX = "group:"


class Kind(StrEnum):
    """The kinds of term the vocabulary holds."""

    CATEGORY = "category"
    PURPOSE = "purpose"
    SAFEGUARD = "safeguard"
    MECHANISM = "mechanism"
    PARTY_KIND = "party_kind"
    ROLE = "role"
    TRANSACTION = "transaction"
    EXEMPTION = "exemption"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class Term:
    """One vocabulary term."""

    kind: Kind
    id: str
    label: str
    description: str = ""
    parents: tuple[str, ...] = ()
    dpv: str | None = None
    citation: str | None = None
    confidence: str = "confirmed"
    components: tuple[str, ...] = ()

    def dpv_iri(self) -> str | None:
        """The full DPV IRI of this term's concept, or ``None``."""
        return _expand(self.dpv) if self.dpv else None

    def __str__(self) -> str:
        return f"{self.id} ({self.label}): {self.description}" if self.description else self.id


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of countries."""

    name: str
    label: str
    members: frozenset[str]
    description: str = ""
    citation: str | None = None


def _expand(curie: str) -> str:
    prefix, sep, local = curie.partition(":")
    if sep and prefix in DPV_PREFIXES:
        return DPV_PREFIXES[prefix] + local
    return curie


def _broken(file: str, message: str, *, path: str | None = None) -> AccordError:
    return AccordError(
        "the shipped vocabulary is broken",
        [Diagnostic(message, file=f"accord/vocab/data/{file}", path=path)],
    )


class Vocabulary:
    """Terms, their hierarchy, DPV mapping and country groups. Use the shared :data:`VOCAB`."""

    __slots__ = (
        "_ancestors",
        "_by_kind",
        "_by_kind_terms",
        "_descendants",
        "_group_index",
        "_groups",
        "_terms",
    )

    def __init__(self, terms: Iterable[Term], groups: Iterable[Group]) -> None:
        # Ids are unique within a kind; a few are shared across kinds ("research" is both a
        # purpose and a party kind). Kind-free queries look through the kinds in ``Kind`` order.
        self._by_kind_terms: dict[Kind, dict[str, Term]] = {kind: {} for kind in Kind}
        for term in terms:
            table = self._by_kind_terms[term.kind]
            if term.id in table:
                raise _broken(f"{term.kind}", f"term {term.id!r} is defined twice", path=term.id)
            table[term.id] = term
        self._terms: dict[str, Term] = {}
        for table in reversed(list(self._by_kind_terms.values())):
            self._terms.update(table)
        self._by_kind: dict[Kind, frozenset[str]] = {
            k: frozenset(v) for k, v in self._by_kind_terms.items()
        }
        self._groups: Mapping[str, Group] = MappingProxyType({g.name: g for g in groups})
        self._group_index: dict[str, frozenset[str]] = {}
        for g in self._groups.values():
            self._group_index[g.name] = g.members
            self._group_index[_GROUP_PREFIX + g.name] = g.members
        self._check()
        self._check_acyclic()
        self._ancestors: dict[str, frozenset[str]] = {}
        for kind, table in self._by_kind_terms.items():
            for term_id in table:
                closure = self._closure(kind, term_id)
                self._ancestors[term_id] = self._ancestors.get(term_id, frozenset()) | closure
        desc: dict[str, set[str]] = {t: set() for t in self._terms}
        for term_id, ancestors in self._ancestors.items():
            for ancestor in ancestors:
                desc[ancestor].add(term_id)
        self._descendants = {k: frozenset(v) for k, v in desc.items()}

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_directory(cls, directory: Path) -> Vocabulary:
        """Load the vocabulary's data files from ``directory``."""
        terms: list[Term] = []
        for name in _FILES:
            terms.extend(_read_terms(directory / name))
        groups = _read_groups(directory / _GROUPS_FILE)
        return cls(terms, groups)

    @classmethod
    def shipped(cls) -> Vocabulary:
        """The vocabulary shipped with Accord."""
        return cls.from_directory(_DATA)

    def _all(self) -> Iterable[Term]:
        for table in self._by_kind_terms.values():
            yield from table.values()

    def _check(self) -> None:
        for term in self._all():
            for parent in term.parents:
                if parent not in self._by_kind_terms[term.kind]:
                    message = f"{term.id}: parent {parent!r} is not a {term.kind}"
                    raise _broken(term.kind, message, path=term.id)
            for part in term.components:
                if part not in self._by_kind_terms[term.kind]:
                    raise _broken(term.kind, f"{term.id}: unknown component {part!r}", path=term.id)
        countries = self._by_kind[Kind.COUNTRY]
        for group in self._groups.values():
            unknown = sorted(group.members - countries)
            if unknown:
                raise _broken("groups", f"{group.name}: not ISO 3166-1 codes: {unknown}")

    def _closure(self, kind: Kind, term_id: str) -> frozenset[str]:
        table = self._by_kind_terms[kind]
        seen: set[str] = set()
        stack = [term_id]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(table[current].parents)
        return frozenset(seen)

    def _check_acyclic(self) -> None:
        for kind, table in self._by_kind_terms.items():
            _check_acyclic(kind, table)

    # -- queries -----------------------------------------------------------------------------------

    def is_a(self, term: str, ancestor: str) -> bool:
        """Whether ``term`` is ``ancestor`` or (transitively) below it; for a country, whether it is
        a member of the group named ``ancestor`` (written ``eu`` or ``group:eu``; group names are
        lower case). Reflexive for any string, known or not. The engine calls this on its hot
        path: at most two dict lookups."""
        if term == ancestor:
            return True
        ancestors = self._ancestors.get(term)
        if ancestors is not None and ancestor in ancestors:
            return True
        members = self._group_index.get(ancestor)
        return members is not None and term in members

    def ancestors(self, term: str) -> frozenset[str]:
        """``term`` and every term above it (``{term}`` for an unknown term)."""
        return self._ancestors.get(term, frozenset({term}))

    def descendants(self, term: str) -> frozenset[str]:
        """``term`` and every term below it; for a group name, its members."""
        found = self._descendants.get(term)
        if found is not None:
            return found
        group = self._groups.get(term.removeprefix(_GROUP_PREFIX).lower())
        return group.members if group is not None else frozenset({term})

    def known(self, kind: str, term: str) -> bool:
        """Whether ``term`` is a term of ``kind``. An unknown kind knows no terms."""
        try:
            return term in self._by_kind[Kind(kind)]
        except ValueError:
            return False

    def terms(self, kind: str) -> frozenset[str]:
        """Every term id of ``kind``."""
        return self._by_kind[self._kind(kind)]

    def kinds_of(self, term: str) -> tuple[Kind, ...]:
        """The kinds ``term`` is a term of (usually one; empty when it is unknown)."""
        return tuple(kind for kind, table in self._by_kind_terms.items() if term in table)

    def group(self, name: str) -> frozenset[str]:
        """The members of the group ``name`` (``eu`` or ``group:eu``, any case)."""
        key = name.removeprefix(_GROUP_PREFIX).lower()
        found = self._groups.get(key)
        if found is None:
            raise NotFoundError(
                f"no country group named {name!r}",
                [
                    Diagnostic(
                        f"unknown group {name!r}",
                        expected="one of " + ", ".join(sorted(self._groups)),
                        found=name,
                        hint=_did_you_mean(difflib.get_close_matches(key, self._groups, n=3)),
                    )
                ],
            )
        return found.members

    def groups(self) -> Mapping[str, frozenset[str]]:
        """Every group with its members."""
        return MappingProxyType({name: g.members for name, g in self._groups.items()})

    def group_info(self, name: str) -> Group:
        """A group with its label, description and citation."""
        self.group(name)
        return self._groups[name.removeprefix(_GROUP_PREFIX).lower()]

    def dpv(self, term: str) -> str | None:
        """The W3C DPV IRI for ``term``, where one exists."""
        found = self._terms.get(term)
        return found.dpv_iri() if found is not None else None

    def label(self, term: str) -> str:
        """A human label for ``term`` (a group's label for a group; the id itself if unknown)."""
        found = self._terms.get(term)
        if found is not None:
            return found.label
        group = self._groups.get(term.removeprefix(_GROUP_PREFIX).lower())
        return group.label if group is not None else term

    def describe(self, kind: str, term: str) -> Term:
        """The full :class:`Term`; raises :class:`~accord.errors.NotFoundError` with suggestions."""
        found = self._by_kind_terms[self._kind(kind)].get(term)
        if found is None:
            raise NotFoundError(
                f"unknown {kind} {term!r}",
                [
                    Diagnostic(
                        f"{term!r} is not a {kind} in the vocabulary",
                        expected=f"a {kind} id (see docs/vocabulary.md)",
                        found=term,
                        hint=_did_you_mean(self.suggest(kind, term)),
                    )
                ],
            )
        return found

    def components(self, term: str) -> tuple[str, ...]:
        """The parts of a composite safeguard (empty when it has none)."""
        found = self._by_kind_terms[Kind.SAFEGUARD].get(term)
        return found.components if found is not None else ()

    def satisfied(self, term: str, given: Iterable[str]) -> bool:
        """Whether the safeguards ``given`` satisfy ``term``: ``term`` (or something below it) is
        given, or every one of its components is."""
        held = set(given)
        if any(self.is_a(g, term) for g in held):
            return True
        parts = self.components(term)
        return bool(parts) and all(self.satisfied(p, held) for p in parts)

    def suggest(self, kind: str, term: str) -> list[str]:
        """Close matches among the terms of ``kind``, best first (for "did you mean …")."""
        pool = self.terms(kind)
        if not term:
            return []
        exact = [t for t in pool if t.lower() == term.lower()]
        if exact:
            return exact
        if self._kind(kind) is Kind.COUNTRY:
            wanted = term.lower()
            countries = self._by_kind_terms[Kind.COUNTRY]
            by_name = sorted(
                t
                for t in pool
                if countries[t].label.lower() == wanted
                or wanted in countries[t].label.lower().split(", ")
            )
            if by_name:
                return by_name[:3]
        lowered = {t.lower(): t for t in pool}
        return [lowered[m] for m in difflib.get_close_matches(term.lower(), lowered, n=3)]

    def all_terms(self, kind: str) -> Mapping[str, Term]:
        """Every term of ``kind`` by id."""
        return MappingProxyType(self._by_kind_terms[self._kind(kind)])

    def _kind(self, kind: str) -> Kind:
        try:
            return Kind(kind)
        except ValueError:
            raise NotFoundError(
                f"unknown vocabulary kind {kind!r}",
                [
                    Diagnostic(
                        f"unknown vocabulary kind {kind!r}",
                        expected="one of " + ", ".join(k.value for k in Kind),
                        found=kind,
                    )
                ],
            ) from None


def _check_acyclic(kind: Kind, table: Mapping[str, Term]) -> None:
    done: set[str] = set()

    def visit(term_id: str, trail: tuple[str, ...]) -> None:
        if term_id in trail:
            raise _broken(kind, f"cycle in parents: {trail}", path=term_id)
        if term_id in done:
            return
        for parent in table[term_id].parents:
            visit(parent, (*trail, term_id))
        done.add(term_id)

    for term_id in table:
        visit(term_id, ())


def _did_you_mean(options: list[str]) -> str | None:
    return f"did you mean {', '.join(options)}?" if options else None


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loading with YAML 1.2 booleans: Norway's ``NO`` (and ``yes``, ``on``) stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load_yaml(path: Path) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [doc for doc in yaml.load_all(handle, Loader=_Loader) if doc is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise _broken(path.name, f"cannot read: {exc}") from exc


def _read_terms(path: Path) -> list[Term]:
    terms: list[Term] = []
    for doc in _load_yaml(path):
        kind = Kind(doc["kind"])
        for term_id, body in doc["terms"].items():
            body = body or {}
            parents = body.get("parents", ())
            terms.append(
                Term(
                    kind=kind,
                    id=str(term_id),
                    label=str(body.get("label", term_id)),
                    description=" ".join(str(body.get("description", "")).split()),
                    parents=tuple(parents),
                    dpv=body.get("dpv"),
                    citation=body.get("citation"),
                    confidence=str(body.get("confidence", "confirmed")),
                    components=tuple(body.get("components", ())),
                )
            )
    return terms


def _read_groups(path: Path) -> list[Group]:
    raw: dict[str, Any] = {}
    for doc in _load_yaml(path):
        raw.update(doc["groups"])

    def members(name: str, trail: tuple[str, ...] = ()) -> frozenset[str]:
        if name in trail:
            raise _broken(path.name, f"group {name!r} includes itself")
        body = raw[name]
        found = {str(m) for m in body.get("members", ())}
        for inner in body.get("include", ()):
            found |= members(inner, (*trail, name))
        return frozenset(found)

    return [
        Group(
            name=name,
            label=str(body.get("label", name)),
            members=members(name),
            description=" ".join(str(body.get("description", "")).split()),
            citation=body.get("citation"),
        )
        for name, body in raw.items()
    ]
