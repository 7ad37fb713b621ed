"""The example plurilateral agreement (TDFA), alone and combined with the EU GDPR Chapter V pack."""

from __future__ import annotations

from typing import Any

import pytest
from _regimes import deciding_rules, obligation_ids, pack, run, transfer

from accord.policy.ast import PackKind
from accord.vocab import VOCAB

EU_TO_JP: dict[str, Any] = {"importer": {"country": "JP"}}


def _packs(d: Any) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in d.to_dict()["packs"]}


def test_agreement_metadata() -> None:
    p = pack("tdfa")
    assert p.meta.kind is PackKind.AGREEMENT
    assert len(p.meta.parties) >= 4
    assert p.meta.sunset is not None
    assert p.meta.review_interval == "P2Y"
    assert p.group("tdfa-designated-adversaries") is not None
    assert {t.name for t in p.thresholds} >= {"tdfa-tier-3-volume", "tdfa-benchmark-volume"}


def test_eu_adequacy_and_agreement_combine() -> None:
    # GDPR Art 45 (Decision (EU) 2019/419) permits; TDFA Art 4(1) adds its duties.
    d = run(transfer(EU_TO_JP), "eu-gdpr-ch5", "tdfa")
    assert d.outcome == "permit_with_obligations"
    assert {"eu-adequacy-japan", "tdfa-baseline-flow"} <= deciding_rules(d)
    assert obligation_ids(d) == {"tdfa-provenance-retention"}
    assert all(p["applied"] for p in _packs(d).values())


def test_agreement_baseline_missing_denies_even_when_eu_permits() -> None:
    # TDFA Art 4(1): the agreement's default denies; the strictest outcome wins.
    t = transfer(EU_TO_JP, safeguards=["minimisation", "encryption-in-transit"])
    assert run(t, "eu-gdpr-ch5").outcome == "permit"
    d = run(t, "eu-gdpr-ch5", "tdfa")
    assert d.outcome == "deny"
    assert "tdfa:(default)" in deciding_rules(d)


def test_eu_scc_duties_and_agreement_tiers_are_united() -> None:
    # SCC 2021/914 Clause 14 + TDFA Art 6(3): obligations from both packs, de-duplicated.
    t = transfer(
        {
            "importer": {"country": "SG"},
            "mechanisms": ["scc-2021-module-2"],
            "data": {"categories": ["contact-details"], "subjects": {"contact-details": 2_000_000}},
        }
    )
    d = run(t, "eu-gdpr-ch5", "tdfa")
    assert d.outcome == "permit_with_obligations"
    assert {"eu-tia", "eu-breach-notice", "tdfa-annual-audit", "tdfa-contact-point-notice"} <= (
        obligation_ids(d)
    )
    by_id = {o["id"]: o for o in d.to_dict()["obligations"]}
    assert by_id["eu-breach-notice"]["deadline"] == "PT72H"
    assert "breach-notification" in by_id["eu-breach-notice"]["protects"]


def test_recognised_certification_relieves_the_tier_3_audit_and_is_cited() -> None:
    # TDFA Art 9(2) recognises Global CBPR; the Global CBPR Forum recognises APEC CBPR.
    over = {
        "importer": {
            "country": "JP",
            "certifications": [{"scheme": "apec-cbpr", "status": "active"}],
        },
        "data": {"categories": ["contact-details"], "subjects": {"contact-details": 2_000_000}},
    }
    d = run(transfer(over), "eu-gdpr-ch5", "tdfa")
    assert d.outcome == "permit_with_obligations"
    assert "tdfa-annual-audit" not in obligation_ids(d)
    assert "tdfa-recognised-certification-audit" in deciding_rules(d)
    recs = d.to_dict()["recognitions"]
    assert any(r["held"] == "apec-cbpr" and r["satisfied"] == "global-cbpr" for r in recs)
    assert all(r["citation"] for r in recs)


def test_lapsed_certification_gives_no_relief() -> None:
    over = {
        "importer": {
            "country": "JP",
            "certifications": [
                {"scheme": "apec-cbpr", "status": "active", "valid_until": "2026-01-31"}
            ],
        },
        "data": {"categories": ["contact-details"], "subjects": {"contact-details": 2_000_000}},
    }
    d = run(transfer(over), "tdfa")
    assert "tdfa-annual-audit" in obligation_ids(d)
    assert d.to_dict()["recognitions"] == []


def test_transfer_to_designated_adversary_is_denied() -> None:
    # TDFA Art 7(2), whatever the EU pack says.
    d = run(
        transfer({"importer": {"country": "KP"}, "mechanisms": ["scc-2021-module-2"]}),
        "eu-gdpr-ch5",
        "tdfa",
    )
    assert d.outcome == "deny"
    assert "tdfa-no-onward-to-adversary" in deciding_rules(d)


