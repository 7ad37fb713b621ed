"""The transfer document: a proposed cross-border transfer, as frozen pydantic models.

Absent optional facts are ``None``, meaning *unknown*, never false: a rule that needs one makes the
outcome ``indeterminate``. The one exception is ``exemptions_claimed``: the exporter claims what it
relies on, so an absent list means that nothing is claimed (``()``), not that the claim is unknown.

Documents are read from YAML or JSON (one document, a list of documents, or a YAML multi-document
stream); every problem is reported as a located :class:`~accord.errors.Diagnostic`
(file:line:column, field path, expected, found, hint).

:data:`FACTS` lists the fact paths a rule pack may name, with their types and vocabularies; the
validator and the compiler both read it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from accord.errors import Diagnostic, TransferError
from accord.policy import _vocab
from accord.policy._yaml import (
    LMap,
    LNode,
    LocatedError,
    LSeq,
    describe_value,
    load_documents,
    locate,
    locate_node,
)
from accord.policy._yaml import plain as _plain
from accord.policy.ast import Location

__all__ = [
    "FACTS",
    "Certification",
    "CertificationStatus",
    "DataDescription",
    "FactSpec",
    "Importer",
    "Party",
    "Transfer",
    "fact_spec",
    "json_schema",
    "load_transfers",
]


MAX_COUNT = 10**15


class CertificationStatus(StrEnum):
    """Status of a certification as its administrator lists it."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


#: A head count: whole, not negative, and small enough to stay exact in any JSON reader (I-JSON).
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=False)]

_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Certification(BaseModel):
    """A certification the importer holds (e.g. ``{scheme: eu-us-dpf, status: active}``)."""

    model_config = _CONFIG

    scheme: str = Field(min_length=1, description="Scheme id, e.g. eu-us-dpf, apec-cbpr.")
    status: CertificationStatus = Field(
        description="active | inactive | suspended | withdrawn | expired | unknown"
    )
    valid_until: dt.date | None = Field(
        default=None, description="Last day the certification runs."
    )


class Party(BaseModel):
    """The exporter (or, via :class:`Importer`, the importer) of the data."""

    model_config = _CONFIG

    name: str | None = None
    country: str = Field(description="ISO 3166-1 alpha-2 code.")
    kind: str | None = Field(
        default=None, description="company | data-broker | public-authority | research | individual"
    )
    role: str | None = Field(default=None, description="controller | processor")
    group: str | None = Field(default=None, description="Corporate group id.")
    ciio: bool | None = Field(
        default=None, description="China: critical information infrastructure operator."
    )
    public_powers: bool | None = Field(
        default=None, description="A public authority exercising public powers (GDPR Art 49(3))."
    )


class Importer(Party):
    """The recipient abroad."""

    covered_person: bool | None = Field(default=None, description="28 CFR 202.211 covered person.")
    adversary_controlled: bool | None = Field(
        default=None,
        description=(
            "Controlled by a foreign adversary under PADFA (15 U.S.C. 9901(c)(2)): based in China,"
            " Iran, North Korea or Russia, at least 20 percent owned by persons based there, or"
            " subject to their direction or control. Absent = unknown."
        ),
    )
    subject_to: tuple[str, ...] | None = Field(
        default=None, description="Laws the importer is subject to (e.g. PIPEDA)."
    )
    certifications: tuple[Certification, ...] | None = None


def _none_claimed(value: Any) -> Any:
    """``exemptions_claimed: null`` (accepted for older documents) claims nothing, like absence."""
    return () if value is None else value


#: Claims the exporter makes: absent or ``null`` means none is claimed (never *unknown*).
_Claims = Annotated[
    tuple[str, ...],
    BeforeValidator(_none_claimed, json_schema_input_type=tuple[str, ...] | None),
]


class DataDescription(BaseModel):
    """What data is transferred, and about whom."""

    model_config = _CONFIG

    categories: tuple[str, ...] | None = Field(default=None, description="Category ids.")
    subjects: dict[str, Count] | None = Field(
        default=None,
        description="Number of persons (devices for geolocation) per category id.",
    )
    subject_countries: tuple[str, ...] | None = None
    government_related: bool | None = None
    important_data: bool | None = None
    de_identified: bool | None = None


