"""Properties of the regime packs: PIPL tier boundaries, DPDP's negative list, flags and facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from _regimes import PACKS, deciding_rules, run, transfer
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.policy.ast import Pack
from accord.policy.decide import decide

CN_BASE = {"exporter": {"country": "CN"}, "importer": {"country": "SG"}}
ROUTES = st.sampled_from(
    [(), ("pipl-standard-contract",), ("pipl-certification",), ("cac-security-assessment",)]
)


def _expected(nonsensitive: int, sensitive: int, route: tuple[str, ...]) -> str:
    """The 2024 Provisions' tiers (以上 = N or more), written independently of the pack."""
    if nonsensitive >= 1_000_000 or sensitive >= 10_000:
        needed = {"cac-security-assessment"}
    elif nonsensitive >= 100_000 or sensitive >= 1:
        needed = {"pipl-standard-contract", "pipl-certification", "cac-security-assessment"}
    else:
        needed = None
    if needed is not None and not needed & set(route):
        return "deny"
    return "permit_with_obligations"


@settings(max_examples=80, deadline=None)
@given(
    nonsensitive=st.one_of(
        st.sampled_from([0, 99_999, 100_000, 999_999, 1_000_000]),
        st.integers(min_value=0, max_value=3_000_000),
    ),
    sensitive=st.one_of(
        st.sampled_from([0, 1, 9_999, 10_000]), st.integers(min_value=0, max_value=30_000)
    ),
    route=ROUTES,
)
def test_pipl_tiers_match_the_provisions(
    nonsensitive: int, sensitive: int, route: tuple[str, ...]
) -> None:
    cats = ["contact-details", "personal-health"]
    t = transfer(
        {
            **CN_BASE,
            "data": {
                "categories": cats,
                "subjects": {"contact-details": nonsensitive, "personal-health": sensitive},
            },
            "mechanisms": list(route),
        }
    )
    assert run(t, "cn-pipl").outcome == _expected(nonsensitive, sensitive, route)


@settings(max_examples=40, deadline=None)
@given(
    nonsensitive=st.integers(min_value=0, max_value=3_000_000),
    sensitive=st.integers(min_value=0, max_value=30_000),
)
def test_pipl_hr_exemption_holds_at_any_volume(nonsensitive: int, sensitive: int) -> None:
    # Provisions Art 5(2): cross-border HR management needs no route, whatever the count.
    t = transfer(
        {
            **CN_BASE,
            "transaction": "hr",
            "data": {
                "categories": ["employee-records", "personal-health"],
                "subjects": {"employee-records": nonsensitive, "personal-health": sensitive},
            },
        }
    )
    assert run(t, "cn-pipl").outcome == "permit_with_obligations"


def test_pipl_decisions_flag_uncertain_article_numbers() -> None:
    t = transfer(
        {
            **CN_BASE,
            "data": {"categories": ["contact-details"], "subjects": {"contact-details": 100_000}},
        }
    )
    d = run(t, "cn-pipl").to_dict()
    deny = [r for r in d["reasons"] if r["effect"] == "deny"]
    assert deny
    assert all(r["confidence"] == "uncertain" for r in deny)
    assert all("uncertain" in r["sentence"] for r in deny)


def test_uk_faroe_bridge_is_flagged_uncertain() -> None:
    d = run(transfer({"exporter": {"country": "GB"}, "importer": {"country": "FO"}}), "uk-gdpr")
    assert d.outcome == "permit"
    permit = [r for r in d.to_dict()["reasons"] if r["effect"] == "permit"]
    assert permit[0]["rule"] == "uk-bridge-faroe-islands"
    assert permit[0]["confidence"] == "uncertain"


def test_dpdp_one_line_adds_a_notified_country() -> None:
    # DPDP Act s.16(1): the negative list is a named group; adding a code restricts transfers.
    text = (PACKS / "in-dpdp.yaml").read_text(encoding="utf-8")
    assert "dpdp-restricted-countries: []" in text
    notified = Pack.from_text(
        text.replace("dpdp-restricted-countries: []", "dpdp-restricted-countries: [AQ]"),
        source="in-dpdp-notified.yaml",
    )
    t = transfer({"exporter": {"country": "IN"}, "importer": {"country": "AQ"}})
    on = date(2026, 6, 1)
    assert decide(t, [Pack.from_file(PACKS / "in-dpdp.yaml")], as_of=on).outcome != "deny"
    d = decide(t, [notified], as_of=on)
    assert d.outcome == "deny"
    assert "dpdp-restricted-country" in deciding_rules(d)


