"""Worked cases for the EU, UK, China, India and Russia packs, each citing the provision it follows.

Every case builds a transfer from a fully specified base (``_regimes.BASE``), overrides what it
tests, decides it against the named shipped packs on the transfer's date, and checks the outcome,
the rules that decided it, the facts reported missing and the obligations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from _regimes import deciding_rules, obligation_ids, run, transfer

DPF_ACTIVE = {"scheme": "eu-us-dpf", "status": "active", "valid_until": "2027-09-30"}
DPF_INACTIVE = {"scheme": "eu-us-dpf", "status": "inactive", "valid_until": "2027-09-30"}
DPF_UNKNOWN = {"scheme": "eu-us-dpf", "status": "unknown"}
UKX_ACTIVE = {"scheme": "uk-extension-dpf", "status": "active", "valid_until": "2027-09-30"}
UKX_UNKNOWN = {"scheme": "uk-extension-dpf", "status": "unknown"}

GB_EXPORTER = {"exporter": {"country": "GB"}}


def cn(over: dict[str, Any]) -> dict[str, Any]:
    """A Chinese exporter (non-CIIO, no important data) with the given overrides."""
    base: dict[str, Any] = {
        "exporter": {"country": "CN"},
        "importer": {"country": "SG"},
        "data": {"subject_countries": ["CN"]},
    }
    for key, value in over.items():
        if isinstance(value, dict) and key in base:
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def counts(nonsensitive: int, sensitive: int = 0) -> dict[str, Any]:
    """Cumulative counts since 1 January, as docs/packs/cn-pipl.md says to give them."""
    cats = ["contact-details"] + (["personal-health"] if sensitive else [])
    subjects = {"contact-details": nonsensitive}
    if sensitive:
        subjects["personal-health"] = sensitive
    return {"categories": cats, "subjects": subjects}


@dataclass(frozen=True)
class Case:
    id: str
    cites: str
    packs: tuple[str, ...]
    over: dict[str, Any]
    outcome: str
    rules: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()
    obligations: frozenset[str] = frozenset()
    absent_obligations: frozenset[str] = field(default_factory=frozenset)


def case(
    id: str,
    cites: str,
    packs: tuple[str, ...] | str,
    over: dict[str, Any],
    outcome: str,
    *,
    rules: tuple[str, ...] = (),
    missing: tuple[str, ...] = (),
    obligations: tuple[str, ...] = (),
    absent: tuple[str, ...] = (),
) -> Case:
    return Case(
        id,
        cites,
        (packs,) if isinstance(packs, str) else packs,
        over,
        outcome,
        frozenset(rules),
        frozenset(missing),
        frozenset(obligations),
        frozenset(absent),
    )


EU = "eu-gdpr-ch5"
UK = "uk-gdpr"
CN = "cn-pipl"
IN = "in-dpdp"
RU = "ru-152fz"
PERMIT, PWO, DENY, INDET = "permit", "permit_with_obligations", "deny", "indeterminate"

CASES: list[Case] = [
    # --- EU: Art 45 adequacy, partial adequacy ---
    case(
        "eu-dpf-active",
        "GDPR Art 45; Decision (EU) 2023/1795 Art 1",
        EU,
        {"importer": {"country": "US", "certifications": [DPF_ACTIVE]}},
        PERMIT,
        rules=("eu-adequacy-us-dpf",),
    ),
    case(
        "eu-dpf-inactive",
        "Decision (EU) 2023/1795, Annex I III.6; GDPR Art 44",
        EU,
        {"importer": {"country": "US", "certifications": [DPF_INACTIVE]}},
        DENY,
        rules=("eu-gdpr-ch5:(default)",),
    ),
    case(
        "eu-dpf-lapsed",
        "Decision (EU) 2023/1795 (annual re-certification); GDPR Art 44",
        EU,
        {
            "importer": {
                "country": "US",
                "certifications": [{**DPF_ACTIVE, "valid_until": "2026-05-31"}],
            }
        },
        DENY,
    ),
    case(
        "eu-dpf-unknown",
        "Decision (EU) 2023/1795 Art 1: status decides",
        EU,
        {"importer": {"country": "US", "certifications": [DPF_UNKNOWN]}},
        INDET,
        missing=("importer.certifications",),
    ),
    case(
        "eu-dpf-unknown-but-scc",
        "GDPR Art 46(2)(c): SCCs stand whatever the DPF status",
        EU,
        {
            "importer": {"country": "US", "certifications": [DPF_UNKNOWN]},
            "mechanisms": ["scc-2021-module-2"],
        },
        PWO,
        rules=("eu-scc-module-2",),
    ),
    case(
        "eu-dpf-inactive-with-scc",
        "GDPR Art 46(2)(c); SCC 2021/914 Clause 14",
        EU,
        {
            "importer": {"country": "US", "certifications": [DPF_INACTIVE]},
            "mechanisms": ["scc-2021-module-2"],
        },
        PWO,
        rules=("eu-scc-module-2",),
        obligations=("eu-tia", "eu-supplementary-measures", "eu-breach-notice"),
    ),
    case(
        "eu-canada-pipeda",
        "Decision 2002/2/EC Art 1 (PIPEDA recipients)",
        EU,
        {"importer": {"country": "CA", "subject_to": ["PIPEDA"]}},
        PERMIT,
        rules=("eu-adequacy-canada-pipeda",),
    ),
    case(
        "eu-canada-not-pipeda",
        "Decision 2002/2/EC covers only PIPEDA; GDPR Art 44",
        EU,
        {"importer": {"country": "CA", "subject_to": ["FIPPA-ON"]}},
        DENY,
    ),
    case(
        "eu-japan",
        "Decision (EU) 2019/419",
        EU,
        {"importer": {"country": "JP"}},
        PERMIT,
        rules=("eu-adequacy-japan",),
    ),
    case(
        "eu-brazil-before-decision",
        "Decision (EU) 2026/179 applies from 26 Jan 2026",
        EU,
        {"date": "2025-12-01", "importer": {"country": "BR"}},
        DENY,
    ),
    case(
        "eu-brazil-after-decision",
        "Decision (EU) 2026/179",
        EU,
        {"importer": {"country": "BR"}},
        PERMIT,
        rules=("eu-adequacy-brazil",),
    ),
    case(
        "eu-intra-eea",
        "GDPR Art 44 (third countries only); EEA Agreement",
        EU,
        {"importer": {"country": "NO"}},
        PERMIT,
        rules=("eu-intra-eea",),
    ),
    case(
        "eu-no-tool-india",
        "GDPR Art 44 (default deny)",
        EU,
        {},
        DENY,
        rules=("eu-gdpr-ch5:(default)",),
    ),
    # --- EU: Art 46 tools; the SCC module must match the roles ---
    case(
        "eu-scc-module-1-c2c",
        "SCC 2021/914 Module One",
        EU,
        {"importer": {"role": "controller"}, "mechanisms": ["scc-2021-module-1"]},
        PWO,
        rules=("eu-scc-module-1",),
        obligations=("eu-tia",),
    ),
    case(
        "eu-scc-module-1-mismatch",
        "SCC 2021/914 Module One needs a controller importer",
        EU,
        {"importer": {"role": "processor"}, "mechanisms": ["scc-2021-module-1"]},
        DENY,
    ),
    case(
        "eu-scc-module-2-c2p",
        "SCC 2021/914 Module Two",
        EU,
        {"mechanisms": ["scc-2021-module-2"]},
        PWO,
        rules=("eu-scc-module-2",),
    ),
    case(
        "eu-scc-module-3-p2p",
        "SCC 2021/914 Module Three",
        EU,
        {"exporter": {"role": "processor"}, "mechanisms": ["scc-2021-module-3"]},
        PWO,
        rules=("eu-scc-module-3",),
    ),
    case(
        "eu-scc-module-4-p2c",
        "SCC 2021/914 Module Four",
        EU,
        {
            "exporter": {"role": "processor"},
            "importer": {"role": "controller"},
            "mechanisms": ["scc-2021-module-4"],
        },
        PWO,
        rules=("eu-scc-module-4",),
    ),
    case(
        "eu-scc-module-2-wrong-direction",
        "SCC 2021/914 Module Two is controller→processor",
        EU,
        {"exporter": {"role": "processor"}, "mechanisms": ["scc-2021-module-2"]},
        DENY,
    ),
    case(
        "eu-scc-role-unknown",
        "SCC 2021/914: the module depends on the importer's role",
        EU,
        {"importer": {"role": ...}, "mechanisms": ["scc-2021-module-2"]},
        INDET,
        missing=("importer.role",),
    ),
    case(
        "eu-old-scc-expired",
        "Decision (EU) 2021/914 Art 4(3)–(4): invalid from 27 Dec 2022",
        EU,
        {"mechanisms": ["scc-2010"]},
        DENY,
        rules=("eu-scc-2010-expired",),
    ),
    case(
        "eu-old-scc-transitional",
        "GDPR Art 46(5); Decision (EU) 2021/914 Art 4(4)",
        EU,
        {"date": "2022-06-01", "mechanisms": ["scc-2010"]},
        PWO,
        rules=("eu-scc-2010-transitional",),
    ),
    case(
        "eu-privacy-shield-invalid",
        "CJEU C-311/18 (Schrems II)",
        EU,
        {"importer": {"country": "US"}, "mechanisms": ["privacy-shield"]},
        DENY,
        rules=("eu-privacy-shield-invalid",),
    ),
    case(
        "eu-privacy-shield-2019",
        "Decision (EU) 2016/1250 (before C-311/18)",
        EU,
        {"date": "2019-06-01", "importer": {"country": "US"}, "mechanisms": ["privacy-shield"]},
        PERMIT,
        rules=("eu-privacy-shield-permitted",),
    ),
    case(
        "eu-privacy-shield-plus-dpf",
        "Decision (EU) 2023/1795: DPF carries the transfer",
        EU,
        {
            "importer": {"country": "US", "certifications": [DPF_ACTIVE]},
            "mechanisms": ["privacy-shield"],
        },
        PERMIT,
        rules=("eu-adequacy-us-dpf",),
    ),
    case(
        "eu-bcr-approved",
        "GDPR Art 46(2)(b) and Art 47",
        EU,
        {
            "mechanisms": ["bcr"],
            "importer": {"certifications": [{"scheme": "bcr-approved", "status": "active"}]},
        },
        PWO,
        rules=("eu-bcr",),
    ),
    case(
        "eu-bcr-not-approved",
        "GDPR Art 47(1): approval by the competent authority",
        EU,
        {"mechanisms": ["bcr"]},
        DENY,
    ),
    case(
        "eu-ad-hoc-clauses",
        "GDPR Art 46(3)(a): authorisation needed",
        EU,
        {"mechanisms": ["ad-hoc-clauses"]},
        PWO,
        rules=("eu-ad-hoc-clauses",),
        obligations=("eu-art46-3-authorisation",),
    ),
    case(
        "eu-global-cbpr-not-a-tool",
        "GDPR Art 46(2)(f), Art 42: CBPR is no GDPR certification",
        EU,
        {
            "importer": {
                "country": "SG",
                "certifications": [{"scheme": "global-cbpr", "status": "active"}],
            },
            "mechanisms": ["global-cbpr"],
        },
        DENY,
    ),
    # --- EU: Art 49 derogations ---
    case(
        "eu-derogation-consent-occasional",
        "GDPR Art 49(1)(a)",
        EU,
        {"mechanisms": ["derogation-consent"], "occasional": True},
        PWO,
        rules=("eu-derogation-consent",),
        obligations=("eu-derogation-record",),
    ),
    case(
        "eu-derogation-consent-systematic",
        "GDPR Art 49(1); EDPB Guidelines 2/2018",
        EU,
        {"mechanisms": ["derogation-consent"], "occasional": False},
        DENY,
    ),
    case(
        "eu-derogation-contract-public-powers",
        "GDPR Art 49(3): not (b) for public powers",
        EU,
        {
            "exporter": {"kind": "public-authority", "public_powers": True},
            "mechanisms": ["derogation-contract"],
            "occasional": True,
        },
        DENY,
    ),
    case(
        "eu-derogation-residual-public-powers",
        "GDPR Art 49(3): not the residual ground",
        EU,
        {
            "exporter": {"kind": "public-authority", "public_powers": True},
            "mechanisms": ["derogation-compelling-interests"],
            "occasional": True,
        },
        DENY,
    ),
    case(
        "eu-derogation-public-interest-authority",
        "GDPR Art 49(1)(d) stays open to authorities",
        EU,
        {
            "exporter": {"kind": "public-authority", "public_powers": True},
            "mechanisms": ["derogation-public-interest"],
            "occasional": True,
        },
        PWO,
        rules=("eu-derogation-public-interest",),
    ),
    case(
        "eu-derogation-authority-powers-unknown",
        "GDPR Art 49(3) depends on public powers",
        EU,
        {
            "exporter": {"kind": "public-authority", "public_powers": ...},
            "mechanisms": ["derogation-consent"],
            "occasional": True,
        },
        INDET,
        missing=("exporter.public_powers",),
    ),
    case(
        "eu-derogation-residual-company",
        "GDPR Art 49(1) second subparagraph",
        EU,
        {"mechanisms": ["derogation-compelling-interests"], "occasional": True},
        PWO,
        obligations=("eu-residual-inform-authority", "eu-residual-inform-subject"),
    ),
    # --- UK ---
    case(
        "uk-bridge-eea",
        "DPA 2018 Sch 21 para 4",
        UK,
        {**GB_EXPORTER, "importer": {"country": "FR"}},
        PERMIT,
        rules=("uk-bridge-eea",),
    ),
    case(
        "uk-bridge-vs-idta-india",
        "UK GDPR Art 46(2)(d): no bridge to India, IDTA needed",
        UK,
        {**GB_EXPORTER, "importer": {"country": "IN"}},
        DENY,
    ),
    case(
        "uk-idta",
        "UK GDPR Art 46(2)(d); DPA 2018 s.119A",
        UK,
        {**GB_EXPORTER, "mechanisms": ["idta"]},
        PWO,
        rules=("uk-idta",),
        obligations=("uk-tra", "uk-breach-notice"),
    ),
    case(
        "uk-addendum-with-eu-scc",
        "UK Addendum (s.119A) attached to SCC 2021/914",
        UK,
        {**GB_EXPORTER, "mechanisms": ["uk-addendum", "scc-2021-module-2"]},
        PWO,
        rules=("uk-addendum",),
        obligations=("uk-tra",),
    ),
    case(
        "uk-eu-scc-without-addendum",
        "UK GDPR Art 46: EU SCCs need the UK Addendum",
        UK,
        {**GB_EXPORTER, "mechanisms": ["scc-2021-module-2"]},
        DENY,
    ),
    case(
        "uk-old-scc-replaced",
        "ICO Transitional Provisions: old SCCs end 21 Mar 2024",
        UK,
        {**GB_EXPORTER, "mechanisms": ["scc-2010"]},
        DENY,
        rules=("uk-scc-2010-replaced",),
    ),
    case(
        "uk-old-scc-before-cutoff",
        "ICO Transitional Provisions (until 21 Mar 2024)",
        UK,
        {**GB_EXPORTER, "date": "2023-06-01", "mechanisms": ["scc-2010"]},
        PWO,
        rules=("uk-scc-2010-transitional",),
    ),
    case(
        "uk-extension-dpf",
        "SI 2023/1028 reg 2 (UK Extension to the DPF)",
        UK,
        {**GB_EXPORTER, "importer": {"country": "US", "certifications": [DPF_ACTIVE, UKX_ACTIVE]}},
        PERMIT,
        rules=("uk-bridge-us-extension",),
    ),
    case(
        "uk-eu-dpf-alone",
        "SI 2023/1028: EU-U.S. DPF alone is no UK bridge",
        UK,
        {**GB_EXPORTER, "importer": {"country": "US", "certifications": [DPF_ACTIVE]}},
        DENY,
    ),
    case(
        "uk-extension-without-dpf",
        "UK Extension requires EU-U.S. DPF participation",
        UK,
        {
            **GB_EXPORTER,
            "importer": {"country": "US", "certifications": [DPF_INACTIVE, UKX_ACTIVE]},
        },
        DENY,
    ),
    case(
        "uk-extension-unknown",
        "SI 2023/1028: status decides",
        UK,
        {**GB_EXPORTER, "importer": {"country": "US", "certifications": [DPF_ACTIVE, UKX_UNKNOWN]}},
        INDET,
        missing=("importer.certifications",),
    ),
    case(
        "uk-korea-bridge",
        "SI 2022/1213 (from 19 Dec 2022)",
        UK,
        {**GB_EXPORTER, "importer": {"country": "KR"}},
        PERMIT,
        rules=("uk-bridge-korea",),
    ),
    case(
        "uk-korea-before-bridge",
        "SI 2022/1213 not yet in force",
        UK,
        {**GB_EXPORTER, "date": "2022-06-01", "importer": {"country": "KR"}},
        DENY,
    ),
    case(
        "uk-derogation-systematic",
        "UK GDPR Art 49(1): occasional only",
        UK,
        {**GB_EXPORTER, "mechanisms": ["derogation-contract"], "occasional": False},
        DENY,
    ),
    # --- China: PIPL and the 2024 Provisions (以上 = N or more) ---
    case(
        "cn-99999-exempt",
        "Provisions Art 5(4): under 100,000 non-sensitive is exempt",
        CN,
        cn({"data": counts(99_999)}),
        PWO,
        rules=("pipl-export-personal-information",),
        obligations=("pipl-separate-consent", "pipl-pia"),
    ),
    case(
        "cn-100000-needs-contract",
        "Provisions Art 8: 100,000 以上 → standard contract",
        CN,
        cn({"data": counts(100_000)}),
        DENY,
        rules=("pipl-route-required",),
    ),
    case(
        "cn-100000-with-contract",
        "Provisions Art 8; PIPL Art 38(1)(3)",
        CN,
        cn({"data": counts(100_000), "mechanisms": ["pipl-standard-contract"]}),
        PWO,
        obligations=("pipl-file-standard-contract", "pipl-separate-consent"),
    ),
    case(
        "cn-100000-with-certification",
        "PIPL Art 38(1)(2)",
        CN,
        cn({"data": counts(100_000), "mechanisms": ["pipl-certification"]}),
        PWO,
    ),
    case(
        "cn-999999-contract",
        "Provisions Art 8: under 1,000,000 → contract suffices",
        CN,
        cn({"data": counts(999_999), "mechanisms": ["pipl-standard-contract"]}),
        PWO,
    ),
    case(
        "cn-1000000-contract-not-enough",
        "Provisions Art 7: 1,000,000 以上 → assessment",
        CN,
        cn({"data": counts(1_000_000), "mechanisms": ["pipl-standard-contract"]}),
        DENY,
        rules=("pipl-security-assessment-required",),
    ),
    case(
        "cn-1000000-assessed",
        "Provisions Art 7; PIPL Art 40",
        CN,
        cn({"data": counts(1_000_000), "mechanisms": ["cac-security-assessment"]}),
        PWO,
        obligations=("pipl-renew-assessment",),
    ),
    case(
        "cn-sensitive-9999-no-route",
        "Provisions Art 8: any sensitive PI under 10,000 → contract",
        CN,
        cn({"data": counts(10, 9_999)}),
        DENY,
        rules=("pipl-route-required",),
    ),
    case(
        "cn-sensitive-9999-contract",
        "Provisions Art 8",
        CN,
        cn({"data": counts(10, 9_999), "mechanisms": ["pipl-standard-contract"]}),
        PWO,
    ),
    case(
        "cn-sensitive-10000-contract-not-enough",
        "Provisions Art 7: 10,000 sensitive 以上",
        CN,
        cn({"data": counts(10, 10_000), "mechanisms": ["pipl-standard-contract"]}),
        DENY,
        rules=("pipl-security-assessment-required",),
    ),
    case(
        "cn-ciio-any-volume",
        "PIPL Art 40; Provisions Art 7(1): a CIIO needs the assessment",
        CN,
        cn({"exporter": {"ciio": True}, "data": counts(500)}),
        DENY,
        rules=("pipl-security-assessment-required",),
    ),
    case(
        "cn-ciio-unknown-matters",
        "PIPL Art 40: CIIO status decides at 500 persons",
        CN,
        cn({"exporter": {"ciio": ...}, "data": counts(500)}),
        INDET,
        missing=("exporter.ciio",),
    ),
    case(
        "cn-ciio-unknown-does-not-matter",
        "Provisions Art 7: 1,000,000 needs assessment anyway",
        CN,
        cn({"exporter": {"ciio": ...}, "data": counts(2_000_000)}),
        DENY,
    ),
    case(
        "cn-ciio-unknown-assessed",
        "PIPL Art 38(1)(1): the assessment covers both cases",
        CN,
        cn(
            {
                "exporter": {"ciio": ...},
                "data": counts(500),
                "mechanisms": ["cac-security-assessment"],
            }
        ),
        PWO,
    ),
    case(
        "cn-hr-exemption",
        "Provisions Art 5(2): cross-border HR at any volume",
        CN,
        cn(
            {
                "transaction": "hr",
                "data": {
                    "categories": ["employee-records"],
                    "subjects": {"employee-records": 2_000_000},
                },
            }
        ),
        PWO,
        rules=("pipl-exempt-hr",),
        obligations=("pipl-separate-consent",),
    ),
    case(
        "cn-hr-exemption-not-for-important-data",
        "Provisions Art 5 (PI only); DSL Art 31",
        CN,
        cn({"transaction": "hr", "data": {"important_data": True}}),
        DENY,
        rules=("pipl-security-assessment-required",),
    ),
    case(
        "cn-contract-exemption",
        "Provisions Art 5(1): necessary for a contract",
        CN,
        cn({"transaction": "contract-with-subject", "data": counts(500_000, 20_000)}),
        PWO,
        rules=("pipl-exempt-contract",),
    ),
    case(
        "cn-emergency-exemption",
        "Provisions Art 5(3): emergencies",
        CN,
        cn({"transaction": "emergency", "data": counts(10, 50_000)}),
        PWO,
        rules=("pipl-exempt-emergency",),
    ),
    case(
        "cn-important-data-unknown",
        "Provisions Art 7(1): important data needs assessment",
        CN,
        cn({"data": {"important_data": ...}}),
        INDET,
        missing=("data.important_data",),
    ),
    case(
        "cn-no-exemption-claimed",
        "Provisions Art 4, Art 8: an exemption the exporter does not claim does not apply",
        CN,
        cn({"data": counts(100_000), "exemptions_claimed": ...}),
        DENY,
        rules=("pipl-route-required",),
    ),
    case(
        "cn-foreign-collected-claimed",
        "Provisions on Cross-Border Data Flows Art 4 (foreign-collected data sent back)",
        CN,
        cn({"data": counts(100_000), "exemptions_claimed": ["pipl-foreign-collected"]}),
        PWO,
        rules=("pipl-exempt-foreign-collected",),
        obligations=("pipl-separate-consent",),
    ),
    case(
        "cn-not-personal-not-important",
        "Provisions Art 3: out of scope",
        CN,
        cn({"data": {"categories": ["technical-data"], "subjects": {}}}),
        PERMIT,
    ),
    # --- India ---
    case(
        "in-negative-list-empty",
        "DPDP Act 2023 s.16(1)",
        IN,
        {"exporter": {"country": "IN"}, "importer": {"country": "US"}},
        PWO,
        rules=("dpdp-transfer-permitted",),
        obligations=("dpdp-breach-intimation",),
    ),
    case(
        "in-rbi-payment-data",
        "DPDP Act s.16(2); RBI/2017-18/153",
        IN,
        {
            "exporter": {"country": "IN"},
            "importer": {"country": "SG"},
            "purposes": ["payments"],
            "data": {"categories": ["personal-financial"], "subjects": {"personal-financial": 10}},
        },
        PWO,
        obligations=("dpdp-rbi-payment-data-return",),
    ),
    # --- Russia ---
    case(
        "ru-foreign-collection-2026",
        "152-FZ Art 18(5) as amended by 23-FZ (from 1 Jul 2025)",
        RU,
        {
            "importer": {"country": "DE"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": True,
        },
        DENY,
        rules=("ru-foreign-database-ban",),
    ),
    case(
        "ru-foreign-collection-2020",
        "152-FZ Art 18(5) (242-FZ, from 1 Sep 2015)",
        RU,
        {
            "date": "2020-03-01",
            "importer": {"country": "DE"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": True,
        },
        DENY,
        rules=("ru-localisation-collection",),
    ),
    case(
        "ru-processor-abroad-2026",
        "152-FZ Art 18(5)–(8): processors included from 2025",
        RU,
        {
            "exporter": {"country": "RU", "role": "processor"},
            "importer": {"country": "KZ"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": True,
        },
        DENY,
    ),
    case(
        "ru-collection-in-russia",
        "152-FZ Art 18(5): databases in Russia",
        RU,
        {
            "exporter": {"country": "RU"},
            "importer": {"country": "RU"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": True,
        },
        PERMIT,
        rules=("ru-domestic",),
    ),
    case(
        "ru-transfer-after-localisation",
        "152-FZ Art 12(3)–(5) (notice to Roskomnadzor)",
        RU,
        {
            "exporter": {"country": "RU"},
            "importer": {"country": "DE"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": False,
        },
        PWO,
        obligations=("ru-notify-roskomnadzor",),
    ),
    case(
        "ru-collection-unknown",
        "152-FZ Art 18(5): initial collection decides",
        RU,
        {
            "exporter": {"country": "RU"},
            "importer": {"country": "DE"},
            "data": {"subject_countries": ["RU"]},
            "initial_collection": ...,
        },
        INDET,
        missing=("initial_collection",),
    ),
]


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_worked_case(c: Case) -> None:
    d = run(transfer(c.over, id=c.id), *c.packs)
    assert c.cites  # every case names the provision it follows
    assert d.outcome == c.outcome, d.to_dict()["reasons"]
    assert c.rules <= deciding_rules(d), (c.rules, deciding_rules(d))
    assert c.missing <= set(d.missing), d.missing
    if c.outcome == INDET:
        assert d.missing, "an indeterminate outcome must name the missing facts"
    assert c.obligations <= obligation_ids(d), obligation_ids(d)
    assert not (c.absent_obligations & obligation_ids(d))


def test_there_are_at_least_forty_worked_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
