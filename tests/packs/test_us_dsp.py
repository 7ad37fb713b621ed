"""Worked cases for the US Data Security Program pack (28 CFR Part 202), each citing its provision.

Every case builds a transfer document from a fully specified base (a U.S. company, a covered
importer in China, no exemption claimed, no safeguards) and changes only what it tests.
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

from accord.policy import Atomic, Pack, Transfer, compile_packs, decide
from accord.policy.compile import Engine
from accord.policy.decision import Decision, Outcome
from accord.vocab import VOCAB

PACK_FILE = Path(__file__).resolve().parents[2] / "src" / "accord" / "packs" / "us-dsp.yaml"
ON = date(2026, 1, 10)  # after every DSP date (in force 2025-04-08; duties 2025-10-06)

BASE: dict[str, Any] = {
    "id": "dsp-case",
    "date": ON.isoformat(),
    "exporter": {"name": "US Co", "country": "US", "kind": "company", "group": "us-co"},
    "importer": {"name": "Importer", "country": "CN", "kind": "company", "covered_person": True},
    "data": {
        "categories": ["personal-health"],
        "subjects": {"personal-health": 20_000},
        "subject_countries": ["US"],
        "government_related": False,
        "de_identified": False,
    },
    "purposes": ["analytics"],
    "transaction": "data-brokerage",
    "mechanisms": [],
    "safeguards": [],
    "exemptions_claimed": [],
}

CISA = ["cisa-security-requirements"]
CISA_PARTS = list(VOCAB.components("cisa-security-requirements"))


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


def data(counts: dict[str, int], **extra: Any) -> dict[str, Any]:
    """A ``data`` block holding exactly these categories and counts."""
    return {"categories": sorted(counts), "subjects": dict(counts), **extra}


@cache
def dsp() -> Pack:
    return Pack.from_file(PACK_FILE)


@cache
def engine() -> Engine:
    return compile_packs([dsp()])


def run(as_of: date = ON, **over: Any) -> Decision:
    doc = _merge(BASE, over)
    if "data" in over:  # a data block replaces the categories and counts, keeping the flags
        kept = {k: v for k, v in BASE["data"].items() if k not in {"categories", "subjects"}}
        doc["data"] = {**kept, **over["data"]}
    return engine().decide(Transfer.from_mapping(doc, source="<case>"), as_of=as_of)


def rules(decision: Decision) -> set[str]:
    return {r.rule for r in decision.reasons if r.rule is not None}


def duties(decision: Decision) -> dict[str, str | None]:
    return {o.id: o.deadline for o in decision.obligations}


# --- 28 CFR 202.205: bulk thresholds, "more than N" (exactly N is not bulk, N+1 is) ---------------

THRESHOLDS = [
    ("human-genomic", 100, "202.205(a)"),
    ("other-omic", 1_000, "202.205(b)"),
    ("biometric", 1_000, "202.205(c)"),
    ("precise-geolocation", 1_000, "202.205(d)"),  # counted in U.S. devices
    ("personal-health", 10_000, "202.205(e)"),
    ("personal-financial", 10_000, "202.205(e)"),
    ("covered-personal-identifiers", 100_000, "202.205(f)"),
]


@pytest.mark.parametrize(("category", "n", "cite"), THRESHOLDS, ids=[t[0] for t in THRESHOLDS])
def test_exactly_n_is_not_bulk(category: str, n: int, cite: str) -> None:
    """28 CFR 202.205: each limb says "more than N"; N persons (devices) is below the line."""
    decision = run(data=data({category: n}))
    assert decision.outcome is Outcome.PERMIT, cite
    assert "dsp-brokerage-countries-of-concern" not in rules(decision)


@pytest.mark.parametrize(("category", "n", "cite"), THRESHOLDS, ids=[t[0] for t in THRESHOLDS])
def test_n_plus_one_is_bulk(category: str, n: int, cite: str) -> None:
    """28 CFR 202.205 with 202.301: N+1 is bulk, and brokerage to a covered person is prohibited."""
    decision = run(data=data({category: n + 1}))
    assert decision.outcome is Outcome.DENY, cite
    assert "dsp-brokerage-countries-of-concern" in rules(decision)
    deny = next(r for r in decision.reasons if r.rule == "dsp-brokerage-countries-of-concern")
    assert deny.citation == "28 CFR 202.301"
    assert deny.source == "https://www.ecfr.gov/current/title-28/section-202.301"


def test_thresholds_are_named_and_strict() -> None:
    """The pack's named thresholds are exactly the table of 202.205, each with op gt."""
    found = {t.name: t for t in dsp().thresholds}
    for category, n, cite in THRESHOLDS:
        t = found[f"bulk-{category}"]
        assert isinstance(t.constraint, Atomic)
        assert t.constraint.op == "gt"
        assert t.constraint.value == n
        assert t.constraint.fact == f"data.subjects.{category}"
        assert (t.citation or "").startswith(f"28 CFR {cite}")


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(THRESHOLDS), st.integers(min_value=0, max_value=3))
def test_bulk_iff_more_than_the_threshold(limb: tuple[str, int, str], scale: int) -> None:
    """Property (202.205): for one category, brokerage to a covered person is denied iff n > N."""
    category, n, _ = limb
    for count in (0, 1, n - 1, n, n + 1, n * scale + 1, n * 2):
        decision = run(data=data({category: max(count, 0)}))
        expected = Outcome.DENY if count > n else Outcome.PERMIT
        assert decision.outcome is expected, (category, count)