def test_eu_unknown_dpf_status_names_the_certification_fact() -> None:
    t = transfer(
        {
            "importer": {
                "country": "US",
                "certifications": [{"scheme": "eu-us-dpf", "status": "unknown"}],
            }
        }
    )
    d = run(t, "eu-gdpr-ch5")
    assert d.outcome == "indeterminate"
    assert "importer.certifications" in d.missing


def test_non_personal_data_is_outside_every_regime_pack() -> None:
    t = transfer({"data": {"categories": ["technical-data"], "subjects": {}}})
    d = run(t, "eu-gdpr-ch5", "uk-gdpr", "cn-pipl", "in-dpdp", "ru-152fz")
    assert d.outcome == "permit"
    assert not any(p["applied"] for p in d.to_dict()["packs"])


SCC_MODULES = {
    "scc-2021-module-1": ("controller", "controller"),
    "scc-2021-module-2": ("controller", "processor"),
    "scc-2021-module-3": ("processor", "processor"),
    "scc-2021-module-4": ("processor", "controller"),
}


@pytest.mark.parametrize("module", sorted(SCC_MODULES))
@pytest.mark.parametrize("exporter_role", ["controller", "processor"])
@pytest.mark.parametrize("importer_role", ["controller", "processor"])
def test_an_scc_module_counts_only_for_its_roles(
    module: str, exporter_role: str, importer_role: str
) -> None:
    # SCC 2021/914, Annex: Module One C→C, Two C→P, Three P→P, Four P→C.
    t = transfer(
        {
            "exporter": {"role": exporter_role},
            "importer": {"role": importer_role},
            "mechanisms": [module],
        }
    )
    matches = SCC_MODULES[module] == (exporter_role, importer_role)
    d = run(t, "eu-gdpr-ch5")
    assert d.outcome == ("permit_with_obligations" if matches else "deny")
    assert ("eu-tia" in {o.id for o in d.obligations}) == matches


_EU_TRANSFERS = st.fixed_dictionaries(
    {
        "importer": st.fixed_dictionaries(
            {
                "country": st.sampled_from(["US", "CA", "JP", "IN", "SG", "BR", "FR"]),
                "role": st.sampled_from(["controller", "processor"]),
                "subject_to": st.sampled_from([[], ["PIPEDA"]]),
            }
        ),
        "exporter": st.fixed_dictionaries(
            {
                "country": st.sampled_from(["DE", "GB"]),
                "role": st.sampled_from(["controller", "processor"]),
            }
        ),
        "mechanisms": st.lists(
            st.sampled_from(
                [
                    "scc-2021-module-1",
                    "scc-2021-module-2",
                    "scc-2010",
                    "privacy-shield",
                    "idta",
                    "uk-addendum",
                    "derogation-consent",
                    "global-cbpr",
                ]
            ),
            max_size=3,
            unique=True,
        ),
        "occasional": st.booleans(),
    }
)
_NOT_TOOLS = [{"scheme": s, "status": "active"} for s in ("global-cbpr", "apec-cbpr", "iso-27701")]


@settings(max_examples=60, deadline=None)
@given(over=_EU_TRANSFERS)
def test_schemes_that_are_no_transfer_tool_change_nothing(over: dict[str, Any]) -> None:
    # GDPR / UK GDPR Art 46(2)(f) and Art 42: CBPR and ISO certifications are no transfer tool.
    plain = transfer(over)
    certified = transfer({**over, "importer": {**over["importer"], "certifications": _NOT_TOOLS}})
    for pack_id in ("eu-gdpr-ch5", "uk-gdpr"):
        assert run(plain, pack_id).outcome == run(certified, pack_id).outcome


@settings(max_examples=60, deadline=None)
@given(over=_EU_TRANSFERS)
def test_an_inactive_dpf_listing_counts_as_none(over: dict[str, Any]) -> None:
    # Decision (EU) 2023/1795: only "active" organisations may receive data under the DPF.
    inactive = [
        {"scheme": "eu-us-dpf", "status": "inactive"},
        {"scheme": "uk-extension-dpf", "status": "inactive"},
    ]
    plain = transfer(over)
    listed = transfer({**over, "importer": {**over["importer"], "certifications": inactive}})
    for pack_id in ("eu-gdpr-ch5", "uk-gdpr"):
        assert run(plain, pack_id).outcome == run(listed, pack_id).outcome
