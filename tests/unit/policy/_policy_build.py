"""Small builders for packs and transfers used by the policy tests."""

from __future__ import annotations

from typing import Any

import yaml

from accord.policy import Pack, Transfer

SOURCE = "https://example.org/law"


def pack_data(rules: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    """A valid pack as plain data; ``meta`` overrides ``pack:`` fields (None removes one)."""
    head: dict[str, Any] = {
        "id": "test-pack",
        "title": "Test pack",
        "kind": "regulation",
        "jurisdiction": "US",
        "version": "1",
        "effective_from": "2025-01-01",
        "default": "permit",
        "sources": [SOURCE],
    }
    for key, value in meta.items():
        if value is None:
            head.pop(key, None)
        else:
            head[key] = value
    full_rules = []
    for r in rules:
        rule = {"citation": f"Test s.{r['id']}", "source": SOURCE, "text": f"rule {r['id']}", **r}
        full_rules.append(rule)
    return {"pack": head, "rules": full_rules}


def make_pack(
    rules: list[dict[str, Any]], *, extra: dict[str, Any] | None = None, **meta: Any
) -> Pack:
    """Parse and validate a pack built by :func:`pack_data`."""
    data = pack_data(rules, **meta)
    data.update(extra or {})
    return Pack.from_text(yaml.safe_dump(data, sort_keys=False), source="test.yaml")


def make_transfer(**facts: Any) -> Transfer:
    """A transfer US → CN with ``facts`` merged in (nested dicts merged one level deep)."""
    data: dict[str, Any] = {
        "id": "tx-test",
        "date": "2026-06-01",
        "exporter": {"country": "US", "kind": "company"},
        "importer": {"country": "CN", "kind": "company"},
        "data": {"categories": ["contact-details"]},
    }
    for key, value in facts.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Transfer.from_mapping(data, source="test")