def test_onward_transfer_of_party_data_to_adversary_is_denied() -> None:
    # TDFA Art 7(2): a Japanese recipient passing EU subjects' data on to a designated country.
    t = transfer(
        {
            "exporter": {"country": "US"},
            "importer": {"country": "IR"},
            "data": {"subject_countries": ["FR"]},
        }
    )
    d = run(t, "tdfa")
    assert d.outcome == "deny"
    assert "tdfa-no-onward-to-adversary" in deciding_rules(d)


@pytest.mark.parametrize("purpose", ["coercive-use", "discriminatory-use"])
def test_coercive_or_discriminatory_use_is_prohibited(purpose: str) -> None:
    # TDFA Art 7(1): even a flow meeting the baseline, alongside a legitimate purpose, and even
    # where the EU pack permits (adequacy for Japan).
    t = transfer(EU_TO_JP, purposes=["customer-management", purpose])
    assert run(t, "eu-gdpr-ch5").outcome == "permit"
    d = run(t, "eu-gdpr-ch5", "tdfa")
    assert d.outcome == "deny"
    denials = [r for r in d.to_dict()["reasons"] if r["effect"] == "deny"]
    assert [(r["rule"], r["citation"]) for r in denials] == [
        ("tdfa-no-coercive-use", "TDFA Art 7(1)")
    ]
    assert d.obligations == ()


def test_prohibited_uses_are_vocabulary_purposes() -> None:
    # TDFA Art 7(1): the group names the vocabulary's purposes, not a stand-in.
    group = pack("tdfa").group("tdfa-prohibited-purposes")
    assert group is not None
    assert set(group.members) == {"coercive-use", "discriminatory-use"}
    assert all(VOCAB.known("purpose", m) for m in group.members)


def test_legitimate_purposes_are_not_prohibited_uses() -> None:
    # TDFA Art 7(1) reaches coercive and discriminatory use only; fraud prevention or security
    # processing of the same data is a trusted flow.
    for purpose in ("fraud-prevention", "security", "analytics"):
        d = run(transfer(EU_TO_JP, purposes=[purpose]), "tdfa")
        assert d.outcome == "permit_with_obligations", purpose
        assert not {"tdfa-no-coercive-use", "tdfa-no-foreign-intelligence-demand"} & (
            deciding_rules(d)
        )


def test_answering_a_foreign_intelligence_demand_is_prohibited() -> None:
    # TDFA Art 7(3): a non-Party's intelligence demand, its own rule (no longer a stand-in for
    # coercive use).
    d = run(transfer(EU_TO_JP, purposes=["intelligence-demand"]), "tdfa")
    assert d.outcome == "deny"
    assert deciding_rules(d) == {"tdfa-no-foreign-intelligence-demand"}


def test_unknown_purposes_leave_the_prohibited_uses_undecided() -> None:
    # TDFA Art 7(1), (3): whether the use is coercive, discriminatory or a foreign demand depends
    # on the purposes; without them the agreement cannot decide.
    d = run(transfer(EU_TO_JP, purposes=...), "tdfa")
    assert d.outcome == "indeterminate"
    assert d.missing == ("purposes",)


def test_tier_2_sensitive_data_obligations() -> None:
    over = {
        **EU_TO_JP,
        "data": {"categories": ["personal-health"], "subjects": {"personal-health": 50}},
    }
    d = run(transfer(over), "tdfa")
    assert {"tdfa-risk-assessment", "tdfa-encryption-at-rest"} <= obligation_ids(d)
    assert "tdfa-annual-audit" not in obligation_ids(d)


def test_adaptive_benchmark_triggers_a_review_report() -> None:
    over = {
        **EU_TO_JP,
        "data": {"categories": ["contact-details"], "subjects": {"contact-details": 10_000_000}},
    }
    assert "tdfa-benchmark-report" in obligation_ids(run(transfer(over), "tdfa"))
    over["data"]["subjects"]["contact-details"] = 9_999_999
    assert "tdfa-benchmark-report" not in obligation_ids(run(transfer(over), "tdfa"))


def test_agreement_is_not_applied_after_its_sunset_or_outside_its_parties() -> None:
    late = run(transfer(EU_TO_JP, date="2032-01-01"), "tdfa")
    assert not _packs(late)["tdfa"]["applied"]
    outside = run(transfer({"importer": {"country": "BR"}}), "tdfa")
    assert not _packs(outside)["tdfa"]["applied"]
