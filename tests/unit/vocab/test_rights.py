"""The rights glossary: entries, safeguards, the rules enforcing each right, `accord glossary`."""

from __future__ import annotations

import json

import pytest

from accord.cli import main
from accord.errors import NotFoundError
from accord.policy.ast import Pack
from accord.vocab import VOCAB, rights

REQUIRED = {
    "purpose-limitation",
    "minimisation",
    "transparency",
    "remedy",
    "non-discrimination",
    "security",
    "accountability",
    "storage-limitation",
    "access",
    "erasure",
    "breach-notification",
    "continuity-of-protection",
}

PACK = """
pack:
  id: tiny
  title: Tiny
  kind: regulation
  jurisdiction: DE
  version: "1"
  effective_from: 2020-01-01
  sources: [https://example.org/tiny]
rules:
  - id: tiny-permit
    kind: permission
    text: Always.
    citation: Tiny Art 1
    source: https://example.org/tiny#1
    protects: [transparency]
    duties:
      - id: tiny-duty
        text: Keep records.
        citation: Tiny Art 2
        source: https://example.org/tiny#2
        protects: [accountability, transparency]
"""


def test_glossary_has_the_rights_and_principles() -> None:
    assert set(rights.rights()) >= REQUIRED
    kinds = {r.kind for r in rights.rights().values()}
    assert kinds == {rights.RightKind.RIGHT, rights.RightKind.PRINCIPLE}


@pytest.mark.parametrize("term", sorted(rights.rights()))
def test_entries_are_cited_and_their_safeguards_are_vocabulary_terms(term: str) -> None:
    entry = rights.rights()[term]
    assert entry.citations
    assert all(c.source.startswith("http") for c in entry.citations)
    assert entry.description
    for safeguard in entry.safeguards:
        assert VOCAB.known("safeguard", safeguard), f"{term}: unknown safeguard {safeguard}"


def test_lookup_by_alias_and_label_and_suggestions() -> None:
    assert rights.get("data-minimization") is rights.rights()["minimisation"]
    assert rights.get("Data minimisation") is rights.rights()["minimisation"]
    assert rights.get("REDRESS") is rights.rights()["remedy"]
    assert rights.get("nonsense") is None
    assert "transparency" in rights.suggest("transparancy")
    with pytest.raises(NotFoundError) as exc:
        rights.lookup("transparancy")
    assert "transparency" in (exc.value.diagnostics[0].hint or "")


def test_enforcing_is_computed_from_protects() -> None:
    tiny = Pack.from_text(PACK, source="tiny.yaml")
    found = rights.enforcing("transparency", [tiny])
    assert [(e.rule, e.duty) for e in found] == [
        ("tiny-permit", None),
        ("tiny-permit", "tiny-duty"),
    ]
    assert [e.duty for e in rights.enforcing("accountability", [tiny])] == ["tiny-duty"]
    assert rights.enforcing("erasure", [tiny]) == []
    table = rights.protected_by([tiny])
    assert set(table) >= set(rights.rights())
    assert len(table["transparency"]) == 2


def test_shipped_packs_enforce_the_core_principles() -> None:
    table = rights.protected_by()
    for term in (
        "security",
        "accountability",
        "continuity-of-protection",
        "breach-notification",
        "non-discrimination",
        "data-localisation",
        "consent",
        "minimisation",
    ):
        assert table[term], f"no shipped rule protects {term}"
    packs = {e.pack for e in table["breach-notification"]}
    assert {"eu-gdpr-ch5", "uk-gdpr"} <= packs


def test_cli_glossary_lists_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glossary", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["id"] for d in data} == set(rights.rights())
    sec = next(d for d in data if d["id"] == "security")
    assert sec["enforced_by"]
    assert "encryption-in-transit" in sec["safeguards"]


def test_cli_glossary_one_term(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glossary", "breach-notification", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "breach-notification"
    assert any(e["duty"] == "eu-breach-notice" for e in data["enforced_by"])
    assert main(["glossary", "remedy"]) == 0
    assert "Effective remedy" in capsys.readouterr().out


def test_cli_glossary_unknown_term_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glossary", "transparancy"]) == 2
    assert "did you mean transparency" in capsys.readouterr().err