_COUNTS = st.dictionaries(
    st.sampled_from([t[0] for t in THRESHOLDS]),
    st.integers(min_value=0, max_value=120_000),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(_COUNTS, st.sampled_from([t[0] for t in THRESHOLDS]), st.integers(1, 50_000))
def test_more_data_never_turns_a_deny_into_a_permit(
    counts: dict[str, int], category: str, extra: int
) -> None:
    """Property (202.205, 202.301): bulk is monotone; adding persons to any category of a denied
    brokerage to a covered person keeps it denied, and a permitted one only moves towards deny."""
    before = run(data=data(counts)).outcome
    grown = {**counts, category: counts.get(category, 0) + extra}
    after = run(data=data(grown)).outcome
    assert before in (Outcome.PERMIT, Outcome.DENY)
    if before is Outcome.DENY:
        assert after is Outcome.DENY


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        # The lowest threshold among the categories applies to every category's count.
        ({"human-genomic": 50, "personal-financial": 100}, Outcome.PERMIT),
        ({"human-genomic": 50, "personal-financial": 101}, Outcome.DENY),
        ({"biometric": 10, "personal-health": 1_000}, Outcome.PERMIT),
        ({"biometric": 10, "personal-health": 1_001}, Outcome.DENY),
        ({"precise-geolocation": 3, "covered-personal-identifiers": 1_001}, Outcome.DENY),
        ({"personal-health": 5, "covered-personal-identifiers": 10_000}, Outcome.PERMIT),
        ({"personal-health": 5, "covered-personal-identifiers": 10_001}, Outcome.DENY),
        ({"personal-financial": 9_000, "personal-health": 9_000}, Outcome.PERMIT),
        # A category listed with nobody in it does not make the set "combined".
        ({"biometric": 0, "personal-financial": 10_000}, Outcome.PERMIT),
        ({"human-genomic": 0, "other-omic": 999, "precise-geolocation": 67}, Outcome.PERMIT),
    ],
)
def test_combined_data_takes_the_lowest_threshold(counts: dict[str, int], outcome: Outcome) -> None:
    """28 CFR 202.205(g): combined data is bulk at the lowest applicable threshold."""
    assert run(data=data(counts)).outcome is outcome


def test_government_related_data_has_no_threshold() -> None:
    """28 CFR 202.222 and 202.301: one record of government-related data is enough."""
    decision = run(data=data({"government-related": 1}))
    assert decision.outcome is Outcome.DENY
    flagged = run(data=data({"contact-details": 1}, government_related=True))
    assert flagged.outcome is Outcome.DENY
    plain = run(data=data({"contact-details": 1}, government_related=False))
    assert plain.outcome is Outcome.PERMIT


