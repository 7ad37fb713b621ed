"""The shipped vocabulary: its content, hierarchy, groups, DPV mapping and error behaviour."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accord.errors import AccordError, NotFoundError
from accord.vocab import KINDS, VOCAB, Kind, Term, Vocabulary


def test_every_kind_has_terms() -> None:
    assert set(KINDS) == {k.value for k in Kind}
    for kind in KINDS:
        assert VOCAB.terms(kind), kind


def test_countries_are_the_full_iso_3166_1_alpha_2_list() -> None:
    countries = VOCAB.terms("country")
    assert len(countries) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in countries)
    # Norway must survive YAML loading as a string, not as the boolean false.
    assert "NO" in countries
    assert VOCAB.label("NO") == "Norway"
    assert {"AQ", "BQ", "CW", "SS", "SX", "TW", "XK"} & countries == {
        "AQ",
        "BQ",
        "CW",
        "SS",
        "SX",
        "TW",
    }  # XK (Kosovo) is a user-assigned code, not part of ISO 3166-1
    assert VOCAB.describe("country", "KR").label == "South Korea"


@pytest.mark.parametrize(
    ("term", "ancestor"),
    [
        ("human-genomic", "human-omic"),
        ("human-genomic", "us-sensitive-personal-data"),
        ("human-genomic", "sensitive-personal-data"),
        ("human-genomic", "personal-data"),
        ("human-genomic", "genetic-data"),
        ("human-genomic", "special-category"),
        ("other-omic", "human-omic"),
        ("biometric", "special-category"),
        ("biometric", "pipl-sensitive-personal-information"),
        ("precise-geolocation", "location"),
        ("personal-health", "health-data"),
        ("government-related", "sensitive-personal-data"),
        ("anonymised-data", "non-personal"),
        ("scc-2021-module-2", "scc-2021"),
        ("scc-2021-module-2", "appropriate-safeguards"),
        ("derogation-consent", "derogation"),
        ("eu-us-dpf", "adequacy"),
        ("keys-held-at-origin", "encryption"),
        ("sub-processor", "processor"),
        ("clinical-research", "research"),
        ("intelligence-demand", "surveillance"),
    ],
)
def test_hierarchy(term: str, ancestor: str) -> None:
    assert VOCAB.is_a(term, ancestor)
    assert term in VOCAB.descendants(ancestor)
    assert ancestor in VOCAB.ancestors(term)


@pytest.mark.parametrize(
    ("term", "other"),
    [
        ("personal-data", "human-genomic"),  # never upwards
        ("contact-details", "sensitive-personal-data"),
        ("ordinary-personal-data", "sensitive-personal-data"),
        ("non-personal", "personal-data"),
        ("other-omic", "genetic-data"),
        ("scc-2010", "appropriate-safeguards"),  # invalid since 27 Dec 2022: not an Art 46 tool
        ("privacy-shield", "adequacy"),  # invalidated by Schrems II
        ("surveillance", "intelligence-demand"),
        ("coercive-use", "surveillance"),
        ("discriminatory-use", "coercive-use"),
    ],
)
def test_hierarchy_negatives(term: str, other: str) -> None:
    assert not VOCAB.is_a(term, other)


@pytest.mark.parametrize(
    ("country", "group"),
    [
        ("CN", "countries-of-concern"),
        ("HK", "countries-of-concern"),
        ("MO", "countries-of-concern"),
        ("VE", "countries-of-concern"),
        ("CU", "countries-of-concern"),
        ("RU", "padfa-foreign-adversaries"),
        ("FR", "eu"),
        ("FR", "eea"),
        ("NO", "eea"),
        ("TW", "global-cbpr-members"),
        ("GB", "five-eyes"),
        ("NO", "uk-data-bridges"),
    ],
)
def test_group_membership(country: str, group: str) -> None:
    assert VOCAB.is_a(country, group)
    assert VOCAB.is_a(country, f"group:{group}")
    assert country in VOCAB.group(group)
    assert country in VOCAB.group(f"group:{group.upper()}")  # lookups by name ignore case


def test_group_facts_from_the_regimes() -> None:
    assert VOCAB.group("countries-of-concern") == {"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}
    assert VOCAB.group("padfa-foreign-adversaries") == {"CN", "IR", "KP", "RU"}
    assert len(VOCAB.group("eu")) == 27
    assert VOCAB.group("eea") == VOCAB.group("eu") | {"IS", "LI", "NO"}
    assert not VOCAB.is_a("VE", "padfa-foreign-adversaries")
    assert not VOCAB.is_a("US", "eu-adequacy")  # only DPF-certified organisations
    assert not VOCAB.is_a("NO", "eu")


def test_every_group_member_is_a_country() -> None:
    countries = VOCAB.terms("country")
    for name, members in VOCAB.groups().items():
        assert members, name
        assert members <= countries, name


def test_unknown_group_raises_with_suggestion() -> None:
    with pytest.raises(NotFoundError) as info:
        VOCAB.group("countries-of-concen")
    assert "countries-of-concern" in (info.value.diagnostics[0].hint or "")


def test_dpv_mapping() -> None:
    assert VOCAB.dpv("scc-2021-module-2") == "https://w3id.org/dpv/legal/eu/gdpr#A46-2-c"
    assert (
        VOCAB.dpv("derogation-compelling-interests") == "https://w3id.org/dpv/legal/eu/gdpr#A49-2"
    )
    assert VOCAB.dpv("encryption-in-transit") == "https://w3id.org/dpv#EncryptionInTransfer"
    assert VOCAB.dpv("biometric") == "https://w3id.org/dpv/pd#Biometric"
    assert VOCAB.dpv("cisa-security-requirements") is None
    assert VOCAB.dpv("no-such-term") is None


def test_prohibitable_purposes_are_declared_without_a_forced_dpv_mapping() -> None:
    """Coercive, discriminatory and surveillance uses are purposes a pack can forbid; DPV 2.2 has
    no purpose concept with their meaning, so none is recorded."""
    for term in ("coercive-use", "discriminatory-use", "surveillance", "intelligence-demand"):
        assert VOCAB.known("purpose", term), term
        assert VOCAB.dpv(term) is None, term
        assert VOCAB.describe("purpose", term).description, term


def test_every_dpv_mapping_is_a_known_namespace() -> None:
    prefixes = ("https://w3id.org/dpv#", "https://w3id.org/dpv/pd#", "https://w3id.org/dpv/legal/")
    for kind in KINDS:
        for term in VOCAB.all_terms(kind).values():
            iri = term.dpv_iri()
            if iri is not None:
                assert iri.startswith(prefixes), (term.id, iri)
                assert re.fullmatch(r"\S+#[A-Za-z0-9-]+", iri), iri


def test_every_article_49_point_has_a_derogation() -> None:
    derogations = VOCAB.descendants("derogation") - {"derogation"}
    dpv = {VOCAB.dpv(d) for d in derogations}
    points = {f"https://w3id.org/dpv/legal/eu/gdpr#A49-1-{p}" for p in "abcdefg"}
    assert points <= dpv
    assert "https://w3id.org/dpv/legal/eu/gdpr#A49-2" in dpv


def test_every_dsp_subpart_e_exemption_is_named() -> None:
    cited = {
        VOCAB.describe("exemption", e).citation
        for e in VOCAB.terms("exemption")
        if e.startswith("dsp-")
    }
    assert cited == {f"28 CFR 202.{n}" for n in range(501, 512)}


def test_labels_and_describe() -> None:
    assert VOCAB.label("CN") == "China"
    assert VOCAB.label("countries-of-concern").startswith("Countries of concern")
    assert VOCAB.label("unheard-of") == "unheard-of"
    term = VOCAB.describe("category", "precise-geolocation")
    assert isinstance(term, Term)
    assert term.citation == "28 CFR 202.242"
    assert "1,000 metres" in term.description
    assert "precise-geolocation" in str(term)


def test_terms_shared_across_kinds() -> None:
    # "research" is both a purpose and a party kind (docs/transfer.md uses both).
    assert VOCAB.known("purpose", "research")
    assert VOCAB.known("party_kind", "research")
    assert set(VOCAB.kinds_of("research")) == {Kind.PURPOSE, Kind.PARTY_KIND}
    assert VOCAB.kinds_of("nothing-at-all") == ()


def test_describe_unknown_raises_with_did_you_mean() -> None:
    with pytest.raises(NotFoundError) as info:
        VOCAB.describe("category", "human-genomics")
    diag = info.value.diagnostics[0]
    assert diag.found == "human-genomics"
    assert "human-genomic" in (diag.hint or "")
    with pytest.raises(NotFoundError):
        VOCAB.describe("category", "CN")  # a country, not a category


def test_unknown_kind() -> None:
    assert not VOCAB.known("colour", "red")
    with pytest.raises(NotFoundError) as info:
        VOCAB.terms("colour")
    assert "category" in (info.value.diagnostics[0].expected or "")


@pytest.mark.parametrize(
    ("kind", "typo", "expected"),
    [
        ("category", "human-genomics", "human-genomic"),
        ("category", "presice-geolocation", "precise-geolocation"),
        ("mechanism", "scc-2021-modul-2", "scc-2021-module-2"),
        ("country", "cn", "CN"),
        ("country", "China", "CN"),
        ("country", "Norway", "NO"),
        ("safeguard", "encryption-in-transfer", "encryption-in-transit"),
        ("exemption", "dsp-travle", "dsp-travel"),
    ],
)
def test_suggest(kind: str, typo: str, expected: str) -> None:
    found = VOCAB.suggest(kind, typo)
    assert found[0] == expected
    assert all(VOCAB.known(kind, f) for f in found)


def test_suggest_nothing_close() -> None:
    assert VOCAB.suggest("category", "") == []
    assert VOCAB.suggest("transaction", "zzzzzzzzzzzz") == []


def test_cisa_components_satisfy_the_composite() -> None:
    parts = VOCAB.components("cisa-security-requirements")
    assert len(parts) == 3
    assert VOCAB.satisfied("cisa-security-requirements", ["cisa-security-requirements"])
    assert VOCAB.satisfied("cisa-security-requirements", parts)
    assert not VOCAB.satisfied("cisa-security-requirements", parts[:2])
    # A firm's own substitute controls do not qualify (28 CFR 202.402).
    assert not VOCAB.satisfied("cisa-security-requirements", ["encryption", "access-control"])
    assert VOCAB.satisfied("encryption", ["keys-held-at-origin"])


def _write(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")


def _minimal(tmp_path: Path, categories: str) -> None:
    for name in (
        "purposes",
        "safeguards",
        "mechanisms",
        "parties",
        "transactions",
        "exemptions",
    ):
        _write(tmp_path, f"{name}.yaml", "kind: purpose\nterms: {}\n")
    _write(tmp_path, "countries.yaml", 'kind: country\nterms:\n  "NO": {label: Norway}\n')
    _write(tmp_path, "groups.yaml", "groups:\n  nordic: {members: [NO]}\n")
    _write(tmp_path, "categories.yaml", categories)


def test_loads_a_vocabulary_from_a_directory(tmp_path: Path) -> None:
    _minimal(tmp_path, "kind: category\nterms:\n  a: {}\n  b: {parents: [a]}\n")
    v = Vocabulary.from_directory(tmp_path)
    assert v.is_a("b", "a")
    assert v.is_a("NO", "nordic")


def test_a_cycle_in_the_data_is_refused(tmp_path: Path) -> None:
    _minimal(tmp_path, "kind: category\nterms:\n  a: {parents: [b]}\n  b: {parents: [a]}\n")
    with pytest.raises(AccordError, match="vocabulary is broken") as info:
        Vocabulary.from_directory(tmp_path)
    assert "cycle" in info.value.diagnostics[0].message


def test_an_unknown_parent_is_refused(tmp_path: Path) -> None:
    _minimal(tmp_path, "kind: category\nterms:\n  a: {parents: [nowhere]}\n")
    with pytest.raises(AccordError) as info:
        Vocabulary.from_directory(tmp_path)
    assert "nowhere" in info.value.diagnostics[0].message


def test_a_group_member_must_be_a_country(tmp_path: Path) -> None:
    _minimal(tmp_path, "kind: category\nterms: {}\n")
    _write(tmp_path, "groups.yaml", "groups:\n  bad: {members: [XX]}\n")
    with pytest.raises(AccordError) as info:
        Vocabulary.from_directory(tmp_path)
    assert "XX" in info.value.diagnostics[0].message


def test_malformed_yaml_is_an_accord_error(tmp_path: Path) -> None:
    _minimal(tmp_path, "kind: category\nterms: [unclosed\n")
    with pytest.raises(AccordError):
        Vocabulary.from_directory(tmp_path)


def test_docs_list_every_term_group_and_dpv_mapping() -> None:
    """docs/vocabulary.md documents every kind and term, the DPV mapping and the groups."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "vocabulary.md").read_text("utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in page, kind
        for term in VOCAB.all_terms(kind).values():
            assert f"`{term.id}`" in page, (kind, term.id)
            if term.dpv:
                assert f"`{term.dpv}`" in page, term.id
    for name, members in VOCAB.groups().items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
        assert ", ".join(sorted(members)) in row, name
