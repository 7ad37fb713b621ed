"""Every shipped pack (regulations and agreements) is valid, cited and sourced, rule by rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from _regimes import PACKS, REGIME_PACKS, pack

from accord.policy.ast import Confidence, Pack, RuleKind
from accord.policy.printer import print_pack
from accord.policy.validate import validate_pack
from accord.vocab import rights

SHIPPED = sorted(PACKS.rglob("*.yaml"))


def _load(path: Path) -> Pack:
    return Pack.from_file(path)


def _is_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("https://", "http://"))


def test_the_regime_packs_and_the_agreement_are_shipped() -> None:
    ids = {_load(p).id for p in SHIPPED}
    assert set(REGIME_PACKS) | {"tdfa"} <= ids


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_pack_validates_without_errors(path: Path) -> None:
    report = validate_pack(Pack.from_file(path, validate=False))
    assert not report.errors, [d.render() for d in report.errors]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_rule_and_duty_has_a_citation_and_a_source_url(path: Path) -> None:
    p = _load(path)
    assert p.meta.sources
    assert all(_is_url(s) for s in p.meta.sources)
    for rule in p.rules:
        assert (rule.citation or "").strip(), f"{p.id}/{rule.id} has no citation"
        assert _is_url(rule.source), f"{p.id}/{rule.id} has no source URL"
        for duty in rule.duties:
            assert (duty.citation or "").strip(), f"{p.id}/{rule.id}/{duty.id}"
            assert _is_url(duty.source), f"{p.id}/{rule.id}/{duty.id} has no source URL"
    for threshold in p.thresholds:
        assert threshold.citation, f"{p.id} threshold {threshold.name} has no citation"
    if str(p.meta.default) == "deny":
        assert p.meta.default_citation


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_protects_names_glossary_entries(path: Path) -> None:
    p = _load(path)
    for rule in p.rules:
        for term in rule.protects:
            assert rights.known(term), f"{p.id}/{rule.id} protects unknown {term!r}"
        for duty in rule.duties:
            for term in duty.protects:
                assert rights.known(term), f"{p.id}/{rule.id}/{duty.id}: unknown {term!r}"


@pytest.mark.parametrize("pack_id", [*REGIME_PACKS, "tdfa"])
def test_every_obligation_says_which_right_it_protects(pack_id: str) -> None:
    p = pack(pack_id)
    for rule in p.rules:
        for duty in rule.duties:
            assert duty.protects, f"{pack_id}/{rule.id}/{duty.id} protects nothing"


def test_pipl_provisions_article_numbers_are_marked_uncertain() -> None:
    p = pack("cn-pipl")
    assert p.meta.confidence is Confidence.UNCERTAIN
    for rule in p.rules:
        if "Provisions on Cross-Border Data Flows Art" in (rule.citation or ""):
            assert rule.confidence in {Confidence.UNCERTAIN, Confidence.SECONDARY}, rule.id


def test_pipl_tiers_use_inclusive_boundaries() -> None:
    # 以上 ("N or more"): gteq, never gt.
    p = pack("cn-pipl")
    for t in p.thresholds:
        assert str(getattr(t.constraint, "op", "")) == "gteq", t.name


def test_eu_adequacy_rules_cite_their_decisions() -> None:
    p = pack("eu-gdpr-ch5")
    adequacy = [r for r in p.rules if r.id.startswith("eu-adequacy-")]
    assert len(adequacy) >= 16
    for rule in adequacy:
        assert rule.kind is RuleKind.PERMISSION
        assert "Decision" in (rule.citation or ""), rule.id
        assert "eur-lex.europa.eu" in (rule.source or ""), rule.id


def test_the_regulation_packs_default_as_their_law_says() -> None:
    assert str(pack("eu-gdpr-ch5").meta.default) == "deny"
    assert "Art 44" in (pack("eu-gdpr-ch5").meta.default_citation or "")
    assert str(pack("uk-gdpr").meta.default) == "deny"
    assert str(pack("in-dpdp").meta.default) == "permit"
    assert "s.16" in (pack("in-dpdp").meta.default_citation or "")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_pack_round_trips_through_the_printer(path: Path) -> None:
    p = _load(path)
    assert Pack.from_text(print_pack(p), source=path.name) == p