def test_government_related_unknown_is_indeterminate() -> None:
    """202.222: below every bulk threshold, whether the data is government-related decides."""
    decision = run(data=data({"contact-details": 10}, government_related=None))
    assert decision.outcome is Outcome.INDETERMINATE
    assert "data.government_related" in decision.missing


# --- 28 CFR 202.211 / 202.601: covered persons and countries of concern ---------------------------


@pytest.mark.parametrize("country", ["CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"])
def test_every_country_of_concern(country: str) -> None:
    """28 CFR 202.601 and 202.301: an importer in a country of concern, whatever its own status."""
    decision = run(importer={"country": country, "covered_person": False})
    assert decision.outcome is Outcome.DENY


def test_covered_person_elsewhere_is_denied() -> None:
    """28 CFR 202.211(a) and 202.301: a covered person outside the countries of concern."""
    decision = run(importer={"country": "SG", "covered_person": True})
    assert decision.outcome is Outcome.DENY
    assert "dsp-brokerage-countries-of-concern" in rules(decision)


def test_non_covered_foreign_person_gets_the_brokerage_duties() -> None:
    """28 CFR 202.302: brokerage to another foreign person needs the onward-transfer clause and the
    14-day report of suspected violations."""
    decision = run(importer={"country": "DE", "covered_person": False})
    assert decision.outcome is Outcome.PERMIT_WITH_OBLIGATIONS
    assert duties(decision) == {
        "dsp-onward-transfer-clause": None,
        "dsp-report-onward-violation": "P14D",
    }
    assert all(o.citation and o.citation.startswith("28 CFR 202.302") for o in decision.obligations)


def test_unknown_covered_person_status_is_indeterminate() -> None:
    """28 CFR 202.211: outside the countries of concern, covered-person status decides; unknown
    status is not a deny and not a permit."""
    decision = run(importer={"country": "DE", "covered_person": None})
    assert decision.outcome is Outcome.INDETERMINATE
    assert decision.missing == ("importer.covered_person",)


def test_unknown_covered_person_status_on_a_restricted_transaction() -> None:
    """28 CFR 202.211 and 202.401: a vendor agreement without the CISA requirements is prohibited
    only with a covered person, so unknown status is indeterminate; with CISA it is permitted
    either way, with the duties."""
    unknown = {"country": "DE", "covered_person": None}
    without = run(transaction="vendor", importer=unknown)
    assert without.outcome is Outcome.INDETERMINATE
    assert without.missing == ("importer.covered_person",)
    with_cisa = run(transaction="vendor", importer=unknown, safeguards=CISA)
    assert with_cisa.outcome is not Outcome.DENY


def test_unknown_status_does_not_matter_in_a_country_of_concern() -> None:
    """202.301: an importer in a country of concern is denied whatever its listed status."""
    decision = run(importer={"country": "IR", "covered_person": None})
    assert decision.outcome is Outcome.DENY


def test_us_person_importer_is_outside_part_202() -> None:
    """28 CFR 202.256: a U.S. person (here a U.S. company) is not a foreign person."""
    decision = run(importer={"country": "US", "covered_person": False})
    assert decision.outcome is Outcome.PERMIT


# --- 28 CFR 202.401: restricted transactions (vendor, employment, investment) ---------------------


@pytest.mark.parametrize("kind", ["vendor", "employment", "investment"])
def test_restricted_transaction_without_cisa_is_denied(kind: str) -> None:
    """28 CFR 202.401: a restricted transaction without the CISA requirements is prohibited."""
    decision = run(transaction=kind)
    assert decision.outcome is Outcome.DENY
    assert rules(decision) == {"dsp-restricted-without-cisa"}