class Transfer(BaseModel):
    """A proposed cross-border transfer of data."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        title="Accord transfer document",
    )

    id: str = Field(min_length=1, description="Identifier of the transfer.")
    date: dt.date | None = Field(default=None, description="Day of the transfer; default today.")
    exporter: Party
    importer: Importer
    data: DataDescription
    purposes: tuple[str, ...] | None = None
    transaction: str | None = Field(default=None, description="Transaction kind id.")
    mechanisms: tuple[str, ...] | None = Field(default=None, description="Transfer tools.")
    safeguards: tuple[str, ...] | None = None
    occasional: bool | None = Field(
        default=None, description="true = one-off, false = systematic/repetitive."
    )
    initial_collection: bool | None = Field(
        default=None, description="Data collected directly into the importer's database."
    )
    exemptions_claimed: _Claims = Field(
        default=(),
        description=(
            "Exemptions the exporter relies on (vocabulary ids). Absent or null = none claimed,"
            " not unknown: a claim is the exporter's to make."
        ),
    )

    @classmethod
    def from_mapping(cls, data: Any, *, source: str | None = None) -> Transfer:
        """Validate plain data (e.g. parsed JSON); raise :class:`TransferError` on any problem."""
        return _build(data, None, source)

    def unknown_terms(self) -> list[Diagnostic]:
        """Vocabulary problems :meth:`from_mapping` checks after the model's own validation
        (unknown ids, negative counts): for a transfer validated some other way."""
        return _vocab_problems(self, None, None, "")

    @classmethod
    def from_file(cls, path: str | Path) -> Transfer:
        """Read a file holding exactly one transfer document (YAML or JSON)."""
        transfers = load_transfers(path)
        if len(transfers) != 1:
            raise TransferError(
                f"{path} holds {len(transfers)} transfer documents, expected one",
                [
                    Diagnostic(
                        "expected exactly one transfer document",
                        file=str(path),
                        expected="one document",
                        found=f"{len(transfers)} documents",
                        hint="use load_transfers() (or `accord check`) for files with several",
                    )
                ],
            )
        return transfers[0]

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None) -> list[Transfer]:
        """Every transfer document in ``text``."""
        return _load_text(text, source)


def load_transfers(path: str | Path) -> list[Transfer]:
    """Every transfer document in a file: one document, a list, or a YAML multi-document stream."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TransferError(
            f"no such file: {p}", [Diagnostic("file not found", file=str(p))]
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TransferError(f"cannot read {p}", [Diagnostic(str(exc), file=str(p))]) from exc
    return _load_text(text, str(p))


def _load_text(text: str, source: str | None) -> list[Transfer]:
    try:
        docs = load_documents(text, source)
    except LocatedError as exc:
        raise TransferError(_summary(source, exc.diagnostics), exc.diagnostics) from exc
    nodes: list[tuple[LNode, str]] = []
    for d, doc in enumerate(docs):
        if isinstance(doc, LSeq):
            nodes.extend((item, f"[{i}]") for i, item in enumerate(doc.items))
        else:
            nodes.append((doc, f"[{d}]" if len(docs) > 1 else ""))
    if not nodes:
        raise TransferError(
            f"no transfer document in {source or 'the input'}",
            [Diagnostic("the document is empty", file=source, expected="a transfer document")],
        )
    out: list[Transfer] = []
    diagnostics: list[Diagnostic] = []
    for node, prefix in nodes:
        try:
            out.append(_build(_plain(node), node, source, prefix=prefix))
        except TransferError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise TransferError(_summary(source, diagnostics), diagnostics)
    return out


def _summary(source: str | None, diagnostics: Sequence[Diagnostic]) -> str:
    n = len(diagnostics)
    where = f" {source}" if source else ""
    return f"invalid transfer document{where}: {n} problem{'s' if n != 1 else ''}"


