"""JSON Schemas of the two input documents, as published in ``docs/``.

:func:`transfer_schema` is generated from the pydantic model; :func:`pack_schema` describes the
pack language's *shape* (keys and value types). The schemas help editors and other tools; Accord
itself checks inputs with the parser and the validator, which report far more (vocabulary, dates,
contradictions) and locate every problem.
"""

from __future__ import annotations

import json
from typing import Any

from accord.policy.ast import Confidence, LogicalOp, Operator, PackDefault, PackKind, RuleKind
from accord.policy.transfer import json_schema as transfer_schema

__all__ = ["pack_schema", "render", "transfer_schema"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _str(description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if description:
        out["description"] = description
    return out


def _date(description: str = "") -> dict[str, Any]:
    return {"type": "string", "format": "date", "description": description or "YYYY-MM-DD"}


def _strings(description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
    if description:
        out["description"] = description
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def pack_schema() -> dict[str, Any]:
    """The JSON Schema of a rule pack (see docs/pack-language.md)."""
    value: dict[str, Any] = {
        "description": "A scalar, a date, a list of them, or 'group:NAME'.",
        "anyOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}},
        ],
    }
    constraint: dict[str, Any] = {
        "description": "An atomic constraint, a logical constraint or a threshold reference.",
        "anyOf": [
            {"$ref": "#/$defs/atomic"},
            {"$ref": "#/$defs/logical"},
            {"$ref": "#/$defs/threshold_ref"},
            {"type": "array", "items": {"$ref": "#/$defs/constraint"}, "minItems": 1},
        ],
    }
    logical_ops = [op.value for op in LogicalOp if op is not LogicalOp.NOT]
    logical: dict[str, Any] = {
        "oneOf": [
            *(
                {
                    "type": "object",
                    "properties": {
                        op: {
                            "type": "array",
                            "items": {"$ref": "#/$defs/constraint"},
                            "minItems": 1,
                        }
                    },
                    "required": [op],
                    "additionalProperties": False,
                }
                for op in logical_ops
            ),
            {
                "type": "object",
                "properties": {"not": {"$ref": "#/$defs/constraint"}},
                "required": ["not"],
                "additionalProperties": False,
            },
        ]
    }
    duty: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": _str(),
            "text": _str(),
            "citation": _str(),
            "source": _str("URL of the provision"),
            "deadline": _nullable(_str("ISO 8601 duration, e.g. P14D")),
            "protects": _strings("glossary ids of rights/principles served"),
        },
        "required": ["id", "text"],
        "additionalProperties": False,
    }
    rule: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": _str(),
            "kind": {"enum": [k.value for k in RuleKind]},
            "text": _str(),
            "citation": _str(),
            "source": _str("URL of the provision"),
            "effective_from": _nullable(_date()),
            "sunset": _nullable(_date()),
            "confidence": {"enum": [c.value for c in Confidence]},
            "protects": _strings(),
            "when": _nullable({"$ref": "#/$defs/constraint"}),
            "unless": _nullable({"$ref": "#/$defs/constraint"}),
            "duties": {"type": "array", "items": duty},
            "exempts": _strings("rule ids, or '*'"),
            "notes": _nullable(_str()),
        },
        "required": ["id", "kind", "text", "citation", "source"],
        "additionalProperties": False,
    }
    meta: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
            "title": _str(),
            "kind": {"enum": [k.value for k in PackKind]},
            "jurisdiction": _str("ISO 3166-1 alpha-2 code, or a group for agreements"),
            "instrument": _nullable(_str()),
            "version": _str(),
            "effective_from": _date(),
            "sunset": _nullable(_date()),
            "review_interval": _nullable(_str("ISO 8601 duration")),
            "parties": _strings(),
            "confidence": {"enum": [c.value for c in Confidence]},
            "default": {"enum": [d.value for d in PackDefault]},
            "default_citation": _nullable(_str("required when default is deny")),
            "sources": {**_strings("URLs of the official text"), "minItems": 1},
            "scope": _nullable({"$ref": "#/$defs/constraint"}),
            "notes": _nullable(_str()),
        },
        "required": ["id", "title", "kind", "jurisdiction", "version", "effective_from", "sources"],
        "additionalProperties": False,
    }
    return {
        "$schema": _DRAFT,
        "title": "Accord rule pack",
        "type": "object",
        "properties": {
            "pack": meta,
            "groups": {"type": "object", "additionalProperties": _strings()},
            "thresholds": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "fact": _str(),
                        "op": {"enum": [o.value for o in Operator]},
                        "value": value,
                        "citation": _str(),
                        "source": _str(),
                    },
                    "required": ["citation"],
                },
            },
            "rules": {"type": "array", "items": rule},
        },
        "required": ["pack", "rules"],
        "additionalProperties": False,
        "$defs": {
            "constraint": constraint,
            "atomic": {
                "type": "object",
                "properties": {
                    "fact": _str("a fact path of the transfer document"),
                    "op": {"enum": [o.value for o in Operator]},
                    "value": value,
                },
                "required": ["fact", "op", "value"],
                "additionalProperties": False,
            },
            "logical": logical,
            "threshold_ref": {
                "type": "object",
                "properties": {"threshold": _str()},
                "required": ["threshold"],
                "additionalProperties": False,
            },
        },
    }


def render(schema: dict[str, Any]) -> str:
    """The schema as the text stored in docs/ (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