@pytest.mark.parametrize("kind", ["vendor", "employment", "investment"])
@pytest.mark.parametrize("safeguards", [CISA, CISA_PARTS], ids=["composite", "components"])
def test_restricted_transaction_with_cisa_is_permitted_with_duties(
    kind: str, safeguards: list[str]
) -> None:
    """28 CFR 202.401-402 and subparts J-K: permitted, with the programme (202.1001), the annual
    audit (202.1002) and 10-year records (202.1101)."""
    decision = run(transaction=kind, safeguards=safeguards)
    assert decision.outcome is Outcome.PERMIT_WITH_OBLIGATIONS
    assert duties(decision) == {
        "dsp-keep-cisa-requirements": None,
        "dsp-maintain-programme": None,
        "dsp-audit-yearly": "P1Y",
        "dsp-keep-records": "P10Y",
    }


def test_own_substitute_controls_do_not_qualify() -> None:
    """28 CFR 202.402: only the CISA requirements count, not a firm's own controls."""
    own = ["encryption-at-rest", "encryption-in-transit", "access-control", "minimisation"]
    assert run(transaction="vendor", safeguards=own).outcome is Outcome.DENY
    partial = CISA_PARTS[:2]
    assert run(transaction="vendor", safeguards=partial).outcome is Outcome.DENY


def test_unknown_safeguards_on_a_restricted_transaction_are_indeterminate() -> None:
    """202.401: whether the CISA requirements are met decides a restricted transaction."""
    decision = run(transaction="vendor", safeguards=...)
    assert decision.outcome is Outcome.INDETERMINATE
    assert decision.missing == ("safeguards",)


def test_compliance_duties_start_on_6_october_2025() -> None:
    """Final rule (90 FR 1636): subparts J and K apply from 6 Oct 2025; before that only the CISA
    requirements themselves bind."""
    before = run(as_of=date(2025, 10, 5), transaction="vendor", safeguards=CISA)
    assert duties(before) == {"dsp-keep-cisa-requirements": None}
    after = run(as_of=date(2025, 10, 6), transaction="vendor", safeguards=CISA)
    assert "dsp-audit-yearly" in duties(after)


def test_passive_investment_is_not_restricted() -> None:
    """28 CFR 202.228(b): a passive investment is not an investment agreement."""
    assert run(transaction="passive-investment").outcome is Outcome.PERMIT


def test_restricted_transaction_below_threshold_is_not_covered() -> None:
    """202.401 applies to covered data only: 10,000 health records are not bulk."""
    decision = run(transaction="vendor", data=data({"personal-health": 10_000}))
    assert decision.outcome is Outcome.PERMIT


# --- 28 CFR 202.303: bulk human 'omic data, no restricted route -----------------------------------


@pytest.mark.parametrize("kind", ["vendor", "employment", "investment", "data-brokerage"])
@pytest.mark.parametrize(("category", "n"), [("human-genomic", 100), ("other-omic", 1_000)])
def test_omic_data_has_no_restricted_route(kind: str, category: str, n: int) -> None:
    """28 CFR 202.303: access by a covered person to bulk 'omic data is prohibited even with the
    CISA security requirements."""
    decision = run(transaction=kind, safeguards=CISA, data=data({category: n + 1}))
    assert decision.outcome is Outcome.DENY
    assert "dsp-omic-access" in rules(decision)
    below = run(transaction=kind, safeguards=CISA, data=data({category: n}))
    assert "dsp-omic-access" not in rules(below)


# --- 28 CFR 202.304: evasion ----------------------------------------------------------------------


def test_evasion_is_prohibited_even_with_an_exemption() -> None:
    """28 CFR 202.304: a transaction to evade Part 202 is prohibited; no exemption helps."""
    over = {
        "importer": {"country": "DE", "covered_person": False},
        "transaction": "vendor",
        "purposes": ["evasion"],
        "exemptions_claimed": ["dsp-required-by-law"],
    }
    decision = run(**over)
    assert decision.outcome is Outcome.DENY
    assert "dsp-evasion" in rules(decision)


# --- Subpart E: exemptions ------------------------------------------------------------------------

