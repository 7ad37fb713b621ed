"""The pack parser keeps source locations and reports every structural problem, located."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from accord.errors import PackError
from accord.policy import Atomic, Logical, LogicalOp, Operator, Pack, RuleKind, ThresholdRef
from accord.policy.syntax import parse_pack

PACK = """\
pack:
  id: demo
  title: Demo
  kind: regulation
  jurisdiction: US
  version: "1.0"
  effective_from: 2025-04-08
  default: permit
  sources: [https://example.org/law]
  scope: {fact: exporter.country, op: eq, value: US}
thresholds:
  bulk:
    fact: data.subjects.human-genomic
    op: gt
    value: 100
    citation: Demo s.2
rules:
  - id: no-brokerage
    kind: prohibition
    text: No brokerage.
    citation: Demo s.1
    source: https://example.org/law#1
    when:
      and:
        - {fact: transaction, op: eq, value: data-brokerage}
        - {threshold: bulk}
"""


def test_parses_pack_with_node_locations() -> None:
    pack = Pack.from_text(PACK, source="demo.yaml")
    assert pack.meta.id == "demo"
    assert pack.meta.effective_from == date(2025, 4, 8)
    assert pack.meta.location is not None
    assert (pack.meta.location.line, pack.meta.location.column) == (2, 3)
    rule = pack.rules[0]
    assert rule.kind is RuleKind.PROHIBITION
    assert rule.location is not None
    assert rule.location.line == 18
    when = rule.when
    assert isinstance(when, Logical)
    assert when.op is LogicalOp.AND
    first, second = when.args
    assert isinstance(first, Atomic)
    assert first.op == Operator.EQ
    assert first.location is not None
    assert (first.location.file, first.location.line, first.location.column) == (
        "demo.yaml",
        25,
        11,
    )
    assert isinstance(second, ThresholdRef)
    assert second.name == "bulk"
    assert pack.threshold("bulk") is not None


def test_locations_do_not_take_part_in_equality() -> None:
    a = Pack.from_text(PACK, source="a.yaml")
    b = Pack.from_text("\n\n" + PACK, source="b.yaml")
    assert a == b
    assert a.rules[0].location != b.rules[0].location


def test_json_pack_is_accepted(tmp_path: Path) -> None:
    import json

    import yaml

    path = tmp_path / "demo.json"
    path.write_text(json.dumps(yaml.safe_load(PACK), default=str), encoding="utf-8")
    assert Pack.from_file(path) == Pack.from_text(PACK)


def test_norway_stays_a_country_code() -> None:
    text = PACK.replace("value: US}", "value: NO}")
    scope = Pack.from_text(text).meta.scope
    assert isinstance(scope, Atomic)
    assert scope.value == "NO"


def _errors(text: str) -> list[tuple[int | None, int | None, str, str | None]]:
    result = parse_pack(text, source="bad.yaml")
    return [(d.line, d.column, d.message, d.hint) for d in result.errors]


def test_malformed_yaml_is_located() -> None:
    with pytest.raises(PackError) as info:
        Pack.from_text("pack:\n  id: [oops\n", source="bad.yaml")
    (diag,) = info.value.diagnostics
    assert diag.file == "bad.yaml"
    assert diag.line is not None
    assert diag.line >= 2
    assert "malformed YAML" in diag.message


def test_unknown_keys_get_a_did_you_mean_hint() -> None:
    errors = _errors(PACK.replace("  title: Demo", "  titel: Demo"))
    unknown = [e for e in errors if "unknown key 'titel'" in e[2]]
    assert unknown
    assert unknown[0][:2] == (3, 3)
    assert "did you mean 'title'" in str(unknown[0][3])
    missing = [e for e in errors if "missing required key 'title'" in e[2]]
    assert missing
    assert missing[0][0] == 2


def test_every_structural_problem_is_reported_not_just_the_first() -> None:
    text = PACK.replace("kind: prohibition", "kind: prohibit").replace(
        "effective_from: 2025-04-08", "effective_from: 2025-13-45"
    )
    errors = _errors(text)
    messages = " | ".join(e[2] for e in errors)
    assert "unknown value for kind" in messages
    assert "bad date" in messages
    kind_error = next(e for e in errors if "unknown value for kind" in e[2])
    assert kind_error[:2] == (19, 11)
    assert "did you mean 'prohibition'" in str(kind_error[3])


def test_bad_constraint_shapes_are_located() -> None:
    text = PACK.replace("{threshold: bulk}", "{fact: transaction, op: eq}")
    errors = _errors(text)
    assert any("missing required key 'value'" in e[2] and e[0] == 26 for e in errors)
    text = PACK.replace("{threshold: bulk}", "{not: [{threshold: bulk}]}")
    assert any("'not' takes one constraint" in e[2] for e in _errors(text))
    text = PACK.replace("{threshold: bulk}", "{and: [], or: []}")
    assert any("one logical operator per mapping" in e[2] for e in _errors(text))


def test_duplicate_keys_are_errors() -> None:
    errors = _errors(PACK.replace("  title: Demo", "  title: Demo\n  title: Again"))
    assert any("duplicate key 'title'" in e[2] for e in errors)


def test_a_bare_list_condition_means_and() -> None:
    text = PACK.replace(
        "      and:\n        - {fact: transaction, op: eq, value: data-brokerage}\n"
        "        - {threshold: bulk}\n",
        "      - {fact: transaction, op: eq, value: data-brokerage}\n      - {threshold: bulk}\n",
    )
    assert Pack.from_text(text) == Pack.from_text(PACK)


def test_missing_file_is_a_pack_error(tmp_path: Path) -> None:
    with pytest.raises(PackError) as info:
        Pack.from_file(tmp_path / "nope.yaml")
    assert info.value.exit_code == 2
