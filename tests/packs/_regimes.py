"""Helpers for the regime pack tests: build transfer documents from a base plus overrides."""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from accord.policy.ast import Pack
from accord.policy.decide import decide
from accord.policy.decision import Decision
from accord.policy.transfer import Transfer

PACKS = Path(__file__).resolve().parents[2] / "src" / "accord" / "packs"
REGIME_PACKS = ("eu-gdpr-ch5", "uk-gdpr", "cn-pipl", "in-dpdp", "ru-152fz")
AGREEMENT = PACKS / "agreements" / "example-plurilateral.yaml"

#: A fully specified transfer; cases override what they test.
BASE: dict[str, Any] = {
    "id": "case",
    "date": "2026-06-01",
    "exporter": {
        "name": "Exporter",
        "country": "DE",
        "kind": "company",
        "role": "controller",
        "ciio": False,
        "public_powers": False,
    },
    "importer": {
        "name": "Importer",
        "country": "IN",
        "kind": "company",
        "role": "processor",
        "subject_to": [],
        "certifications": [],
    },
    "data": {
        "categories": ["contact-details"],
        "subjects": {"contact-details": 500},
        "subject_countries": ["DE"],
        "important_data": False,
    },
    "purposes": ["service-provision"],
    "transaction": "vendor",
    "mechanisms": [],
    "safeguards": ["minimisation", "encryption-in-transit", "provenance-records"],
    "occasional": False,
    "initial_collection": False,
    "exemptions_claimed": [],
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` into a copy of ``base``; a value of ``...`` deletes the key (unknown)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if value is ...:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def transfer(over: dict[str, Any] | None = None, **top: Any) -> Transfer:
    """A transfer document: BASE with the overrides applied."""
    data = merge(BASE, {**(over or {}), **top})
    return Transfer.from_mapping(data, source="<case>")


@cache
def pack(pack_id: str) -> Pack:
    """A shipped pack by id (the agreement is ``tdfa``)."""
    if pack_id == "tdfa":
        return Pack.from_file(AGREEMENT)
    return Pack.from_file(PACKS / f"{pack_id}.yaml")


def run(t: Transfer, *pack_ids: str) -> Decision:
    """Decide ``t`` on its own date against the named packs."""
    on = t.date or date.today()
    return decide(t, [pack(p) for p in pack_ids], as_of=on)


def deciding_rules(d: Decision) -> set[str]:
    """Rule ids that permitted, denied, exempted or obliged (``(default)`` for a pack default)."""
    out: set[str] = set()
    for r in d.to_dict()["reasons"]:
        if r["effect"] in {"permit", "deny", "exemption", "obligation"}:
            out.add(r["rule"])
        elif r["effect"] == "default":
            out.add(f"{r['pack']}:(default)")
    return out


def obligation_ids(d: Decision) -> set[str]:
    """Ids of the decision's obligations."""
    return {o["id"] for o in d.to_dict()["obligations"]}
