"""``accord check``, ``accord validate`` and ``accord packs``, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.cli import main

PACK = """\
pack:
  id: mini
  title: Mini regime
  kind: regulation
  jurisdiction: US
  version: "1.0"
  effective_from: 2025-01-01
  default: permit
  sources: [https://example.org/law]
  scope: {fact: exporter.country, op: eq, value: US}
rules:
  - id: no-brokerage
    kind: prohibition
    text: No brokerage with covered persons.
    citation: Mini s.1
    source: https://example.org/law#1
    when:
      and:
        - {fact: transaction, op: eq, value: data-brokerage}
        - {fact: importer.covered_person, op: eq, value: true}
  - id: vendor
    kind: permission
    text: Vendor deals need a programme.
    citation: Mini s.2
    source: https://example.org/law#2
    when: {fact: transaction, op: eq, value: vendor}
    duties:
      - {id: programme, text: Keep a compliance programme., citation: Mini s.3, deadline: P14D}
"""

TRANSFER = """\
id: {id}
date: 2026-06-01
exporter: {{country: US, kind: company}}
importer: {{country: CN, kind: company{extra}}}
data: {{categories: [contact-details]}}
transaction: {transaction}
"""


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


def _transfer(tmp_path: Path, name: str, transaction: str, extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        TRANSFER.format(id=name, transaction=transaction, extra=extra), encoding="utf-8"
    )
    return path


def test_check_permit_with_obligations_exits_0(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _transfer(tmp_path, "tx-vendor", "vendor")
    assert main(["check", str(t), "--pack", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "PERMIT WITH OBLIGATIONS" in out
    assert "programme" in out
    assert "P14D" in out
    assert "Mini s.2" in out


def test_check_deny_exits_3_and_json_is_the_decision(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _transfer(tmp_path, "tx-broker", "data-brokerage", ", covered_person: true")
    assert main(["check", str(t), "--pack", str(pack), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["transfer_id"] == "tx-broker"
    assert data["outcome"] == "deny"
    assert data["reasons"][0]["rule"] == "no-brokerage"
    assert data["reasons"][0]["citation"] == "Mini s.1"


def test_check_indeterminate_exits_4_and_names_missing_facts(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _transfer(tmp_path, "tx-unknown", "data-brokerage")
    assert main(["check", str(t), "--pack", str(pack)]) == 4
    out = capsys.readouterr().out
    assert "INDETERMINATE" in out
    assert "importer.covered_person" in out


def test_several_files_exit_with_the_strictest(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [
        _transfer(tmp_path, "a", "vendor"),
        _transfer(tmp_path, "b", "data-brokerage"),
        _transfer(tmp_path, "c", "data-brokerage", ", covered_person: true"),
    ]
    assert main(["check", *map(str, files), "--pack", str(pack), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert [d["outcome"] for d in data] == ["permit_with_obligations", "indeterminate", "deny"]


def test_as_of_and_packs_not_applied(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _transfer(tmp_path, "tx", "vendor")
    assert main(["check", str(t), "--pack", str(pack), "--as-of", "2024-12-31"]) == 0
    out = capsys.readouterr().out
    assert "not in force until 2025-01-01" in out
    assert main(["check", str(t), "--pack", str(pack), "--as-of", "soon"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_check_against_shipped_packs_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _transfer(tmp_path, "tx", "vendor")
    code = main(["check", str(t), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code in (0, 3, 4)
    assert {p["id"] for p in data["packs"]} >= {"us-dsp", "us-padfa"}
    assert main(["check", str(t), "--pack", "us-dsp", "--json"]) in (0, 3, 4)
    assert [p["id"] for p in json.loads(capsys.readouterr().out)["packs"]] == ["us-dsp"]


@pytest.mark.parametrize(
    ("text", "located", "words"),
    [
        ("id: x\nexporter: {country: US\n", ":3:1", "malformed YAML"),
        (
            "id: x\nexporter: {country: US}\nimporter: {country: CN}\n"
            "data: {categories: [human-genomics]}\n",
            ":4:21",
            "did you mean 'human-genomic'",
        ),
        (
            "id: x\nexporter: {country: US}\nimporter: {country: CN, covered_person: sometimes}\n"
            "data: {}\n",
            ":3:41",
            "true or false",
        ),
        ("id: x\nexporter: {country: US}\nimporter: {country: CN}\n", "(data)", "missing"),
    ],
    ids=["malformed", "unknown-category", "wrong-type", "missing-field"],
)
def test_bad_transfer_documents_exit_2_with_a_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, located: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"bad.yaml{located}" in err or located in err
    assert words in err


def test_unknown_pack_id_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = _transfer(tmp_path, "tx", "vendor")
    assert main(["check", str(t), "--pack", "us-dps"]) == 2
    assert "did you mean 'us-dsp'" in capsys.readouterr().err


def test_validate_ok_and_warnings(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(pack)]) == 0
    assert "ok (mini 1.0, 2 rules)" in capsys.readouterr().out
    uncertain = tmp_path / "u.yaml"
    uncertain.write_text(
        PACK.replace("default: permit", "default: permit\n  confidence: uncertain"),
        encoding="utf-8",
    )
    assert main(["validate", str(uncertain)]) == 0
    assert "warning" in capsys.readouterr().err


def test_validate_reports_every_error_located_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        PACK.replace("op: eq, value: vendor", "op: equals, value: vendor").replace(
            "    citation: Mini s.1\n", ""
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown operator 'equals'" in err
    assert f"{bad}:25:11 (rules[vendor].when.op)" in err  # paths are not eaten as markup
    assert "has no citation" in err
    assert "Traceback" not in err
    assert main(["validate", str(bad), "--json"]) == 2
    (report,) = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert len(report["errors"]) == 2


def test_validate_malformed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("pack:\n  id: [x\n", encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    assert "broken.yaml:" in capsys.readouterr().err


def test_packs_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    ids = [p["id"] for p in listed]
    assert ids == sorted(ids)
    assert "us-dsp" in ids
    assert main(["packs", "list"]) == 0
    assert "us-dsp" in capsys.readouterr().out
    assert main(["packs", "show", "us-dsp"]) == 0
    out = capsys.readouterr().out
    assert "28 CFR" in out
    assert "Thresholds" in out
    assert main(["packs", "show", "us-dsp", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["pack"]["id"] == "us-dsp"
    assert main(["packs", "show", "nope"]) == 2
