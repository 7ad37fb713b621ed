"""AST → YAML (or JSON-ready data) that parses back to an equal pack.

``parse(print(pack)) == pack`` for every valid pack (locations aside); a hypothesis property in the
test suite checks it. Atomic constraints and short lists are written in flow style so printed packs
read like hand-written ones.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from accord.policy.ast import (
    Atomic,
    Constraint,
    Duty,
    LogicalOp,
    Pack,
    PackMeta,
    Rule,
    Threshold,
    ThresholdRef,
    Value,
)

__all__ = ["constraint_to_data", "pack_to_data", "print_pack"]


class _Flow(dict[str, Any]):
    """A mapping written in flow style: ``{fact: x, op: eq, value: y}``."""


class _FlowList(list[Any]):
    """A list written in flow style: ``[a, b]``."""


class _Dumper(yaml.SafeDumper):
    pass


def _repr_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _repr_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(_Flow, _repr_flow)
_Dumper.add_representer(_FlowList, _repr_flow_list)


def _value(value: Value, *, json_ready: bool) -> Any:
    if isinstance(value, tuple):
        return _FlowList(_value(v, json_ready=json_ready) for v in value)
    if json_ready and isinstance(value, date):
        return value.isoformat()
    return value


def constraint_to_data(c: Constraint, *, json_ready: bool = False) -> dict[str, Any]:
    """A constraint as plain data, in the pack language's shape."""
    if isinstance(c, Atomic):
        return _Flow(fact=c.fact, op=str(c.op), value=_value(c.value, json_ready=json_ready))
    if isinstance(c, ThresholdRef):
        return _Flow(threshold=c.name)
    if c.op is LogicalOp.NOT:
        return {"not": constraint_to_data(c.args[0], json_ready=json_ready)}
    return {str(c.op): [constraint_to_data(a, json_ready=json_ready) for a in c.args]}


def _date(d: date | None, *, json_ready: bool) -> Any:
    if d is None:
        return None
    return d.isoformat() if json_ready else d


def _strings(items: tuple[str, ...]) -> list[str]:
    return _FlowList(items)


def _meta(m: PackMeta, *, json_ready: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "title": m.title,
        "kind": str(m.kind),
        "jurisdiction": m.jurisdiction,
    }
    if m.instrument is not None:
        out["instrument"] = m.instrument
    out["version"] = m.version
    out["effective_from"] = _date(m.effective_from, json_ready=json_ready)
    out["sunset"] = _date(m.sunset, json_ready=json_ready)
    if m.review_interval is not None:
        out["review_interval"] = m.review_interval
    if m.parties:
        out["parties"] = _strings(m.parties)
    out["confidence"] = str(m.confidence)
    out["default"] = str(m.default)
    if m.default_citation is not None:
        out["default_citation"] = m.default_citation
    out["sources"] = list(m.sources)
    if m.scope is not None:
        out["scope"] = constraint_to_data(m.scope, json_ready=json_ready)
    if m.notes is not None:
        out["notes"] = m.notes
    return out


def _threshold(t: Threshold, *, json_ready: bool) -> dict[str, Any]:
    data = constraint_to_data(t.constraint, json_ready=json_ready)
    out: dict[str, Any] = dict(data) if not isinstance(t.constraint, Atomic) else {**data}
    if t.citation is not None:
        out["citation"] = t.citation
    if t.source is not None:
        out["source"] = t.source
    return out


def _duty(d: Duty) -> dict[str, Any]:
    out: dict[str, Any] = {"id": d.id, "text": d.text}
    for key in ("citation", "source", "deadline"):
        value = getattr(d, key)
        if value is not None:
            out[key] = value
    if d.protects:
        out["protects"] = _strings(d.protects)
    return out


def _rule(r: Rule, *, json_ready: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "kind": str(r.kind), "text": r.text}
    if r.citation is not None:
        out["citation"] = r.citation
    if r.source is not None:
        out["source"] = r.source
    if r.effective_from is not None:
        out["effective_from"] = _date(r.effective_from, json_ready=json_ready)
    if r.sunset is not None:
        out["sunset"] = _date(r.sunset, json_ready=json_ready)
    if r.confidence is not None:
        out["confidence"] = str(r.confidence)
    if r.protects:
        out["protects"] = _strings(r.protects)
    if r.when is not None:
        out["when"] = constraint_to_data(r.when, json_ready=json_ready)
    if r.unless is not None:
        out["unless"] = constraint_to_data(r.unless, json_ready=json_ready)
    if r.duties:
        out["duties"] = [_duty(d) for d in r.duties]
    if r.exempts:
        out["exempts"] = _strings(r.exempts)
    if r.notes is not None:
        out["notes"] = r.notes
    return out


def pack_to_data(pack: Pack, *, json_ready: bool = False) -> dict[str, Any]:
    """The pack as plain data (``json_ready`` writes dates as ISO strings)."""
    out: dict[str, Any] = {"pack": _meta(pack.meta, json_ready=json_ready)}
    if pack.groups:
        out["groups"] = {g.name: _strings(g.members) for g in pack.groups}
    if pack.thresholds:
        out["thresholds"] = {t.name: _threshold(t, json_ready=json_ready) for t in pack.thresholds}
    out["rules"] = [_rule(r, json_ready=json_ready) for r in pack.rules]
    return out


def print_pack(pack: Pack) -> str:
    """The pack as YAML text in the pack language."""
    text: str = yaml.dump(
        pack_to_data(pack),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text