EXEMPTIONS = [
    ("dsp-personal-communications", "dsp-exempt-personal-communications", {}),
    ("dsp-informational-materials", "dsp-exempt-informational-materials", {}),
    ("dsp-travel", "dsp-exempt-travel", {}),
    ("dsp-official-government-business", "dsp-exempt-official-business", {}),
    ("dsp-financial-services", "dsp-exempt-financial-services", {}),
    ("dsp-intra-group", "dsp-exempt-corporate-group", {"importer": {"group": "us-co"}}),
    ("dsp-required-by-law", "dsp-exempt-required-by-law", {}),
    ("dsp-cfius", "dsp-exempt-cfius", {"transaction": "investment"}),
    ("dsp-telecommunications", "dsp-exempt-telecommunications", {}),
    ("dsp-fda-regulatory", "dsp-exempt-fda-regulatory", {"data": {"de_identified": True}}),
    ("dsp-clinical-investigations", "dsp-exempt-clinical-investigations", {}),
]


@pytest.mark.parametrize(("claim", "rule", "extra"), EXEMPTIONS, ids=[e[0] for e in EXEMPTIONS])
def test_every_subpart_e_exemption(claim: str, rule: str, extra: dict[str, Any]) -> None:
    """28 CFR 202.501-511: a restricted transaction without CISA is denied; exemptions lift it."""
    over: dict[str, Any] = {"transaction": "vendor", **extra}
    if "data" in over:
        over["data"] = {**BASE["data"], **over["data"]}
    assert run(**over).outcome is Outcome.DENY
    decision = run(**over, exemptions_claimed=[claim])
    assert decision.outcome is Outcome.PERMIT
    assert rule in rules(decision)
    cite = VOCAB.describe("exemption", claim).citation
    assert next(r for r in decision.reasons if r.rule == rule).citation == cite


def test_every_exemption_rule_is_in_the_pack() -> None:
    """Subpart E: the pack has one exemption rule per DSP exemption in the vocabulary."""
    in_pack = {r.citation for r in dsp().rules if str(r.kind) == "exemption"}
    in_vocab = {
        VOCAB.describe("exemption", e).citation
        for e in VOCAB.terms("exemption")
        if e.startswith("dsp-")
    }
    assert in_pack == in_vocab
    assert {c for c, _, _ in EXEMPTIONS} == {
        e for e in VOCAB.terms("exemption") if e.startswith("dsp-")
    }


@pytest.mark.parametrize("absent", [..., None], ids=["left-out", "null"])
def test_no_claim_means_no_exemption_not_an_unknown_one(absent: Any) -> None:
    """28 CFR 202.501-511: an exemption applies when the U.S. person relies on it; a document that
    claims none (the list left out, or null) is decided, never indeterminate for want of a claim."""
    claimed_none = run(transaction="vendor", exemptions_claimed=absent)
    assert claimed_none.outcome is Outcome.DENY
    assert "exemptions_claimed" not in claimed_none.missing
    assert rules(claimed_none) == rules(run(transaction="vendor"))
    brokerage = run(exemptions_claimed=absent)
    assert brokerage.outcome is Outcome.DENY
    assert "dsp-brokerage-countries-of-concern" in rules(brokerage)
    travel = run(transaction="vendor", exemptions_claimed=["dsp-travel"])
    assert travel.outcome is Outcome.PERMIT  # the same document with a claim is exempted


def test_financial_services_exemption_does_not_cover_brokerage() -> None:
    """28 CFR 202.505: only transactions incident to a financial service, not data brokerage."""
    decision = run(exemptions_claimed=["dsp-financial-services"])
    assert decision.outcome is Outcome.DENY


def test_corporate_group_exemption_needs_the_same_group_and_no_intelligence_demand() -> None:
    """28 CFR 202.506: intra-group administrative work, never to serve an intelligence demand."""
    claim = {"transaction": "vendor", "exemptions_claimed": ["dsp-intra-group"]}
    other_group = run(**claim, importer={"group": "someone-else"})
    assert other_group.outcome is Outcome.DENY
    same = run(**claim, importer={"group": "us-co"}, purposes=["human-resources"])
    assert same.outcome is Outcome.PERMIT
    demand = run(**claim, importer={"group": "us-co"}, purposes=["intelligence-demand"])
    assert demand.outcome is Outcome.DENY


def test_cfius_exemption_applies_to_investments_only() -> None:
    """28 CFR 202.508: only investment agreements subject to a CFIUS action."""
    decision = run(transaction="vendor", exemptions_claimed=["dsp-cfius"])
    assert decision.outcome is Outcome.DENY


