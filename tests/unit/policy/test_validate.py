"""The validator: every check reports a located error (or warning), and all of them at once."""

from __future__ import annotations

import pytest

from accord.errors import PackError
from accord.policy import Pack
from accord.policy.validate import validate_text

BASE = """\
pack:
  id: demo
  title: Demo
  kind: regulation
  jurisdiction: US
  version: "1.0"
  effective_from: 2025-01-01
  sunset: 2030-12-31
  review_interval: P1Y
  default: permit
  sources: [https://example.org/law]
groups:
  friends: [GB, CA]
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
        - {fact: importer.country, op: isAnyOf, value: group:friends}
        - {threshold: bulk}
  - id: vendor-ok
    kind: permission
    text: Vendor deals are fine with a programme.
    citation: Demo s.3
    source: https://example.org/law#3
    when: {fact: transaction, op: eq, value: vendor}
    duties:
      - {id: programme, text: Keep a programme., citation: Demo s.4, deadline: P14D}
  - id: travel
    kind: exemption
    text: Travel is exempt.
    citation: Demo s.5
    source: https://example.org/law#5
    when: {fact: purposes, op: isAnyOf, value: [travel]}
    exempts: [no-brokerage]
"""


def test_base_pack_is_valid() -> None:
    report = validate_text(BASE, source="demo.yaml")
    assert report.ok, [d.render() for d in report.errors]
    assert report.warnings == []


