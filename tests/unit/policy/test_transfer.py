"""Transfer documents: formats, unknown facts, located errors, vocabulary checks, the schema."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from accord.errors import TransferError
from accord.policy import Transfer, load_transfers
from accord.policy.schemas import render, transfer_schema
from accord.policy.transfer import FACTS, fact_spec

DOCS = Path(__file__).resolve().parents[3] / "docs"

GOOD = """\
id: tx-1
date: 2026-11-28
exporter:
  country: US
  kind: company
importer:
  country: NO
  kind: company
  certifications:
    - {scheme: eu-us-dpf, status: active, valid_until: 2027-09-30}
data:
  categories: [human-genomic]
  subjects: {human-genomic: 150}
transaction: vendor
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_yaml_and_keeps_unknown_facts_unknown(tmp_path: Path) -> None:
    t = Transfer.from_file(_write(tmp_path, "t.yaml", GOOD))
    assert t.id == "tx-1"
    assert t.date == date(2026, 11, 28)
    assert t.importer.country == "NO"  # not the YAML 1.1 boolean
    assert t.importer.covered_person is None
    assert t.data.government_related is None
    assert t.safeguards is None
    assert t.purposes is None
    assert t.importer.certifications is not None
    assert t.importer.certifications[0].valid_until == date(2027, 9, 30)


def test_absent_exemption_claims_mean_none_claimed(tmp_path: Path) -> None:
    """An exporter claims what it relies on: no list (or null) is no claim, never unknown."""
    absent = Transfer.from_file(_write(tmp_path, "t.yaml", GOOD))
    assert absent.exemptions_claimed == ()
    null = Transfer.from_text(GOOD + "exemptions_claimed: null\n")[0]
    assert null.exemptions_claimed == ()
    claimed = Transfer.from_text(GOOD + "exemptions_claimed: [dsp-travel]\n")[0]
    assert claimed.exemptions_claimed == ("dsp-travel",)
    # Other absent facts stay unknown, including the PADFA control test.
    assert absent.importer.adversary_controlled is None
    assert absent.mechanisms is None
    assert "none claimed" in FACTS["exemptions_claimed"].description
    schema = transfer_schema()["properties"]["exemptions_claimed"]
    assert schema["default"] == []


def test_exemption_claims_are_still_checked(tmp_path: Path) -> None:
    diags = _diags(tmp_path, GOOD + "exemptions_claimed: dsp-travel\n")
    assert [d[2] for d in diags] == ["exemptions_claimed"]
    assert "a list" in diags[0][3]
    ((_line, _column, path, rendered),) = _diags(
        tmp_path, GOOD + "exemptions_claimed: [dsp-travl]\n"
    )
    assert path == "exemptions_claimed[0]"
    assert "did you mean 'dsp-travel'" in rendered


def test_adversary_control_is_a_yes_no_fact(tmp_path: Path) -> None:
    text = GOOD.replace(
        "importer:\n  country: NO\n", "importer:\n  country: NO\n  adversary_controlled: true\n"
    )
    assert Transfer.from_text(text)[0].importer.adversary_controlled is True
    spec = fact_spec("importer.adversary_controlled")
    assert spec is not None
    assert spec.type == "bool"
    ((_line, _column, path, rendered),) = _diags(tmp_path, text.replace(": true", ": perhaps"))
    assert path == "importer.adversary_controlled"
    assert "true or false" in rendered


def test_reads_json_lists_and_yaml_streams(tmp_path: Path) -> None:
    one = Transfer.from_file(_write(tmp_path, "t.yaml", GOOD))
    data = json.loads(one.model_dump_json())
    as_json = _write(tmp_path, "t.json", json.dumps([data, {**data, "id": "tx-2"}]))
    assert [t.id for t in load_transfers(as_json)] == ["tx-1", "tx-2"]
    stream = _write(tmp_path, "s.yaml", GOOD + "---\n" + GOOD.replace("tx-1", "tx-3"))
    assert [t.id for t in load_transfers(stream)] == ["tx-1", "tx-3"]
    with pytest.raises(TransferError, match="2 transfer documents"):
        Transfer.from_file(stream)


def test_models_are_frozen() -> None:
    t = Transfer.from_text(GOOD)[0]
    with pytest.raises(ValueError, match="frozen"):
        t.id = "other"  # type: ignore[misc]


def _diags(tmp_path: Path, text: str) -> list[tuple[int | None, int | None, str | None, str]]:
    with pytest.raises(TransferError) as info:
        load_transfers(_write(tmp_path, "bad.yaml", text))
    assert info.value.exit_code == 2
    for d in info.value.diagnostics:
        assert d.file is not None
        assert d.file.endswith("bad.yaml")
    return [(d.line, d.column, d.path, d.render()) for d in info.value.diagnostics]


