"""Certification schemes: validity on a date, prerequisites, the recognition matrix."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.policy.transfer import Certification
from accord.vocab import certifications as reg

ON = date(2026, 6, 1)
SCHEMES = sorted(reg.schemes())
STATUSES = ["active", "inactive", "unknown"]


def cert(scheme: str, status: str = "active", valid_until: Any = None) -> dict[str, Any]:
    return {"scheme": scheme, "status": status, "valid_until": valid_until}


def test_registry_lists_the_required_schemes_with_citations() -> None:
    required = {
        "eu-us-dpf",
        "uk-extension-dpf",
        "global-cbpr",
        "global-prp",
        "apec-cbpr",
        "apec-prp",
        "bcr-approved",
        "iso-27701",
    }
    assert required <= set(reg.schemes())
    for s in reg.schemes().values():
        assert s.citation
        assert s.source.startswith("https://")
        assert s.validity
    for r in reg.recognitions():
        assert r.citation
        assert r.source.startswith("https://")
    for n in reg.not_recognised():
        assert n.citation
        assert n.source.startswith("https://")


def test_active_certification_counts() -> None:
    schemes, recs = reg.effective_schemes([cert("eu-us-dpf", valid_until="2027-09-30")], ON)
    assert schemes == {"eu-us-dpf"}
    assert recs == []


@pytest.mark.parametrize("status", ["inactive", "unknown", "withdrawn"])
def test_only_active_counts(status: str) -> None:
    schemes, _ = reg.effective_schemes([cert("eu-us-dpf", status)], ON)
    assert schemes == frozenset()


def test_valid_until_is_inclusive() -> None:
    assert reg.effective_schemes([cert("eu-us-dpf", valid_until=ON)], ON)[0] == {"eu-us-dpf"}
    lapsed = cert("eu-us-dpf", valid_until=ON - timedelta(days=1))
    assert reg.effective_schemes([lapsed], ON)[0] == frozenset()


def test_unknown_status_is_reported_as_unknown_not_effective() -> None:
    result = reg.assess([cert("eu-us-dpf", "unknown")], ON)
    assert result.effective == frozenset()
    assert result.unknown == {"eu-us-dpf"}


def test_uk_extension_needs_an_active_eu_us_dpf() -> None:
    both = [cert("eu-us-dpf"), cert("uk-extension-dpf")]
    assert reg.effective_schemes(both, ON)[0] == {"eu-us-dpf", "uk-extension-dpf"}
    alone = [cert("uk-extension-dpf")]
    assert reg.effective_schemes(alone, ON)[0] == frozenset()
    inactive = [cert("eu-us-dpf", "inactive"), cert("uk-extension-dpf")]
    assert reg.effective_schemes(inactive, ON)[0] == frozenset()
    maybe = reg.assess([cert("eu-us-dpf", "unknown"), cert("uk-extension-dpf")], ON)
    assert maybe.effective == frozenset()
    assert maybe.unknown == {"eu-us-dpf", "uk-extension-dpf"}


def test_apec_cbpr_is_recognised_as_global_cbpr_with_a_citation() -> None:
    schemes, recs = reg.effective_schemes([cert("apec-cbpr")], ON)
    assert schemes == {"apec-cbpr", "global-cbpr"}
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.held, rec.satisfied, rec.regime) == (
        "apec-cbpr",
        "global-cbpr",
        "global-cbpr-forum",
    )
    assert "Global CBPR" in rec.citation
    assert rec.to_dict()["held"] == "apec-cbpr"


def test_global_cbpr_is_not_a_transfer_tool_under_eu_or_uk_gdpr() -> None:
    for regime in ("eu-gdpr-ch5", "uk-gdpr"):
        refused = {n.scheme for n in reg.not_recognised(regime)}
        assert {"global-cbpr", "apec-cbpr"} <= refused
        assert not any(r.satisfied == "global-cbpr" for r in reg.recognitions(regime))


def test_accepts_the_transfer_model_objects() -> None:
    certs = [Certification(scheme="apec-prp", status="active", valid_until=date(2027, 1, 1))]
    schemes, recs = reg.effective_schemes(certs, ON)
    assert schemes == {"apec-prp", "global-prp"}
    assert [r.satisfied for r in recs] == ["global-prp"]


def test_none_and_empty_give_nothing() -> None:
    assert reg.effective_schemes(None, ON) == (frozenset(), [])
    assert reg.effective_schemes([], ON) == (frozenset(), [])


def test_bad_valid_until_is_an_input_error() -> None:
    with pytest.raises(InputError):
        reg.effective_schemes([cert("eu-us-dpf", valid_until="next year")], ON)


_CERTS = st.lists(
    st.builds(
        cert,
        st.sampled_from(SCHEMES),
        st.sampled_from(STATUSES),
        st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2028, 1, 1))),
    ),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(certs=_CERTS, on=st.dates(date(2025, 1, 1), date(2028, 1, 1)))
def test_effective_schemes_invariants(certs: list[dict[str, Any]], on: date) -> None:
    result = reg.assess(certs, on)
    schemes, recs = reg.effective_schemes(certs, on)
    assert schemes == result.effective
    assert not (result.effective & result.unknown)
    # Everything effective is held active and valid, or reached through a cited recognition.
    held = {
        c["scheme"]
        for c in certs
        if c["status"] == "active" and (c["valid_until"] is None or c["valid_until"] >= on)
    }
    reached = {r.satisfied for r in recs}
    assert schemes <= held | reached
    for r in recs:
        assert r.held in schemes
        assert r.satisfied in schemes
        assert r.citation
    # Turning every unknown into active can only add schemes (monotonicity).
    promoted = [{**c, "status": "active"} if c["status"] == "unknown" else c for c in certs]
    assert schemes <= reg.assess(promoted, on).effective
    assert result.unknown <= reg.assess(promoted, on).effective
