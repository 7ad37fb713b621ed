"""Entry envelopes: canonical bytes, validation and file loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import InputError
from accord.ledger import merkle
from accord.ledger.entries import SCHEMA, Entry, load_entries, parse_entries


def test_canonical_bytes_are_rfc8785() -> None:
    entry = Entry("decision", {"z": 1, "a": [True, None, "é"]})
    assert entry.to_bytes() == (
        b'{"body":{"a":[true,null,"\xc3\xa9"],"z":1},"schema":"accord.entry/1","type":"decision"}'
    )
    assert entry.leaf_hash() == merkle.leaf_hash(entry.to_bytes())
    assert Entry.from_bytes(entry.to_bytes()) == entry


def test_non_canonical_bytes_are_rejected() -> None:
    with pytest.raises(InputError, match="canonical"):
        Entry.from_bytes(b'{"type":"event","body":{},"schema":"accord.entry/1"}')


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Decision", "body": {}},
        {"type": "event", "body": []},
        {"type": "event"},
        {"type": "event", "body": {}, "extra": 1},
        {"type": "event", "body": {}, "schema": "accord.entry/9"},
        {"type": "event", "body": {"n": 2**60}},
        [],
    ],
)
def test_invalid_entries(data: object) -> None:
    with pytest.raises(InputError):
        Entry.from_mapping(data).to_bytes()


def test_too_large_entries_are_refused() -> None:
    with pytest.raises(InputError, match="too large"):
        Entry("event", {"blob": "x" * 70_000}).to_bytes()


def test_load_json_jsonl_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"type": "event", "body": {"n": 1}}]', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        '{"type": "event", "body": {"n": 1}}\n\n{"type": "decision", "body": {}}\n',
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text(
        "- type: event\n  body: {n: 1, when: 2026-11-28}\n", encoding="utf-8"
    )
    assert [e.type for e in load_entries(tmp_path / "a.json")] == ["event"]
    assert [e.type for e in load_entries(tmp_path / "b.jsonl")] == ["event", "decision"]
    (c,) = load_entries(tmp_path / "c.yaml")
    assert c.body == {"n": 1, "when": "2026-11-28"}
    assert c.schema == SCHEMA


def test_errors_point_at_the_line() -> None:
    with pytest.raises(InputError) as info:
        parse_entries('{"type": "event", "body": {}}\n{"type": 5, "body": {}}\n', file="x.jsonl")
    (diag,) = info.value.diagnostics
    assert (diag.file, diag.line, diag.path) == ("x.jsonl", 2, "#1.type")
    with pytest.raises(InputError) as info:
        parse_entries('{"type": "event", "body": {}}\n{"type": \n', file="y.jsonl")
    assert info.value.diagnostics[0].line == 2
    with pytest.raises(InputError):
        parse_entries("- [unclosed\n", file="z.yaml")
    with pytest.raises(InputError, match="cannot read"):
        load_entries("/nonexistent/entries.json")
