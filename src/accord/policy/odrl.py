"""W3C ODRL 2.2 JSON-LD export and import of rule packs.

:func:`to_odrl` writes a pack as an ODRL 2.2 policy in JSON-LD (compact form: the ODRL context plus
a small ``accord:`` context for the extension terms); :func:`from_odrl` reads such a policy back,
and also reads plain ODRL policies that use only core terms, mapping what it can and raising
:class:`~accord.errors.PackError` with the JSON path of what it cannot.
``from_odrl(to_odrl(p)) == p`` for every valid pack (source locations aside), so both give the
same decisions.

The mapping, with every extension term, is documented in ``docs/odrl.md``. In short:

- the pack → a ``Set`` (regulation) or an ``Agreement`` (agreement) with ``conflict: prohibit``;
- permission, prohibition and obligation rules → ``permission``, ``prohibition`` and ``obligation``;
  exemptions → ``accord:exemption`` (ODRL has no exemption rule);
- ``when`` → ``constraint`` (one entry holding the whole tree); ``and``/``or``/``xone`` → ODRL
  logical constraints; ``not`` → ``accord:not``; a threshold reference → the threshold's
  constraint inline, marked ``accord:threshold``; ``unless`` → ``accord:unless``;
- duties → ``duty`` (on permissions), ``remedy`` (on prohibitions) or ``accord:duty``; a duty's
  deadline → an ``elapsedTime lteq`` constraint on the duty;
- facts → ``accord:`` left operands, values → right operands (dates as ``xsd:date``,
  ``group:NAME`` as the group's IRI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from accord.errors import Diagnostic, PackError
from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Duty,
    Group,
    Logical,
    LogicalOp,
    Operator,
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
    "ACCORD_CONTEXT",
    "ACCORD_NS",
    "ACCORD_PROFILE",
    "ODRL_CONTEXT",
    "ODRL_CORE_TERMS",
    "ODRL_NS",
    "from_odrl",
    "to_odrl",
]

#: The ODRL 2.2 JSON-LD context.
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
#: The ODRL 2.2 vocabulary namespace.
ODRL_NS = "http://www.w3.org/ns/odrl/2/"
#: Accord's namespace for extension terms, actions and fact left operands (prefix ``accord:``).
ACCORD_NS = "urn:accord:ns:"
#: The Accord ODRL profile (documented in ``docs/odrl.md``).
ACCORD_PROFILE = "urn:accord:odrl-profile:1"
_DCT_NS = "http://purl.org/dc/terms/"
_XSD_NS = "http://www.w3.org/2001/XMLSchema#"

#: The second ``@context`` entry of every exported policy.
ACCORD_CONTEXT: dict[str, Any] = {
    "accord": ACCORD_NS,
    "dct": _DCT_NS,
    "xsd": _XSD_NS,
    "dct:source": {"@type": "@id"},
    "accord:effectiveFrom": {"@type": "xsd:date"},
    "accord:sunset": {"@type": "xsd:date"},
    "accord:reviewInterval": {"@type": "xsd:duration"},
    "accord:exempts": {"@type": "@id"},
}

#: ODRL 2.2 core terms (the Core Profile) as used in compact JSON-LD.
ODRL_CORE_TERMS: frozenset[str] = frozenset(
    {
        "Policy", "uid", "profile", "inheritFrom", "Agreement", "Offer", "Set", "Rule",
        "relation", "function", "failure", "Asset", "AssetCollection", "target", "hasPolicy",
        "Party", "PartyCollection", "assignee", "assigner", "assigneeOf", "assignerOf", "partOf",
        "source", "Permission", "permission", "Prohibition", "prohibition", "Action", "action",
        "includedIn", "implies", "use", "transfer", "Duty", "obligation", "duty", "consequence",
        "remedy", "Constraint", "constraint", "refinement", "Operator", "operator",
        "RightOperand", "rightOperand", "rightOperandReference", "LeftOperand", "leftOperand",
        "unit", "dataType", "status", "LogicalConstraint", "operand", "eq", "gt", "gteq", "lt",
        "lteq", "neq", "isA", "hasPart", "isPartOf", "isAllOf", "isAnyOf", "isNoneOf", "or",
        "xone", "and", "andSequence", "ConflictTerm", "conflict", "perm", "prohibit", "invalid",
    }
)  # fmt: skip

#: The ``accord:`` and ``dct:`` properties this module writes (documented in ``docs/odrl.md``).
EXTENSION_TERMS: frozenset[str] = frozenset(
    {
        "accord:packId", "accord:version", "accord:instrument", "accord:effectiveFrom",
        "accord:sunset", "accord:reviewInterval", "accord:parties", "accord:confidence",
        "accord:default", "accord:defaultCitation", "accord:scope", "accord:notes",
        "accord:groups", "accord:thresholds", "accord:name", "accord:members",
        "accord:constraint", "accord:citation", "accord:exemption", "accord:exempts",
        "accord:unless", "accord:not", "accord:threshold", "accord:duty", "accord:protects",
        "accord:order", "dct:title", "dct:description", "dct:coverage", "dct:source",
    }
)  # fmt: skip

_TRANSFER = "accord:transfer"
_FULFIL = "accord:fulfil"
_TRANSFERRED_DATA = "accord:transferredData"
_ALL_RULES = "accord:allRules"
_JURISDICTION = "urn:accord:jurisdiction:"
_VOCAB_GROUP = "urn:accord:group:"

_OPERATORS = {str(op): op for op in Operator}
# Plain-ODRL left operands Accord can read as facts of the transfer document.
_ODRL_LEFT_OPERANDS = {"dateTime": "date", "purpose": "purposes", "recipient": "importer.name"}
_ODRL_SET_OPERANDS = {"purpose"}
_SCALAR_TO_SET = {Operator.EQ: Operator.IS_ANY_OF, Operator.NEQ: Operator.IS_NONE_OF}
# Plain-ODRL actions that cover a cross-border transfer of data.
_TRANSFER_ACTIONS = {"use", "transfer", "distribute", "give", _TRANSFER}
_POLICY_TYPES = {"Set": PackKind.REGULATION, "Policy": PackKind.REGULATION}
_POLICY_TYPES |= {"Agreement": PackKind.AGREEMENT, "Offer": PackKind.AGREEMENT}
_XSD_TYPES = {"date", "string", "integer", "int", "long", "decimal", "double", "float", "boolean"}
_RULE_CONTAINERS = (
    ("permission", RuleKind.PERMISSION),
    ("prohibition", RuleKind.PROHIBITION),
    ("obligation", RuleKind.OBLIGATION),
    ("accord:exemption", RuleKind.EXEMPTION),
)
_DUTY_KEY = {
    RuleKind.PERMISSION: "duty",
    RuleKind.PROHIBITION: "remedy",
    RuleKind.OBLIGATION: "accord:duty",
    RuleKind.EXEMPTION: "accord:duty",
}
_ID_RE = re.compile(r"[^a-z0-9]+")
_E = TypeVar("_E", bound=StrEnum)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _policy_uid(pack: Pack) -> str:
    """The IRI that identifies this version of the pack: ``urn:accord:pack:ID:VERSION``."""
    return f"urn:accord:pack:{_q(pack.meta.id)}:{_q(pack.meta.version)}"


def _q(text: str) -> str:
    return quote(text, safe="")


class _Writer:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.uid = _policy_uid(pack)
        self.own_groups = {g.name for g in pack.groups}
        self.thresholds = {t.name: t for t in pack.thresholds}

    def group_iri(self, name: str) -> str:
        if name in self.own_groups:
            return f"{self.uid}:group:{_q(name)}"
        return f"{_VOCAB_GROUP}{_q(name)}"

    def value(self, value: Value, *, nested: bool = False) -> Any:
        if isinstance(value, tuple):
            # A plain array reads best; JSON-LD drops an empty one and flattens nested ones,
            # so those are written as lists.
            items = [self.value(v, nested=True) for v in value]
            return {"@list": items} if nested or not items else items
        if value is None:
            return {"@value": None}
        if isinstance(value, date):
            return {"@value": value.isoformat(), "@type": "xsd:date"}
        if isinstance(value, str) and value.startswith("group:"):
            return {"@id": self.group_iri(value.removeprefix("group:"))}
        return value

    def constraint(self, c: Constraint, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
        if isinstance(c, Atomic):
            return {
                "leftOperand": f"accord:{c.fact}",
                "operator": f"odrl:{c.op}",
                "rightOperand": self.value(c.value),
            }
        if isinstance(c, ThresholdRef):
            ref: dict[str, Any] = {
                "uid": f"{self.uid}:threshold:{_q(c.name)}",
                "accord:threshold": c.name,
            }
            threshold = self.thresholds.get(c.name)
            if (
                threshold is not None
                and c.name not in seen
                and not isinstance(threshold.constraint, ThresholdRef)
            ):
                # Inline the threshold's body so ODRL processors see a real constraint;
                # ``accord:threshold`` tells the importer to read it back as a reference.
                ref.update(self.constraint(threshold.constraint, seen | {c.name}))
            return ref
        if c.op is LogicalOp.NOT:
            return {"accord:not": self.constraint(c.args[0], seen)}
        return {str(c.op): {"@list": [self.constraint(a, seen) for a in c.args]}}

    def duty(self, d: Duty, rule_uid: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": f"{rule_uid}:duty:{_q(d.id)}",
            "action": _FULFIL,
            "dct:description": d.text,
        }
        if d.citation is not None:
            out["accord:citation"] = d.citation
        if d.source is not None:
            out["dct:source"] = d.source
        if d.deadline is not None:
            out["constraint"] = [
                {
                    "leftOperand": "odrl:elapsedTime",
                    "operator": "odrl:lteq",
                    "rightOperand": {"@value": d.deadline, "@type": "xsd:duration"},
                }
            ]
        if d.protects:
            out["accord:protects"] = list(d.protects)
        return out

    def rule_iri(self, rule_id: str) -> str:
        return f"{self.uid}:rule:{_q(rule_id)}"

    def rule(self, r: Rule) -> dict[str, Any]:
        uid = self.rule_iri(r.id)
        out: dict[str, Any] = {
            "uid": uid,
            "action": _FULFIL if r.kind is RuleKind.OBLIGATION else _TRANSFER,
            "dct:description": r.text,
        }
        if r.citation is not None:
            out["accord:citation"] = r.citation
        if r.source is not None:
            out["dct:source"] = r.source
        if r.when is not None:
            out["constraint"] = [self.constraint(r.when)]
        if r.unless is not None:
            out["accord:unless"] = self.constraint(r.unless)
        if r.duties:
            out[_DUTY_KEY[r.kind]] = [self.duty(d, uid) for d in r.duties]
        if r.exempts:
            out["accord:exempts"] = [
                _ALL_RULES if e == "*" else self.rule_iri(e) for e in r.exempts
            ]
        if r.effective_from is not None:
            out["accord:effectiveFrom"] = r.effective_from.isoformat()
        if r.sunset is not None:
            out["accord:sunset"] = r.sunset.isoformat()
        if r.confidence is not None:
            out["accord:confidence"] = str(r.confidence)
        if r.protects:
            out["accord:protects"] = list(r.protects)
        if r.notes is not None:
            out["accord:notes"] = r.notes
        return out

    def policy(self) -> dict[str, Any]:
        m = self.pack.meta
        out: dict[str, Any] = {
            "@context": [ODRL_CONTEXT, ACCORD_CONTEXT],
            "@type": "Agreement" if m.kind is PackKind.AGREEMENT else "Set",
            "uid": self.uid,
            "profile": ACCORD_PROFILE,
            "conflict": "prohibit",
            "target": _TRANSFERRED_DATA,
        }
        if m.kind is PackKind.AGREEMENT and m.parties:
            out["assigner"] = f"{_JURISDICTION}{_q(m.parties[0])}"
            if len(m.parties) > 1:
                out["assignee"] = [f"{_JURISDICTION}{_q(p)}" for p in m.parties[1:]]
        out["accord:packId"] = m.id
        out["dct:title"] = m.title
        out["dct:coverage"] = m.jurisdiction
        out["accord:version"] = m.version
        if m.instrument is not None:
            out["accord:instrument"] = m.instrument
        out["accord:effectiveFrom"] = m.effective_from.isoformat()
        if m.sunset is not None:
            out["accord:sunset"] = m.sunset.isoformat()
        if m.review_interval is not None:
            out["accord:reviewInterval"] = m.review_interval
        if m.parties:
            out["accord:parties"] = list(m.parties)
        out["accord:confidence"] = str(m.confidence)
        out["accord:default"] = str(m.default)
        if m.default_citation is not None:
            out["accord:defaultCitation"] = m.default_citation
        if m.sources:
            out["dct:source"] = list(m.sources)
        if m.scope is not None:
            out["accord:scope"] = self.constraint(m.scope)
        if m.notes is not None:
            out["accord:notes"] = m.notes
        if self.pack.groups:
            out["accord:groups"] = [
                {
                    "uid": self.group_iri(g.name),
                    "accord:name": g.name,
                    "accord:members": {"@list": list(g.members)},
                }
                for g in self.pack.groups
            ]
        if self.pack.thresholds:
            out["accord:thresholds"] = [self.threshold(t) for t in self.pack.thresholds]
        for key, kind in _RULE_CONTAINERS:
            rules = [self.rule(r) for r in self.pack.rules if r.kind is kind]
            if rules:
                out[key] = rules
        return out

    def threshold(self, t: Threshold) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": f"{self.uid}:threshold:{_q(t.name)}",
            "accord:name": t.name,
            "accord:constraint": self.constraint(t.constraint, frozenset({t.name})),
        }
        if t.citation is not None:
            out["accord:citation"] = t.citation
        if t.source is not None:
            out["dct:source"] = t.source
        return out


def to_odrl(pack: Pack) -> dict[str, Any]:
    """The pack as an ODRL 2.2 policy in compact JSON-LD (a JSON-ready ``dict``).

    ODRL groups rules by kind; when the pack interleaves kinds, ``accord:order`` lists the rule
    IRIs in the pack's order so :func:`from_odrl` restores it exactly.
    """
    writer = _Writer(pack)
    out = writer.policy()
    grouped = [r for _, kind in _RULE_CONTAINERS for r in pack.rules if r.kind is kind]
    if grouped != list(pack.rules):
        out["accord:order"] = [writer.rule_iri(r.id) for r in pack.rules]
    return out


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{parent}.{key}"
    return f"{parent}[{key!r}]"


def _describe(node: object) -> str:
    if isinstance(node, Mapping):
        return "an object"
    if isinstance(node, list):
        return "a list"
    if node is None:
        return "null"
    text = repr(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _many(node: object) -> list[Any]:
    """JSON-LD allows a single value where a list is meant."""
    if node is None:
        return []
    if isinstance(node, Mapping) and "@list" in node:
        inner = node["@list"]
        return list(inner) if isinstance(inner, list) else [inner]
    return list(node) if isinstance(node, list) else [node]


class _Reader:
    def __init__(self, doc: Mapping[str, Any], source: str | None) -> None:
        self.doc = doc
        self.source = source
        self.uid = ""
        self.prefixes = dict(_DEFAULT_PREFIXES)
        self.group_names: dict[str, str] = {}
        self.threshold_names: dict[str, str] = {}
        self.notes: list[str] = []
        self.rule_ids: set[str] = set()
        self.ignored: list[str] = []  # annotations of other vocabularies (e.g. dct:creator)

    # -- errors ----------------------------------------------------------------------------

    def error(
        self,
        path: str,
        message: str,
        *,
        expected: str | None = None,
        found: object = None,
        hint: str | None = None,
    ) -> PackError:
        where = f" {self.source}" if self.source else ""
        return PackError(
            f"cannot import ODRL policy{where}",
            [
                Diagnostic(
                    message,
                    file=self.source,
                    path=path,
                    expected=expected,
                    found=None if found is None else _describe(found),
                    hint=hint,
                )
            ],
        )

    # -- IRIs and terms ----------------------------------------------------------------------

    def read_context(self) -> None:
        for entry in _many(self.doc.get("@context")):
            if isinstance(entry, Mapping):
                for key, value in entry.items():
                    if isinstance(value, str) and not key.startswith("@") and ":" not in key:
                        self.prefixes[key] = value

    def expand(self, term: str) -> str:
        """A compact IRI or term → a full IRI (ODRL terms resolve into the ODRL namespace)."""
        if term.startswith(("http://", "https://", "urn:")):
            return term
        prefix, sep, rest = term.partition(":")
        if sep and prefix in self.prefixes:
            return self.prefixes[prefix] + rest
        if not sep:
            return ODRL_NS + term
        return term

    def odrl_term(self, node: object, path: str, what: str) -> str:
        """The ODRL local name of a vocabulary value, or the full IRI if it is not ODRL's."""
        if isinstance(node, Mapping):
            if "@id" in node:
                node = node["@id"]
            elif "rdf:value" in node:
                return self.odrl_term(node["rdf:value"], _path(path, "rdf:value"), what)
        if not isinstance(node, str):
            raise self.error(path, f"expected {what}", expected="a term or IRI", found=node)
        iri = self.expand(node)
        if iri.startswith(ODRL_NS):
            return iri.removeprefix(ODRL_NS)
        if iri.startswith(ACCORD_NS):
            return "accord:" + iri.removeprefix(ACCORD_NS)
        return iri

    def local(self, iri: str, marker: str) -> str | None:
        iri = self.expand(iri)
        if iri.startswith("urn:accord:") and f":{marker}:" in iri:
            return unquote(iri.rsplit(f":{marker}:", 1)[1])
        return None

    def slug(self, uid: object, fallback: str) -> str:
        if isinstance(uid, str):
            last = re.split(r"[/#]", uid.rstrip("/#:"))[-1]
            text = _ID_RE.sub("-", unquote(last).lower()).strip("-")
            if text:
                return text
        return fallback

    # -- scalars -----------------------------------------------------------------------------

    def string(self, node: Mapping[str, Any], key: str, path: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, Mapping) and "@value" in value:
            value = value["@value"]
        if isinstance(value, Mapping) and "@id" in value:
            value = value["@id"]
        if not isinstance(value, str):
            raise self.error(
                _path(path, key), f"{key} must be a string", expected="a string", found=value
            )
        return value

    def strings(self, node: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in enumerate(_many(node.get(key))):
            value = item
            if isinstance(value, Mapping):
                value = value.get("@value", value.get("@id"))
            if not isinstance(value, str):
                raise self.error(
                    _path(_path(path, key), i),
                    f"{key} must hold strings",
                    expected="a string",
                    found=item,
                )
            out.append(value)
        return tuple(out)

    def date_(self, node: Mapping[str, Any], key: str, path: str) -> date | None:
        text = self.string(node, key, path)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise self.error(
                _path(path, key), "not a date", expected="YYYY-MM-DD", found=text
            ) from exc

    def enum(self, node: Mapping[str, Any], key: str, path: str, kind: type[_E]) -> _E | None:
        text = self.string(node, key, path)
        if text is None:
            return None
        try:
            return kind(text)
        except ValueError as exc:
            choices = ", ".join(str(v) for v in kind)
            raise self.error(
                _path(path, key), f"unknown {key}", expected=choices, found=text
            ) from exc

    def value(self, node: object, path: str) -> Value:
        if isinstance(node, list):
            return tuple(self.value(v, _path(path, i)) for i, v in enumerate(node))
        if isinstance(node, Mapping):
            if "@list" in node:
                return self.value(_many(node), _path(path, "@list"))
            if "@id" in node:
                iri = node["@id"]
                if not isinstance(iri, str):
                    raise self.error(_path(path, "@id"), "an IRI must be a string", found=iri)
                name = self.group_names.get(self.expand(iri)) or self.local(iri, "group")
                return f"group:{name}" if name is not None else iri
            if "@value" in node:
                return self.typed(node, path)
            raise self.error(
                path,
                "a right operand cannot be an object",
                expected="a literal, a typed value {@value, @type}, an {@id} or a list",
                found=node,
            )
        if node is None or isinstance(node, (str, bool, int, float)):
            return node
        raise self.error(path, "not a value", found=node)

    def typed(self, node: Mapping[str, Any], path: str) -> Value:
        raw = node["@value"]
        kind = node.get("@type")
        if kind is None:
            return self.value(raw, _path(path, "@value")) if not isinstance(raw, Mapping) else None
        xsd = self.expand(kind) if isinstance(kind, str) else ""
        local = xsd.removeprefix(_XSD_NS) if xsd.startswith(_XSD_NS) else None
        if local not in _XSD_TYPES:
            raise self.error(
                _path(path, "@type"),
                "unsupported datatype",
                expected="xsd:" + ", xsd:".join(sorted(_XSD_TYPES)),
                found=kind,
            )
        try:
            if local == "date":
                return date.fromisoformat(str(raw))
            if local in {"integer", "int", "long"}:
                return int(raw)
            if local in {"decimal", "double", "float"}:
                return float(raw)
            if local == "boolean":
                if isinstance(raw, bool):
                    return raw
                if str(raw) in {"true", "false", "1", "0"}:
                    return str(raw) in {"true", "1"}
                raise ValueError(raw)
        except (TypeError, ValueError) as exc:
            raise self.error(_path(path, "@value"), f"not a valid xsd:{local}", found=raw) from exc
        return str(raw)

    # -- constraints -------------------------------------------------------------------------

    def constraint(self, node: object, path: str) -> Constraint:
        if not isinstance(node, Mapping):
            raise self.error(path, "expected a constraint", expected="an object", found=node)
        if "accord:threshold" in node:
            name = self.string(node, "accord:threshold", path)
            assert name is not None
            return ThresholdRef(name)
        ref = node.get("uid", node.get("@id"))
        if isinstance(ref, str) and set(node) <= {"uid", "@id", "@type"}:
            name = self.threshold_names.get(self.expand(ref))
            if name is None:
                raise self.error(
                    path,
                    "a constraint reference that names no threshold",
                    expected="a constraint object, or the uid of an accord:thresholds entry",
                    found=ref,
                )
            return ThresholdRef(name)
        if "accord:not" in node:
            self.allow(node, path, {"accord:not"}, "an accord:not constraint")
            inner = self.constraint(node["accord:not"], _path(path, "accord:not"))
            return Logical(LogicalOp.NOT, (inner,))
        ops = [k for k in ("and", "or", "xone", "andSequence") if k in node]
        if ops:
            if len(ops) > 1:
                raise self.error(path, "one logical operator per constraint", found=", ".join(ops))
            key = ops[0]
            self.allow(node, path, {key}, "a logical constraint")
            items = _many(node[key])
            sub = _path(path, key)
            if not items:
                raise self.error(
                    sub, "a logical constraint needs operands", expected="a non-empty list"
                )
            op = LogicalOp.AND if key == "andSequence" else LogicalOp(key)
            return Logical(
                op, tuple(self.constraint(c, _path(sub, i)) for i, c in enumerate(items))
            )
        if "leftOperand" in node or "operator" in node:
            return self.atomic(node, path)
        raise self.error(
            path,
            "expected a constraint",
            expected="leftOperand/operator/rightOperand, and/or/xone, or accord:not",
            found="keys " + ", ".join(sorted(node)),
        )

    def allow(self, node: Mapping[str, Any], path: str, keys: set[str], what: str) -> None:
        """Refuse ODRL and ``accord:`` terms not listed; note other vocabularies' annotations."""
        for key in sorted(k for k in node if k not in keys | {"uid", "@id", "@type"}):
            iri = self.expand(key)
            if iri.startswith((ODRL_NS, ACCORD_NS)) or key.startswith("@"):
                raise self.error(
                    _path(path, key),
                    f"{key!r} is not supported in {what}",
                    expected=", ".join(sorted(keys)),
                    found=key,
                )
            self.ignored.append(_path(path, key))

    def atomic(self, node: Mapping[str, Any], path: str) -> Atomic:
        allowed = {"leftOperand", "operator", "rightOperand", "rightOperandReference"}
        self.allow(node, path, allowed | {"dataType", "unit"}, "a constraint")
        for key in ("dataType", "unit", "rightOperandReference"):
            if key in node:
                raise self.error(
                    _path(path, key),
                    f"ODRL {key} is not supported",
                    found=node[key],
                    hint="state the value directly in rightOperand",
                )
        for key in ("leftOperand", "operator", "rightOperand"):
            if key not in node:
                raise self.error(path, f"missing {key}", expected=f"a {key}", found="nothing")
        left = self.odrl_term(node["leftOperand"], _path(path, "leftOperand"), "a left operand")
        if left.startswith("accord:"):
            fact = left.removeprefix("accord:")
        elif left in _ODRL_LEFT_OPERANDS:
            fact = _ODRL_LEFT_OPERANDS[left]
        else:
            raise self.error(
                _path(path, "leftOperand"),
                f"left operand {left!r} has no Accord fact",
                expected="an accord: fact (e.g. accord:importer.country), or one of: "
                + ", ".join(sorted(_ODRL_LEFT_OPERANDS)),
                found=left,
                hint="write the fact of the transfer document this constraint tests",
            )
        op = self.odrl_term(node["operator"], _path(path, "operator"), "an operator")
        op = "neq" if op == "neg" else op  # the published context's typo for neq
        if op not in _OPERATORS:
            raise self.error(
                _path(path, "operator"),
                f"operator {op!r} is not supported",
                expected=", ".join(_OPERATORS),
                found=op,
                hint="hasPart/isPartOf have no Accord meaning; use isAnyOf/isAllOf on a list"
                if op in {"hasPart", "isPartOf"}
                else None,
            )
        value = self.value(node["rightOperand"], _path(path, "rightOperand"))
        operator = _OPERATORS[op]
        if (
            left in _ODRL_SET_OPERANDS
            and operator in _SCALAR_TO_SET
            and not isinstance(value, tuple)
        ):
            # ODRL "purpose eq X" reads as "X is among the transfer's purposes".
            operator, value = _SCALAR_TO_SET[operator], (value,)
        return Atomic(fact, operator, value)

    # -- rules -------------------------------------------------------------------------------

    def action_ok(self, node: Mapping[str, Any], path: str, kind: RuleKind) -> list[Constraint]:
        """Check the rule's action; return the constraints of any action refinement."""
        if "action" not in node:
            raise self.error(path, "a rule needs an action", expected="an action", found="nothing")
        refinements: list[Constraint] = []
        for i, action in enumerate(_many(node["action"])):
            apath = _path(_path(path, "action"), i) if isinstance(node["action"], list) else None
            apath = apath or _path(path, "action")
            name = self.odrl_term(action, apath, "an action")
            # An obligation is a duty: any action is something to do. Other rules must be about
            # transferring the data.
            if kind is not RuleKind.OBLIGATION and name not in _TRANSFER_ACTIONS:
                raise self.error(
                    apath,
                    f"action {name!r} does not govern a data transfer",
                    expected=", ".join(sorted(_TRANSFER_ACTIONS)),
                    found=name,
                )
            if isinstance(action, Mapping) and "refinement" in action:
                rpath = _path(apath, "refinement")
                refinements.extend(
                    self.constraint(c, _path(rpath, j))
                    for j, c in enumerate(_many(action["refinement"]))
                )
        return refinements

    def duty(self, node: object, path: str, index: int) -> Duty:
        if not isinstance(node, Mapping):
            raise self.error(path, "expected a duty", expected="an object", found=node)
        self.allow(node, path, _DUTY_KEYS, "a duty")
        uid = node.get("uid", node.get("@id"))
        ident = self.local(uid, "duty") if isinstance(uid, str) else None
        ident = ident or self.slug(uid, f"duty-{index + 1}")
        text = self.string(node, "dct:description", path)
        if text is None:
            action = self.odrl_term(node.get("action", "duty"), _path(path, "action"), "action")
            text = f"Perform the ODRL action {action}."
        deadline = None
        for i, c in enumerate(_many(node.get("constraint"))):
            cpath = _path(_path(path, "constraint"), i)
            if not isinstance(c, Mapping):
                raise self.error(cpath, "expected a constraint", expected="an object", found=c)
            left = self.odrl_term(c.get("leftOperand"), _path(cpath, "leftOperand"), "an operand")
            op = self.odrl_term(c.get("operator"), _path(cpath, "operator"), "an operator")
            if left != "elapsedTime" or op != "lteq" or deadline is not None:
                raise self.error(
                    cpath,
                    "a duty constraint can only state its deadline",
                    expected="one {leftOperand: elapsedTime, operator: lteq, rightOperand: "
                    "an xsd:duration}",
                    found=f"{left} {op}",
                )
            raw = c.get("rightOperand")
            value = raw.get("@value") if isinstance(raw, Mapping) else raw
            if not isinstance(value, str):
                raise self.error(_path(cpath, "rightOperand"), "expected a duration", found=raw)
            deadline = value
        return Duty(
            id=ident,
            text=text,
            citation=self.string(node, "accord:citation", path),
            source=self.string(node, "dct:source", path),
            deadline=deadline,
            protects=self.strings(node, "accord:protects", path),
        )

    def rule(self, node: object, path: str, kind: RuleKind, index: int) -> Rule:
        if not isinstance(node, Mapping):
            raise self.error(path, "expected a rule", expected="an object", found=node)
        self.allow(node, path, _RULE_KEYS, f"a {kind}")
        uid = node.get("uid", node.get("@id"))
        ident = self.local(uid, "rule") if isinstance(uid, str) else None
        if ident is None:
            ident = self.slug(uid, f"{kind}-{index + 1}")
            base, n = ident, 1
            while ident in self.rule_ids:
                n += 1
                ident = f"{base}-{n}"
        self.rule_ids.add(ident)
        refinements = self.action_ok(node, path, kind)
        constraints = [
            self.constraint(c, _path(_path(path, "constraint"), i))
            for i, c in enumerate(_many(node.get("constraint")))
        ]
        constraints.extend(refinements)
        when: Constraint | None = None
        if len(constraints) == 1:
            when = constraints[0]
        elif constraints:
            when = Logical(LogicalOp.AND, tuple(constraints))
        unless = None
        if "accord:unless" in node:
            unless = self.constraint(node["accord:unless"], _path(path, "accord:unless"))
        duties: list[Duty] = []
        for key in ("duty", "remedy", "accord:duty"):
            if key not in node:
                continue
            if key != _DUTY_KEY[kind]:
                raise self.error(
                    _path(path, key),
                    f"a {kind} cannot carry {key!r}",
                    expected=f"{_DUTY_KEY[kind]!r}",
                    found=key,
                )
            dpath = _path(path, key)
            duties.extend(
                self.duty(d, _path(dpath, i), len(duties) + i)
                for i, d in enumerate(_many(node[key]))
            )
        exempts: list[str] = []
        for i, item in enumerate(_many(node.get("accord:exempts"))):
            iri = item.get("@id") if isinstance(item, Mapping) else item
            epath = _path(_path(path, "accord:exempts"), i)
            if not isinstance(iri, str):
                raise self.error(epath, "expected a rule IRI", found=item)
            if self.expand(iri) == self.expand(_ALL_RULES):
                exempts.append("*")
            else:
                exempts.append(self.local(iri, "rule") or self.slug(iri, iri))
        text = self.string(node, "dct:description", path)
        notes = self.string(node, "accord:notes", path)
        if text is None:
            action = self.odrl_term(_many(node["action"])[0], _path(path, "action"), "action")
            text = f"ODRL {kind}: {action}."
        lost = [
            f"{k}: {', '.join(str(v) for v in _many(node[k]))}"
            for k in ("target", "assigner", "assignee")
            if k in node and node[k] != _TRANSFERRED_DATA
        ]
        if lost:
            notes = "; ".join(filter(None, [notes, "ODRL " + "; ".join(lost)]))
        return Rule(
            id=ident,
            kind=kind,
            text=text,
            citation=self.string(node, "accord:citation", path),
            source=self.string(node, "dct:source", path),
            when=when,
            unless=unless,
            duties=tuple(duties),
            exempts=tuple(exempts),
            effective_from=self.date_(node, "accord:effectiveFrom", path),
            sunset=self.date_(node, "accord:sunset", path),
            confidence=self.enum(node, "accord:confidence", path, Confidence),
            protects=self.strings(node, "accord:protects", path),
            notes=notes,
        )

    # -- policy ------------------------------------------------------------------------------

    def policy(self) -> Pack:
        doc, path = self.doc, "$"
        self.read_context()
        self.allow(doc, path, _POLICY_KEYS | {"@context"}, "a policy")
        types = _many(doc.get("@type", doc.get("type")))
        kinds = [self.odrl_term(t, _path(path, "@type"), "a policy type") for t in types]
        kind = next((_POLICY_TYPES[k] for k in kinds if k in _POLICY_TYPES), None)
        if kind is None:
            raise self.error(
                _path(path, "@type"),
                "not a policy Accord can import",
                expected="Set, Policy, Agreement or Offer",
                found=", ".join(kinds) or "no @type",
            )
        uid = doc.get("uid", doc.get("@id"))
        if not isinstance(uid, str):
            raise self.error(path, "a policy needs a uid", expected="an IRI", found=uid)
        self.uid = uid
        self.strings(doc, "profile", path)  # any profile: unknown terms are refused one by one
        conflict = doc.get("conflict")
        if conflict is not None:
            term = self.odrl_term(conflict, _path(path, "conflict"), "a conflict strategy")
            if term != "prohibit":
                raise self.error(
                    _path(path, "conflict"),
                    f"conflict strategy {term!r} cannot be honoured",
                    expected="prohibit",
                    found=term,
                    hint="Accord always lets prohibitions override permissions",
                )
        else:
            self.notes.append("ODRL conflict strategy not stated; Accord applies prohibit.")
        targets = [t for t in _many(doc.get("target")) if t != _TRANSFERRED_DATA]
        if targets:
            self.notes.append("ODRL target: " + ", ".join(str(t) for t in targets) + ".")
        if "inheritFrom" in doc:
            raise self.error(_path(path, "inheritFrom"), "policy inheritance is not supported")
        for i, g in enumerate(_many(doc.get("accord:groups"))):
            gpath = _path(_path(path, "accord:groups"), i)
            if not isinstance(g, Mapping):
                raise self.error(gpath, "expected a group", expected="an object", found=g)
            name = self.string(g, "accord:name", gpath)
            guid = g.get("uid", g.get("@id"))
            if name is None or not isinstance(guid, str):
                raise self.error(gpath, "a group needs a uid and an accord:name", found=g)
            self.group_names[self.expand(guid)] = name
        for i, t in enumerate(_many(doc.get("accord:thresholds"))):
            tpath = _path(_path(path, "accord:thresholds"), i)
            name = self.string(t, "accord:name", tpath) if isinstance(t, Mapping) else None
            tuid = t.get("uid", t.get("@id")) if isinstance(t, Mapping) else None
            if name is None or not isinstance(tuid, str):
                raise self.error(tpath, "a threshold needs a uid and an accord:name", found=t)
            self.threshold_names[self.expand(tuid)] = name
        groups = tuple(
            Group(
                self.string(g, "accord:name", gp) or "",
                self.strings(g, "accord:members", gp),
            )
            for i, g in enumerate(_many(doc.get("accord:groups")))
            for gp in [_path(_path(path, "accord:groups"), i)]
        )
        thresholds: list[Threshold] = []
        for i, t in enumerate(_many(doc.get("accord:thresholds"))):
            tpath = _path(_path(path, "accord:thresholds"), i)
            self.allow(t, tpath, _THRESHOLD_KEYS, "a threshold")
            if "accord:constraint" not in t:
                raise self.error(tpath, "a threshold needs accord:constraint", found="nothing")
            thresholds.append(
                Threshold(
                    self.string(t, "accord:name", tpath) or "",
                    self.constraint(t["accord:constraint"], _path(tpath, "accord:constraint")),
                    self.string(t, "accord:citation", tpath),
                    self.string(t, "dct:source", tpath),
                )
            )
        rules: list[Rule] = []
        for key, rule_kind in _RULE_CONTAINERS:
            for i, r in enumerate(_many(doc.get(key))):
                rules.append(self.rule(r, _path(_path(path, key), i), rule_kind, i))
        rules = self.ordered(rules)
        scope = None
        if "accord:scope" in doc:
            scope = self.constraint(doc["accord:scope"], _path(path, "accord:scope"))
        parties = self.strings(doc, "accord:parties", path)
        if not parties and "accord:parties" not in doc:
            parties = self.parties(doc)
        ident = self.string(doc, "accord:packId", path) or self.slug(uid, "imported")
        juris = self.string(doc, "dct:coverage", path)
        if juris is None:
            raise self.error(
                path,
                "the policy names no jurisdiction",
                expected='"dct:coverage": an ISO 3166-1 alpha-2 code or a group',
                found="nothing",
                hint='add "dct:coverage": "EU" (for example) to the policy',
            )
        effective = self.date_(doc, "accord:effectiveFrom", path) or self.date_(
            doc, "dct:issued", path
        )
        if effective is None:
            raise self.error(
                path,
                "the policy has no start date",
                expected='"accord:effectiveFrom" or "dct:issued": YYYY-MM-DD',
                found="nothing",
                hint='add "accord:effectiveFrom": "2026-01-01" (for example) to the policy',
            )
        notes = self.string(doc, "accord:notes", path)
        if self.ignored:
            self.notes.append("ODRL import ignored: " + ", ".join(self.ignored) + ".")
        if self.notes:
            notes = " ".join(filter(None, [notes, *self.notes]))
        meta = PackMeta(
            id=ident,
            title=self.string(doc, "dct:title", path) or uid,
            kind=kind,
            jurisdiction=juris,
            version=self.string(doc, "accord:version", path) or "1",
            effective_from=effective,
            instrument=self.string(doc, "accord:instrument", path),
            sunset=self.date_(doc, "accord:sunset", path),
            review_interval=self.string(doc, "accord:reviewInterval", path),
            parties=parties,
            confidence=self.enum(doc, "accord:confidence", path, Confidence)
            or Confidence.CONFIRMED,
            default=self.enum(doc, "accord:default", path, PackDefault) or PackDefault.PERMIT,
            default_citation=self.string(doc, "accord:defaultCitation", path),
            sources=self.strings(doc, "dct:source", path),
            scope=scope,
            notes=notes,
        )
        return Pack(meta, tuple(rules), groups, tuple(thresholds), self.source)

    def parties(self, doc: Mapping[str, Any]) -> tuple[str, ...]:
        out: list[str] = []
        for key in ("assigner", "assignee"):
            for item in _many(doc.get(key)):
                iri = item.get("@id", item.get("uid")) if isinstance(item, Mapping) else item
                if isinstance(iri, str) and iri.startswith(_JURISDICTION):
                    out.append(unquote(iri.removeprefix(_JURISDICTION)))
        return tuple(out)

    def ordered(self, rules: list[Rule]) -> list[Rule]:
        order = _many(self.doc.get("accord:order"))
        if not order:
            return rules
        position: dict[str, int] = {}
        for i, iri in enumerate(order):
            ident = self.local(iri, "rule") if isinstance(iri, str) else None
            if ident is None:
                raise self.error(_path("$.accord:order", i), "expected a rule IRI", found=iri)
            position[ident] = i
        return sorted(rules, key=lambda r: position.get(r.id, len(position)))


_DEFAULT_PREFIXES = {
    "odrl": ODRL_NS,
    "accord": ACCORD_NS,
    "dct": _DCT_NS,
    "xsd": _XSD_NS,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
_COMMON = {"uid", "@id", "@type", "type", "dct:description", "accord:citation", "dct:source"}
_DUTY_KEYS = _COMMON | {"action", "constraint", "accord:protects", "target", "assignee"}
_RULE_KEYS = _COMMON | {
    "action", "constraint", "target", "assigner", "assignee", "duty", "remedy", "accord:duty",
    "accord:unless", "accord:exempts", "accord:effectiveFrom", "accord:sunset",
    "accord:confidence", "accord:protects", "accord:notes",
}  # fmt: skip
_THRESHOLD_KEYS = _COMMON | {"accord:name", "accord:constraint"}
_POLICY_KEYS = _COMMON | {
    "profile", "conflict", "target", "assigner", "assignee", "inheritFrom", "permission",
    "prohibition", "obligation", "accord:exemption", "accord:packId", "dct:title",
    "dct:coverage", "accord:version", "accord:instrument", "accord:effectiveFrom", "dct:issued",
    "accord:sunset", "accord:reviewInterval", "accord:parties", "accord:confidence",
    "accord:default", "accord:defaultCitation", "accord:scope", "accord:notes", "accord:groups",
    "accord:thresholds", "accord:order",
}  # fmt: skip


def from_odrl(doc: Mapping[str, Any], *, source: str | None = None, validate: bool = True) -> Pack:
    """Read an ODRL 2.2 policy (compact JSON-LD) back into a pack.

    Reads what :func:`to_odrl` writes exactly, and plain ODRL policies that use core terms (see
    ``docs/odrl.md`` for what maps). Raises :class:`~accord.errors.PackError` whose diagnostics give
    the JSON path (``$.permission[0].constraint[0].operator``) of anything that cannot be mapped,
    and, with ``validate`` (the default), every problem the pack validator finds.
    """
    if not isinstance(doc, Mapping):
        raise PackError(
            "cannot import ODRL policy",
            [Diagnostic("expected a JSON object", file=source, path="$", found=_describe(doc))],
        )
    pack = _Reader(doc, source).policy()
    if validate:
        from accord.policy.validate import validate_pack

        report = validate_pack(pack)
        if report.errors:
            where = f" {source}" if source else ""
            raise PackError(f"the imported policy{where} is not a valid pack", report.errors)
    return pack