def test_fda_exemption_needs_de_identified_data() -> None:
    """28 CFR 202.510: the regulatory-approval exemption covers de-identified data only."""
    decision = run(transaction="vendor", exemptions_claimed=["dsp-fda-regulatory"])
    assert decision.outcome is Outcome.DENY


@pytest.mark.parametrize(
    "claim", ["dsp-travel", "dsp-telecommunications", "dsp-cfius", "dsp-clinical-investigations"]
)
def test_secondary_exemptions_are_flagged(claim: str) -> None:
    """regimes.md marks 202.503, 202.508, 202.509 and 202.511 as secondary sources."""
    rule_id = next(rule for c, rule, _ in EXEMPTIONS if c == claim)
    rule = dsp().rule(rule_id)
    assert rule is not None
    assert str(rule.confidence) == "secondary"


# --- When the pack applies ------------------------------------------------------------------------


def test_not_in_force_before_8_april_2025() -> None:
    """Final rule (90 FR 1636): Part 202 applies from 8 Apr 2025."""
    decision = run(as_of=date(2025, 4, 7))
    assert decision.outcome is Outcome.PERMIT
    status = next(p for p in decision.packs if p.id == "us-dsp")
    assert not status.applied
    assert run(as_of=date(2025, 4, 8)).outcome is Outcome.DENY


def test_only_us_persons_are_regulated() -> None:
    """28 CFR 202.301 binds U.S. persons: a German exporter is out of scope."""
    decision = run(exporter={"country": "DE"})
    status = next(p for p in decision.packs if p.id == "us-dsp")
    assert not status.applied
    assert decision.outcome is Outcome.PERMIT


def test_decide_function_agrees_with_the_engine() -> None:
    """The one-shot ``decide`` and the compiled engine give the same decision."""
    doc = _merge(BASE, {})
    t = Transfer.from_mapping(doc)
    assert decide(t, [dsp()], as_of=ON).outcome is engine().decide(t, as_of=ON).outcome


# --- The pack's own metadata ----------------------------------------------------------------------


def test_every_rule_cites_its_provision_and_the_ecfr() -> None:
    for rule in dsp().rules:
        assert (rule.citation or "").startswith("28 CFR 202."), rule.id
        assert (rule.source or "").startswith("https://www.ecfr.gov/"), rule.id
        for duty in rule.duties:
            assert duty.citation, duty.id
            assert (duty.source or "").startswith("https://www.ecfr.gov/"), duty.id


def test_pack_metadata() -> None:
    meta = dsp().meta
    assert meta.id == "us-dsp"
    assert meta.effective_from == date(2025, 4, 8)
    notes = meta.notes or ""
    assert "$368,136" in notes
    assert "20 years" in notes
    groups = {g.name: set(g.members) for g in dsp().groups}
    assert groups["countries-of-concern"] == set(VOCAB.group("countries-of-concern"))


# --- The Cedar encoding used by benchmarks/decide agrees with the pack ---------------------------


def test_cedar_encoding_in_the_benchmark_agrees_with_the_pack() -> None:
    """benchmarks/decide/dsp.cedar encodes the same permit/deny rules: both agree on 1,000 random
    transfers (the benchmark checks 100,000)."""
    import importlib.util

    import cedarpy

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "decide" / "run.py"
    spec = importlib.util.spec_from_file_location("decide_benchmark", script)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    policies = cedarpy.PolicySet.from_str((script.parent / "dsp.cedar").read_text("utf-8"))
    entities = cedarpy.Entities.from_json_str("[]")
    verdicts = set()
    for doc in bench.generate(1_000, seed=7):
        ours = engine().decide(Transfer.from_mapping(doc))
        theirs = cedarpy.is_authorized(bench.cedar_request(doc), policies, entities)
        verdict = bench.dsp_verdict(ours)
        verdicts.add(verdict)
        assert verdict == ("permit" if theirs.allowed else "deny"), doc
    assert verdicts == {"permit", "deny"}