def _replace(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


# (name, text, message, a text on the line the error must point at)
CASES = [
    ("bad pack id", _replace("id: demo", "id: Demo_1"), "bad pack id", "id: Demo_1"),
    (
        "no sources",
        _replace("  sources: [https://example.org/law]\n", ""),
        "no source URL",
        "id: demo",
    ),
    (
        "source not a URL",
        _replace("sources: [https://example.org/law]", "sources: [law]"),
        "not a URL",
        "id: demo",
    ),
    (
        "deny without citation",
        _replace("default: permit", "default: deny"),
        "`default: deny` needs a `default_citation`",
        "id: demo",
    ),
    (
        "sunset before start",
        _replace("sunset: 2030-12-31", "sunset: 2024-12-31"),
        "sunset is before its effective_from",
        "id: demo",
    ),
    (
        "bad duration",
        _replace("review_interval: P1Y", "review_interval: yearly"),
        "not an ISO 8601 duration",
        "id: demo",
    ),
    (
        "bad deadline",
        _replace("deadline: P14D", "deadline: 14 days"),
        "not an ISO 8601 duration",
        "deadline: 14 days",
    ),
    (
        "unknown fact",
        _replace(
            "{fact: transaction, op: eq, value: data-brokerage}",
            "{fact: transaction_kind, op: eq, value: data-brokerage}",
        ),
        "unknown fact 'transaction_kind'",
        "transaction_kind",
    ),
    (
        "unknown subject category",
        _replace("data.subjects.human-genomic", "data.subjects.genomes"),
        "unknown data category 'genomes'",
        "data.subjects.genomes",
    ),
    (
        "unknown operator",
        _replace("op: eq, value: data-brokerage", "op: equals, value: data-brokerage"),
        "unknown operator 'equals'",
        "op: equals",
    ),
    (
        "gt with a list",
        _replace("value: 100", "value: [100]"),
        "gt compares with a single value",
        "fact: data.subjects",
    ),
    (
        "isAnyOf with a scalar",
        _replace("value: group:friends", "value: GB"),
        "isAnyOf compares with a list",
        "value: GB",
    ),
    (
        "eq on a list fact",
        _replace(
            "{fact: purposes, op: isAnyOf, value: [travel]}",
            "{fact: purposes, op: eq, value: travel}",
        ),
        "operator eq does not apply to purposes",
        "fact: purposes",
    ),
    (
        "wrong value type",
        _replace("value: 100", "value: lots"),
        "wrong value type",
        "fact: data.subjects",
    ),
    (
        "isA unknown term",
        _replace(
            "{fact: purposes, op: isAnyOf, value: [travel]}",
            "{fact: purposes, op: isA, value: travelling}",
        ),
        "unknown purpose 'travelling'",
        "travelling",
    ),
    (
        "unknown group",
        _replace("group:friends", "group:frends"),
        "unknown group 'frends'",
        "group:frends",
    ),
    (
        "unknown threshold",
        _replace("{threshold: bulk}", "{threshold: bulky}"),
        "unknown threshold 'bulky'",
        "threshold: bulky",
    ),
    (
        "duplicate rule id",
        _replace("  - id: vendor-ok\n", "  - id: no-brokerage # again\n"),
        "duplicate rule id 'no-brokerage'",
        "# again",
    ),
    (
        "exemption names unknown rule",
        _replace("exempts: [no-brokerage]", "exempts: [no-brokerag]"),
        "exemption names unknown rule 'no-brokerag'",
        "id: travel",
    ),
    (
        "missing citation",
        _replace("    citation: Demo s.3\n", ""),
        "has no citation",
        "id: vendor-ok",
    ),
    (
        "missing source",
        _replace("    source: https://example.org/law#3\n", ""),
        "has no source URL",
        "id: vendor-ok",
    ),
    (
        "rule after pack sunset",
        _replace(
            "    citation: Demo s.3\n", "    citation: Demo s.3\n    effective_from: 2031-01-01\n"
        ),
        "starts after the pack's sunset",
        "id: vendor-ok",
    ),
    (
        "rule ends before pack",
        _replace("    citation: Demo s.3\n", "    citation: Demo s.3\n    sunset: 2024-06-01\n"),
        "ends before the pack starts",
        "id: vendor-ok",
    ),
    (
        "contradictory eq",
        _replace(
            "{fact: importer.country, op: isAnyOf, value: group:friends}",
            "{fact: transaction, op: eq, value: vendor}",
        ),
        "can never hold",
        "and:",
    ),
    (
        "empty numeric range",
        _replace(
            "{fact: importer.country, op: isAnyOf, value: group:friends}",
            "{fact: data.subjects.human-genomic, op: lt, value: 50}",
        ),
        "can never hold",
        "and:",
    ),
    (
        "duties on a prohibition",
        _replace(
            "        - {threshold: bulk}\n",
            "        - {threshold: bulk}\n    duties: [{id: d, text: t, citation: c}]\n",
        ),
        "cannot carry duties",
        "id: no-brokerage",
    ),
    (
        "exempts on a permission",
        _replace(
            "    duties:\n      - {id: programme",
            "    exempts: [travel]\n    duties:\n      - {id: programme",
        ),
        "only exemptions have `exempts`",
        "id: vendor-ok",
    ),
]


def _line_of(text: str, anchor: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if anchor in line)


@pytest.mark.parametrize(
    ("text", "message", "anchor"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_check_reports_a_located_error(text: str, message: str, anchor: str) -> None:
    line = _line_of(text, anchor)
    report = validate_text(text, source="demo.yaml")
    hits = [d for d in report.errors if message in d.message]
    assert hits, [d.render() for d in report.errors]
    d = hits[0]
    assert d.file == "demo.yaml"
    assert d.line == line, d.render()
    assert d.column is not None
    assert d.path
    assert d.expected is not None or d.hint is not None or d.found is not None


def test_every_error_is_collected_and_raised_together() -> None:
    text = (
        BASE.replace("id: demo", "id: Demo!")
        .replace("{threshold: bulk}", "{threshold: nope}")
        .replace("op: eq, value: vendor", "op: equals, value: vendor")
    )
    with pytest.raises(PackError) as info:
        Pack.from_text(text, source="demo.yaml")
    messages = [d.message for d in info.value.diagnostics]
    assert len(messages) >= 3
    assert any("bad pack id" in m for m in messages)
    assert any("unknown threshold" in m for m in messages)
    assert any("unknown operator" in m for m in messages)
    assert "3 problems" in info.value.message or "problems" in info.value.message


def test_uncertain_confidence_is_a_warning_not_an_error() -> None:
    report = validate_text(
        _replace("  default: permit", "  default: permit\n  confidence: uncertain")
    )
    assert report.ok
    assert any("uncertain" in w.message for w in report.warnings)


def test_did_you_mean_for_facts_and_rules() -> None:
    report = validate_text(
        _replace(
            "{fact: transaction, op: eq, value: vendor}",
            "{fact: transactoin, op: eq, value: vendor}",
        )
    )
    (d,) = report.errors
    assert d.hint is not None
    assert "'transaction'" in d.hint


def test_validation_never_evaluates() -> None:
    # A pack whose rule would error at evaluation time (comparing text with a number) is
    # still only checked statically: the validator flags the value type.
    report = validate_text(
        _replace(
            "{fact: transaction, op: eq, value: vendor}", "{fact: transaction, op: gt, value: 3}"
        )
    )
    assert any("wrong value type" in d.message for d in report.errors)