def test_wrong_types_are_located_with_expected_and_found(tmp_path: Path) -> None:
    text = GOOD.replace("  kind: company\nimporter", "  kind: company\n  ciio: perhaps\nimporter")
    ((line, column, path, rendered),) = _diags(tmp_path, text)
    assert (line, column, path) == (6, 9, "exporter.ciio")
    assert "expected: true or false" in rendered
    assert "found:    string 'perhaps'" in rendered


def test_nested_list_items_are_located(tmp_path: Path) -> None:
    text = GOOD.replace("status: active", "status: activ")
    ((line, column, path, rendered),) = _diags(tmp_path, text)
    assert (line, path) == (10, "importer.certifications[0].status")
    assert column is not None
    assert column > 5
    assert "'activ'" in rendered
    assert "did you mean 'active'" in rendered


def test_missing_required_fields_and_unknown_fields(tmp_path: Path) -> None:
    text = GOOD.replace("exporter:\n  country: US\n", "exporter:\n").replace(
        "transaction: vendor", "transactoin: vendor"
    )
    diags = _diags(tmp_path, text)
    paths = {d[2]: d for d in diags}
    assert "missing required field 'country'" in paths["exporter.country"][3]
    assert paths["exporter.country"][0] == 4  # the exporter mapping
    assert "did you mean 'transaction'" in paths["transactoin"][3]
    assert paths["transactoin"][:2] == (13, 1)  # the key, not its value


def test_unknown_vocabulary_ids_suggest_the_closest(tmp_path: Path) -> None:
    text = GOOD.replace("[human-genomic]", "[human-genomics]").replace(
        "transaction: vendor", "transaction: vendr"
    )
    diags = _diags(tmp_path, text)
    by_path = {d[2]: d for d in diags}
    cat = by_path["data.categories[0]"]
    assert cat[0] == 12
    assert "unknown category 'human-genomics'" in cat[3]
    assert "did you mean 'human-genomic'" in cat[3]
    assert "did you mean 'vendor'" in by_path["transaction"][3]


def test_unknown_subject_category_and_country(tmp_path: Path) -> None:
    text = GOOD.replace("{human-genomic: 150}", "{human-genomix: 150}").replace(
        "country: NO", "country: XX"
    )
    paths = {d[2] for d in _diags(tmp_path, text)}
    assert paths == {"data.subjects.human-genomix", "importer.country"}


def test_malformed_yaml_and_json_are_located(tmp_path: Path) -> None:
    ((line, _column, _path, rendered),) = _diags(tmp_path, "id: [x\nexporter: {}\n")
    assert line == 2
    assert "malformed YAML" in rendered
    with pytest.raises(TransferError) as info:
        load_transfers(_write(tmp_path, "bad.json", '{"id": "x",\n "exporter": }'))
    (d,) = info.value.diagnostics
    assert d.line == 2
    assert "malformed JSON" in d.message


def test_from_mapping_reports_field_paths() -> None:
    with pytest.raises(TransferError) as info:
        Transfer.from_mapping({"id": "x", "exporter": {"country": "US"}}, source="api")
    paths = sorted(d.path or "" for d in info.value.diagnostics)
    assert paths == ["data", "importer"]
    assert all(d.file == "api" for d in info.value.diagnostics)


def test_a_document_must_be_a_mapping(tmp_path: Path) -> None:
    diags = _diags(tmp_path, "- 1\n- 2\n")
    assert len(diags) == 2
    assert all("must be a mapping" in d[3] for d in diags)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="no such file"):
        load_transfers(tmp_path / "absent.yaml")


def test_fact_paths_follow_the_model() -> None:
    assert fact_spec("importer.covered_person") is not None
    assert fact_spec("data.subjects.human-genomic") is not None
    assert fact_spec("data.subjects.") is None
    assert fact_spec("importer.shoe_size") is None
    for path in FACTS:
        if path == "intra_group":
            continue
        node: object = Transfer
        for part in path.split("."):
            fields = node.model_fields  # type: ignore[attr-defined]
            assert part in fields, path
            ann = fields[part].annotation
            node = next(
                (a for a in getattr(ann, "__args__", (ann,)) if hasattr(a, "model_fields")), ann
            )


def test_published_schema_is_current() -> None:
    published = (DOCS / "transfer.schema.json").read_text(encoding="utf-8")
    assert published == render(transfer_schema()), "regenerate docs/transfer.schema.json"