def _path_text(loc: Sequence[str | int], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "$"


def _diag(
    node: LNode | None,
    source: str | None,
    loc: Sequence[str | int],
    message: str,
    *,
    prefix: str = "",
    expected: str | None = None,
    found: str | None = None,
    hint: str | None = None,
    at_key: bool = False,
) -> Diagnostic:
    line = column = None
    if node is not None:
        where, _exact = locate(node, loc)
        if at_key and loc:
            parent, exact = locate_node(node, loc[:-1])
            if exact and isinstance(parent, LMap) and str(loc[-1]) in parent.key_locs:
                where = parent.key_locs[str(loc[-1])]
        line, column = where.line, where.column
    return Diagnostic(
        message,
        file=source,
        line=line,
        column=column,
        path=_path_text(loc, prefix),
        expected=expected,
        found=found,
        hint=hint,
    )


def _model_fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    names = tuple(p for p in loc if isinstance(p, str))
    models: dict[tuple[str, ...], type[BaseModel]] = {
        (): Transfer,
        ("exporter",): Party,
        ("importer",): Importer,
        ("data",): DataDescription,
        ("importer", "certifications"): Certification,
    }
    return models.get(names)


def _from_pydantic(
    exc: ValidationError, node: LNode | None, source: str | None, prefix: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            name = str(loc[-1])
            parent = _model_at(loc[:-1])
            allowed = _model_fields(parent) if parent else ()
            close = difflib.get_close_matches(name, allowed, n=1)
            out.append(
                _diag(
                    node,
                    source,
                    loc,
                    f"unknown field {name!r}",
                    prefix=prefix,
                    expected="one of: " + ", ".join(allowed) if allowed else None,
                    found=repr(name),
                    hint=f"did you mean {close[0]!r}?" if close else "remove it",
                    at_key=True,
                )
            )
        elif kind == "missing":
            name = str(loc[-1])
            out.append(
                _diag(
                    node,
                    source,
                    loc,
                    f"missing required field {name!r}",
                    prefix=prefix,
                    expected=f"a {name!r} entry",
                    found="nothing",
                    hint=f"add `{name}:` here",
                )
            )
        else:
            hint = _hint(kind)
            if kind == "enum" and isinstance(value, str):
                options = [s.value for s in CertificationStatus]
                close = difflib.get_close_matches(value, options, n=1)
                hint = f"did you mean {close[0]!r}?" if close else hint
            out.append(
                _diag(
                    node,
                    source,
                    loc,
                    err["msg"],
                    prefix=prefix,
                    expected=_expected(kind, err),
                    found=describe_value(value),
                    hint=hint,
                )
            )
    return out


def _expected(kind: str, err: Any) -> str | None:
    if kind.startswith("bool"):
        return "true or false (or leave it out if unknown)"
    if kind.startswith(("int", "float")):
        return "a whole number"
    if kind.startswith("date"):
        return "a date YYYY-MM-DD"
    if kind.startswith("string"):
        return "text"
    if kind in ("tuple_type", "list_type"):
        return "a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "a mapping"
    if kind == "enum":
        ctx = err.get("ctx") or {}
        return str(ctx.get("expected", "one of the listed values"))
    return None


def _hint(kind: str) -> str | None:
    if kind.startswith("bool"):
        return "write true or false; omit the field when the fact is unknown"
    if kind.startswith("date"):
        return "write the date as e.g. 2026-11-28"
    if kind in ("tuple_type", "list_type"):
        return "write [a, b] or one item per line with '- '"
    return None


_VOCAB_FIELDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("exporter", "country"), "country"),
    (("exporter", "kind"), "party_kind"),
    (("exporter", "role"), "role"),
    (("importer", "country"), "country"),
    (("importer", "kind"), "party_kind"),
    (("importer", "role"), "role"),
    (("data", "categories"), "category"),
    (("data", "subject_countries"), "country"),
    (("purposes",), "purpose"),
    (("transaction",), "transaction"),
    (("mechanisms",), "mechanism"),
    (("safeguards",), "safeguard"),
    (("exemptions_claimed",), "exemption"),
)


_VOCAB_GETTERS = tuple(
    (path, kind, operator.attrgetter(".".join(path))) for path, kind in _VOCAB_FIELDS
)


def _vocab_values(t: Transfer) -> list[tuple[tuple[str, ...], str, Any]]:
    """``(path, vocabulary kind, value)`` of every vocabulary field of ``t`` that is set (a term
    or a list of terms)."""
    return [
        (path, kind, value) for path, kind, get in _VOCAB_GETTERS if (value := get(t)) is not None
    ]


def _all_known(t: Transfer) -> bool:
    """Whether every vocabulary term of ``t`` is known and no count is negative: the common case,
    checked with set lookups only (:func:`_vocab_problems` then has nothing to report)."""
    if not _vocab.available():  # no vocabulary: every term is accepted
        return all(n >= 0 for n in (t.data.subjects or {}).values())
    for _path, kind, value in _vocab_values(t):
        known = _vocab.terms(kind)
        if isinstance(value, str):
            if value not in known:
                return False
        elif not known.issuperset(value):
            return False
    subjects = t.data.subjects
    if subjects is not None:
        categories = _vocab.terms("category")
        return all(cat in categories and n >= 0 for cat, n in subjects.items())
    return True


def _vocab_problems(
    t: Transfer, node: LNode | None, source: str | None, prefix: str
) -> list[Diagnostic]:
    return [] if _all_known(t) else _vocab_diagnostics(t, node, source, prefix)


