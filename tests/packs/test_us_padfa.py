"""Worked cases for the PADFA pack (Pub. L. 118-50, div. I; 15 U.S.C. 9901), each citing its law.

The base case is a U.S. data broker selling one person's precise geolocation to a company in
China: PADFA has no volume threshold, so one record is enough. The base leaves
``importer.adversary_controlled`` out (unknown): for an importer in an adversary country it does not
matter, and the cases about importers elsewhere state it.
"""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.policy import Pack, Transfer, compile_packs
from accord.policy.compile import Engine
from accord.policy.decision import Decision, Outcome
from accord.vocab import VOCAB

PACKS = Path(__file__).resolve().parents[2] / "src" / "accord" / "packs"
ON = date(2026, 1, 10)

BASE: dict[str, Any] = {
    "id": "padfa-case",
    "date": ON.isoformat(),
    "exporter": {"name": "Broker Inc", "country": "US", "kind": "data-broker"},
    "importer": {"name": "Buyer", "country": "CN", "kind": "company", "covered_person": True},
    "data": {
        "categories": ["precise-geolocation"],
        "subjects": {"precise-geolocation": 1},
        "subject_countries": ["US"],
        "government_related": False,
        "de_identified": False,
    },
    "purposes": ["data-sale"],
    "transaction": "data-brokerage",
    "safeguards": [],
    "exemptions_claimed": [],
}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if value is ...:  # ``...`` removes the fact: it becomes unknown
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@cache
def padfa() -> Pack:
    return Pack.from_file(PACKS / "us-padfa.yaml")


@cache
def engine(with_dsp: bool = False) -> Engine:
    packs = [padfa(), Pack.from_file(PACKS / "us-dsp.yaml")] if with_dsp else [padfa()]
    return compile_packs(packs)


def run(as_of: date = ON, *, with_dsp: bool = False, **over: Any) -> Decision:
    doc = _merge(BASE, over)
    subjects = over.get("data", {}).get("subjects")
    if subjects is not None:  # counts replace the base's counts instead of adding to them
        doc["data"]["subjects"] = dict(subjects)
    return engine(with_dsp).decide(Transfer.from_mapping(doc, source="<case>"), as_of=as_of)


def rules(decision: Decision) -> set[str]:
    return {r.rule for r in decision.reasons if r.rule is not None}


@pytest.mark.parametrize("country", ["CN", "IR", "KP", "RU"])
def test_brokerage_to_each_adversary_is_denied(country: str) -> None:
    """PADFA s.2(a)(1): any foreign adversary country (10 U.S.C. 4872(d)(2))."""
    decision = run(importer={"country": country})
    assert decision.outcome is Outcome.DENY
    reason = next(r for r in decision.reasons if r.rule == "padfa-broker-to-adversary")
    assert reason.citation == "PADFA s.2(a) (15 U.S.C. 9901(a))"
    assert reason.source == "https://www.congress.gov/bill/118th-congress/house-bill/7520/text"


@pytest.mark.parametrize("country", ["VE", "CU", "HK", "DE", "SG"])
def test_other_countries_are_not_padfa_adversaries(country: str) -> None:
    """PADFA s.2(c): Venezuela and Cuba are DSP countries of concern but not PADFA adversaries;
    Hong Kong is not listed separately."""
    importer = {"country": country, "adversary_controlled": False}
    assert run(importer=importer).outcome is Outcome.PERMIT


# --- 15 U.S.C. 9901(a)(2), (c)(2): entities controlled by a foreign adversary --------------------

ELSEWHERE = ["DE", "SG", "GB", "CA", "HK", "VE"]


@pytest.mark.parametrize("country", ELSEWHERE)
def test_entity_controlled_by_an_adversary_is_covered_wherever_located(country: str) -> None:
    """PADFA s.2(a)(2) (15 U.S.C. 9901(a)(2)): any entity controlled by a foreign adversary, which
    s.2(c)(2)(B)-(C) (15 U.S.C. 9901(c)(2)(B)-(C)) extends to a 20 percent stake held by, or
    direction or control by, persons of an adversary country, wherever the entity sits."""
    controlled = run(importer={"country": country, "adversary_controlled": True})
    assert controlled.outcome is Outcome.DENY
    reason = next(r for r in controlled.reasons if r.rule == "padfa-broker-to-adversary")
    assert reason.citation == "PADFA s.2(a) (15 U.S.C. 9901(a))"
    not_controlled = run(importer={"country": country, "adversary_controlled": False})
    assert not_controlled.outcome is Outcome.PERMIT
    assert "padfa-broker-to-adversary" not in rules(not_controlled)


