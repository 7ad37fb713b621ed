"""`accord.policy.diff` and `accord packs diff`, tested on two drafts of the example agreement."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.cli import main
from accord.policy.ast import Pack
from accord.policy.diff import decision_changes, diff_packs, render_constraint
from accord.policy.transfer import load_transfers

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "agreements"
DRAFT_1 = ASSETS / "tdfa-draft-1.yaml"
DRAFT_2 = ASSETS / "tdfa-draft-2.yaml"
TRANSFERS = ASSETS / "tdfa-transfers.yaml"
SHIPPED = Path(__file__).resolve().parents[3] / "src" / "accord" / "packs"


@pytest.fixture(scope="module")
def drafts() -> tuple[Pack, Pack]:
    return Pack.from_file(DRAFT_1), Pack.from_file(DRAFT_2)


def test_identical_packs_have_an_empty_diff(drafts: tuple[Pack, Pack]) -> None:
    old, _ = drafts
    again = Pack.from_file(DRAFT_1)
    result = diff_packs(old, again)
    assert result.empty
    assert decision_changes(old, again, load_transfers(TRANSFERS)) == []


def test_metadata_changes_field_by_field(drafts: tuple[Pack, Pack]) -> None:
    result = diff_packs(*drafts)
    meta = {c.field: (c.old, c.new) for c in result.metadata}
    assert meta["version"] == ("1.0-draft.1", "1.0-draft.2")
    assert meta["sunset"] == ("2031-12-31", "2030-12-31")
    assert meta["parties"][1][-1] == "AU"
    assert "AU" not in meta["parties"][0]
    assert set(meta) == {"version", "sunset", "parties", "scope"}
    scope = next(c for c in result.metadata if c.field == "scope")
    assert scope.removed == ()
    assert scope.added == (
        "(exporter.country eq AU and importer.country isAnyOf group:tdfa-parties"
        " and importer.country neq AU)",
    )


def test_groups_and_thresholds(drafts: tuple[Pack, Pack]) -> None:
    result = diff_packs(*drafts)
    assert [c.field for c in result.groups] == ["groups.tdfa-other-parties", "groups.tdfa-parties"]
    assert [c.field for c in result.thresholds] == ["thresholds.tdfa-tier-3-volume.constraint"]
    change = result.thresholds[0]
    assert change.old.endswith("gteq 1000000")
    assert change.new.endswith("gteq 500000")


def test_rules_added_removed_changed(drafts: tuple[Pack, Pack]) -> None:
    result = diff_packs(*drafts)
    assert result.added == ("tdfa-incident-notice",)
    assert result.removed == ("tdfa-benchmark-review",)
    assert [c.rule for c in result.changed] == ["tdfa-baseline-flow"]
    fields = [c.field for c in result.changed[0].changes]
    assert fields == ["duties.tdfa-provenance-retention.text"]
    assert "seven years" in result.changed[0].changes[0].new
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data


def test_which_decisions_change(drafts: tuple[Pack, Pack]) -> None:
    changes = {c.transfer: c for c in decision_changes(*drafts, load_transfers(TRANSFERS))}
    assert set(changes) == {"tdfa-mid-volume-jp", "tdfa-new-party-au"}
    jp = changes["tdfa-mid-volume-jp"]
    assert not jp.outcome_changed
    assert {"tdfa-annual-audit", "tdfa-incident-72h"} <= set(jp.obligations_added)
    au = changes["tdfa-new-party-au"]
    assert (au.old_outcome, au.new_outcome) == ("permit", "deny")
    assert au.outcome_changed


def test_diff_is_antisymmetric(drafts: tuple[Pack, Pack]) -> None:
    forward, backward = diff_packs(*drafts), diff_packs(*reversed(drafts))
    assert forward.added == backward.removed
    assert forward.removed == backward.added
    assert [(c.field, c.old, c.new) for c in forward.metadata] == [
        (c.field, c.new, c.old) for c in backward.metadata
    ]


@cache
def _eu() -> Pack:
    return Pack.from_file(SHIPPED / "eu-gdpr-ch5.yaml")


_RULE_FIELDS = st.sampled_from(["text", "citation", "source", "confidence"])


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=50),
    field=_RULE_FIELDS,
    drop=st.booleans(),
)
def test_a_single_edit_is_reported_exactly(index: int, field: str, drop: bool) -> None:
    base = _eu()
    rule = base.rules[index % len(base.rules)]
    if drop:
        edited = dataclasses.replace(base, rules=tuple(r for r in base.rules if r is not rule))
        result = diff_packs(base, edited)
        assert result.removed == (rule.id,)
        assert not result.changed
        assert not result.added
        return
    new_value = {
        "text": rule.text + " (amended)",
        "citation": (rule.citation or "") + " as amended",
        "source": "https://example.org/amended",
        "confidence": "uncertain",
    }[field]
    if getattr(rule, field) == new_value:
        return
    changed = dataclasses.replace(rule, **{field: new_value})
    edited = dataclasses.replace(base, rules=tuple(changed if r is rule else r for r in base.rules))
    result = diff_packs(base, edited)
    assert [c.rule for c in result.changed] == [rule.id]
    assert [c.field for c in result.changed[0].changes] == [field]
    assert not result.added
    assert not result.removed
    assert not result.metadata


def test_render_constraint() -> None:
    base = Pack.from_file(SHIPPED / "eu-gdpr-ch5.yaml")
    rule = base.rule("eu-adequacy-canada-pipeda")
    assert rule is not None
    text = render_constraint(rule.when)
    assert text == "(importer.country eq CA and importer.subject_to isAnyOf [PIPEDA])"
    assert render_constraint(None) is None


def test_cli_packs_diff_human(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["packs", "diff", str(DRAFT_1), str(DRAFT_2), "--transfers", str(TRANSFERS)])
    assert code == 0
    out = capsys.readouterr().out
    assert "+ tdfa-incident-notice" in out
    assert "- tdfa-benchmark-review" in out
    assert "parties: +AU" in out
    assert "+ (exporter.country eq AU and" in out
    assert "tdfa-new-party-au: permit → deny" in out
    assert "2 of 3 transfers change" in out


def test_cli_packs_diff_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["packs", "diff", str(DRAFT_1), str(DRAFT_2), "--transfers", str(TRANSFERS), "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["diff"]["rules"]["added"] == ["tdfa-incident-notice"]
    assert data["transfers"] == 3
    assert {d["transfer"] for d in data["decisions"]} == {"tdfa-mid-volume-jp", "tdfa-new-party-au"}


def test_cli_packs_diff_bad_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["packs", "diff", str(DRAFT_1), str(tmp_path / "nope.yaml")]) == 2
    assert "no such pack" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("pack: {id: x}\nrules: [", encoding="utf-8")
    assert main(["packs", "diff", str(DRAFT_1), str(broken)]) == 2
    missing = tmp_path / "none.yaml"
    assert main(["packs", "diff", str(DRAFT_1), str(DRAFT_2), "--transfers", str(missing)]) == 2


def test_cli_packs_diff_accepts_a_shipped_pack_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "diff", "tdfa", str(DRAFT_2), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["diff"]["old"] == {"id": "tdfa", "version": "1.0"}
    assert data["diff"]["rules"]["added"] == ["tdfa-incident-notice"]
    assert main(["packs", "diff", "no-such-pack", str(DRAFT_2)]) == 2