def _vocab_diagnostics(
    t: Transfer, node: LNode | None, source: str | None, prefix: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def check(loc: tuple[str | int, ...], kind: str, term: str) -> None:
        if _vocab.known(kind, term):
            return
        choices = _vocab.terms(kind)
        hint = _vocab.did_you_mean(term, choices) or f"see `accord glossary` for the {kind} ids"
        out.append(
            _diag(
                node,
                source,
                loc,
                f"unknown {kind.replace('_', ' ')} {term!r}",
                prefix=prefix,
                expected=f"a known {kind.replace('_', ' ')} id",
                found=repr(term),
                hint=hint,
            )
        )

    for path, kind, value in _vocab_values(t):
        if isinstance(value, str):
            check(path, kind, value)
        else:
            for i, term in enumerate(value):
                check((*path, i), kind, term)
    if t.data.subjects is not None:
        for cat, count in t.data.subjects.items():
            check(("data", "subjects", cat), "category", cat)
            if count < 0:
                out.append(
                    _diag(
                        node,
                        source,
                        ("data", "subjects", cat),
                        "a count cannot be negative",
                        prefix=prefix,
                        expected="0 or more",
                        found=str(count),
                    )
                )
    return out


def _build(data: Any, node: LNode | None, source: str | None, *, prefix: str = "") -> Transfer:
    if not isinstance(data, Mapping):
        diags = [
            _diag(
                node,
                source,
                (),
                "a transfer document must be a mapping",
                prefix=prefix,
                expected="a mapping with id, exporter, importer, data …",
                found=describe_value(data),
            )
        ]
        raise TransferError(_summary(source, diags), diags)
    try:
        transfer = Transfer.model_validate(data)
    except ValidationError as exc:
        diags = _from_pydantic(exc, node, source, prefix)
        raise TransferError(_summary(source, diags), diags) from exc
    diags = _vocab_problems(transfer, node, source, prefix)
    if diags:
        raise TransferError(_summary(source, diags), diags)
    return transfer


# -- fact paths ----------------------------------------------------------------------------------

FactType = Literal["str", "bool", "int", "date", "set"]


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact a pack may name: its path, value type and vocabulary kind (for terms)."""

    path: str
    type: FactType
    vocab: str | None = None
    description: str = ""


def _specs() -> dict[str, FactSpec]:
    specs: list[FactSpec] = [
        FactSpec("id", "str"),
        FactSpec("date", "date", description="day of the transfer (defaults to the as-of date)"),
    ]
    for who in ("exporter", "importer"):
        specs += [
            FactSpec(f"{who}.name", "str"),
            FactSpec(f"{who}.country", "str", "country"),
            FactSpec(f"{who}.kind", "str", "party_kind"),
            FactSpec(f"{who}.role", "str", "role"),
            FactSpec(f"{who}.group", "str"),
            FactSpec(f"{who}.ciio", "bool"),
            FactSpec(f"{who}.public_powers", "bool"),
        ]
    specs += [
        FactSpec("importer.covered_person", "bool"),
        FactSpec(
            "importer.adversary_controlled",
            "bool",
            description="controlled by a foreign adversary (PADFA, 15 U.S.C. 9901(c)(2))",
        ),
        FactSpec("importer.subject_to", "set"),
        FactSpec(
            "importer.certifications",
            "set",
            "certification",
            "scheme ids that count on the transfer date (recognitions included)",
        ),
        FactSpec("data.categories", "set", "category"),
        FactSpec("data.subject_countries", "set", "country"),
        FactSpec("data.government_related", "bool"),
        FactSpec("data.important_data", "bool"),
        FactSpec("data.de_identified", "bool"),
        FactSpec("purposes", "set", "purpose"),
        FactSpec("transaction", "str", "transaction"),
        FactSpec("mechanisms", "set", "mechanism"),
        FactSpec("safeguards", "set", "safeguard"),
        FactSpec("occasional", "bool"),
        FactSpec("initial_collection", "bool"),
        FactSpec(
            "exemptions_claimed",
            "set",
            "exemption",
            "exemptions the exporter relies on; absent = none claimed (never unknown)",
        ),
        FactSpec("intra_group", "bool", description="exporter.group equals importer.group"),
    ]
    return {s.path: s for s in specs}


#: Every fact path a pack may name, except ``data.subjects.<category>`` (see :func:`fact_spec`).
FACTS: Mapping[str, FactSpec] = _specs()

SUBJECTS_PREFIX = "data.subjects."


def fact_spec(path: str) -> FactSpec | None:
    """The spec of a fact path (``data.subjects.<category>`` is an ``int`` count), or ``None``."""
    spec = FACTS.get(path)
    if spec is not None:
        return spec
    if path.startswith(SUBJECTS_PREFIX) and len(path) > len(SUBJECTS_PREFIX):
        return FactSpec(path, "int", description="number of persons (or devices)")
    return None


def fact_paths() -> Iterable[str]:
    """The fixed fact paths, sorted."""
    return sorted(FACTS)


def json_schema() -> dict[str, Any]:
    """The transfer document's JSON Schema (published as docs/transfer.schema.json)."""
    schema = Transfer.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }


def location_of(node: LNode, loc: Sequence[str | int]) -> Location:
    """Where ``loc`` points in a located document (for callers that keep the tree)."""
    return locate(node, loc)[0]