@pytest.mark.parametrize("country", ELSEWHERE)
def test_unknown_control_of_an_importer_elsewhere_is_indeterminate(country: str) -> None:
    """15 U.S.C. 9901(c)(2)(B)-(C): outside the adversary countries only ownership or control
    decides, so an unknown control status leaves the sale undecided and names the fact."""
    decision = run(importer={"country": country, "adversary_controlled": None})
    assert decision.outcome is Outcome.INDETERMINATE
    assert decision.missing == ("importer.adversary_controlled",)
    status = next(p for p in decision.packs if p.id == "us-padfa")
    assert status.missing == ("importer.adversary_controlled",)


@pytest.mark.parametrize("control", [True, False, None])
@pytest.mark.parametrize("country", ["CN", "IR", "KP", "RU"])
def test_an_importer_in_an_adversary_country_is_covered_whatever_its_control(
    country: str, control: bool | None
) -> None:
    """15 U.S.C. 9901(a)(1) and (c)(2)(A): an entity domiciled, headquartered or organised in an
    adversary country is controlled by it; the ownership fact cannot take it out."""
    decision = run(importer={"country": country, "adversary_controlled": control})
    assert decision.outcome is Outcome.DENY
    assert decision.missing == ()


@pytest.mark.parametrize(
    "over",
    [
        {"exporter": {"kind": "company"}},
        {"data": {"categories": ["contact-details"], "subjects": {"contact-details": 9}}},
        {"data": {"de_identified": True}},
    ],
    ids=["not-a-broker", "not-sensitive", "de-identified"],
)
def test_unknown_control_does_not_matter_when_the_prohibition_cannot_hold(
    over: dict[str, Any],
) -> None:
    """15 U.S.C. 9901(a): only a data broker's personally identifiable sensitive data is covered;
    where that fails, an unknown control status changes nothing and is not asked for."""
    decision = run(**{**over, "importer": {"country": "DE", "adversary_controlled": None}})
    assert decision.outcome is Outcome.PERMIT
    assert decision.missing == ()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["CN", "IR", "KP", "RU", "DE", "SG", "VE", "CU", "HK", "JP", "BR"]),
    st.sampled_from([True, False, None]),
    st.integers(min_value=1, max_value=10_000_000),
)
def test_control_and_country_decide_together(country: str, control: bool | None, n: int) -> None:
    """Property (15 U.S.C. 9901(a)(1)-(2), (c)(2)): denied when the importer is in an adversary
    country or adversary-controlled; permitted when neither; indeterminate only when the country
    is elsewhere and control unknown."""
    decision = run(
        importer={"country": country, "adversary_controlled": control},
        data={"subjects": {"precise-geolocation": n}},
    )
    if country in {"CN", "IR", "KP", "RU"} or control is True:
        assert decision.outcome is Outcome.DENY
    elif control is False:
        assert decision.outcome is Outcome.PERMIT
    else:
        assert decision.outcome is Outcome.INDETERMINATE
        assert decision.missing == ("importer.adversary_controlled",)


def test_controlled_importer_below_dsp_thresholds_is_a_padfa_deny_only() -> None:
    """15 U.S.C. 9901(c)(2)(B) vs 28 CFR 202.211: a German firm 25 percent owned from China is
    adversary-controlled under PADFA but not a DSP covered person (50 percent test); one record
    is below every DSP bulk threshold anyway."""
    decision = run(
        with_dsp=True,
        importer={"country": "DE", "covered_person": False, "adversary_controlled": True},
    )
    assert decision.outcome is Outcome.DENY
    by_pack = {p.id: p.outcome for p in decision.packs}
    assert by_pack == {"us-padfa": Outcome.DENY, "us-dsp": Outcome.PERMIT}


@pytest.mark.parametrize("count", [1, 2, 100, 1_001, 1_000_000])
def test_no_volume_threshold(count: int) -> None:
    """PADFA s.2(a): no bulk threshold; one U.S. individual's data is enough."""
    subjects = {"precise-geolocation": count}
    assert run(data={"subjects": subjects}).outcome is Outcome.DENY


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["CN", "IR", "KP", "RU"]),
    st.sampled_from(["precise-geolocation", "biometric", "personal-health", "human-genomic"]),
    st.integers(min_value=1, max_value=10_000_000),
)
def test_any_positive_count_to_an_adversary_is_denied(country: str, category: str, n: int) -> None:
    """Property (PADFA s.2(a)): whatever the volume, a broker's sale to an adversary is denied."""
    decision = run(
        importer={"country": country}, data={"categories": [category], "subjects": {category: n}}
    )
    assert decision.outcome is Outcome.DENY


def test_one_record_is_a_padfa_deny_but_not_a_dsp_deny() -> None:
    """PADFA s.2(a) vs 28 CFR 202.205: the same sale is below every DSP threshold."""
    decision = run(with_dsp=True)
    assert decision.outcome is Outcome.DENY
    by_pack = {p.id: p.outcome for p in decision.packs}
    assert by_pack == {"us-padfa": Outcome.DENY, "us-dsp": Outcome.PERMIT}


@pytest.mark.parametrize("kind", ["company", "research", "public-authority", "individual"])
def test_only_data_brokers_are_covered(kind: str) -> None:
    """PADFA s.2(c) "data broker": first-party collectors and others are not covered."""
    assert run(exporter={"kind": kind}).outcome is Outcome.PERMIT


def test_unknown_exporter_kind_is_indeterminate() -> None:
    """PADFA s.2(a): the prohibition binds data brokers; unknown kind cannot be decided."""
    doc = _merge(BASE, {"importer": {"country": "RU"}})
    del doc["exporter"]["kind"]
    unknown = engine(False).decide(Transfer.from_mapping(doc), as_of=ON)
    assert unknown.outcome is Outcome.INDETERMINATE
    assert unknown.missing == ("exporter.kind",)


@pytest.mark.parametrize(
    "category",
    [
        "human-genomic",
        "other-omic",
        "biometric",
        "personal-health",
        "personal-financial",
        "covered-personal-identifiers",
        "government-related",
        "genetic-data",
        "health-data",
        "government-identifiers",
        "account-credentials",
        "private-communications",
        "racial-or-ethnic-origin",
        "religious-or-philosophical-beliefs",
        "sex-life-or-orientation",
        "minors-personal-information",
    ],
)
def test_sensitive_data_kinds(category: str) -> None:
    """PADFA s.2(c) "sensitive data": each enumerated kind the vocabulary names is covered."""
    decision = run(data={"categories": [category], "subjects": {category: 1}})
    assert decision.outcome is Outcome.DENY


@pytest.mark.parametrize("category", ["contact-details", "customer-records", "technical-data"])
def test_non_sensitive_data_is_not_covered(category: str) -> None:
    """PADFA s.2(a) reaches sensitive data only."""
    decision = run(data={"categories": [category], "subjects": {category: 5_000_000}})
    assert decision.outcome is Outcome.PERMIT


def test_de_identified_data_is_not_personally_identifiable() -> None:
    """PADFA s.2(a): "personally identifiable" sensitive data; unknown identifiability is open."""
    assert run(data={"de_identified": True}).outcome is Outcome.PERMIT
    unknown = run(data={"de_identified": None})
    assert unknown.outcome is Outcome.INDETERMINATE
    assert unknown.missing == ("data.de_identified",)


def test_in_force_from_23_june_2024() -> None:
    """PADFA s.2, effective date: 60 days after enactment (24 Apr 2024), i.e. 23 Jun 2024."""
    before = run(as_of=date(2024, 6, 22))
    assert before.outcome is Outcome.PERMIT
    assert not next(p for p in before.packs if p.id == "us-padfa").applied
    assert run(as_of=date(2024, 6, 23)).outcome is Outcome.DENY


def test_foreign_broker_selling_us_individuals_data_is_covered() -> None:
    """PADFA s.2(a) protects U.S. individuals wherever the broker sits."""
    decision = run(exporter={"country": "GB"})
    assert decision.outcome is Outcome.DENY
    other = run(exporter={"country": "GB"}, data={"subject_countries": ["GB"]})
    assert other.outcome is Outcome.PERMIT
    controlled = run(
        exporter={"country": "GB"}, importer={"country": "FR", "adversary_controlled": True}
    )
    assert controlled.outcome is Outcome.DENY


def test_foreign_broker_with_unknown_subjects_is_indeterminate() -> None:
    """PADFA s.2(a): whose data it is decides whether a foreign broker is covered."""
    decision = run(exporter={"country": "GB"}, data={"subject_countries": None})
    assert decision.outcome is Outcome.INDETERMINATE
    assert "data.subject_countries" in decision.missing


def test_pack_metadata_and_citations() -> None:
    meta = padfa().meta
    assert meta.effective_from == date(2024, 6, 23)
    groups = {g.name: set(g.members) for g in padfa().groups}
    assert groups["padfa-foreign-adversaries"] == set(VOCAB.group("padfa-foreign-adversaries"))
    assert not padfa().thresholds  # no volume threshold
    for rule in padfa().rules:
        assert (rule.citation or "").startswith("PADFA s.2"), rule.id
        assert (rule.source or "").startswith("https://www.congress.gov/"), rule.id
