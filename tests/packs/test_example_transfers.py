"""The shipped example transfers (examples/transfers/*.yaml) decide as their comments say.

Each file starts with ``# expected: <outcome>`` and explains why, citing the provisions. The
examples are decided against every shipped pack, on the date each document carries.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from accord.packs import shipped
from accord.policy import Transfer, compile_packs
from accord.policy.compile import Engine
from accord.policy.decision import Outcome

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "transfers"
FILES = sorted(EXAMPLES.glob("*.yaml"))
_EXPECTED = re.compile(r"^# expected: (\S+)\s*$", re.MULTILINE)


@cache
def engine() -> Engine:
    return compile_packs(shipped())


def test_there_are_a_dozen_examples_across_regimes() -> None:
    assert len(FILES) >= 12
    exporters = {Transfer.from_file(f).exporter.country for f in FILES}
    assert {"US", "DE", "GB", "CN"} <= exporters
    outcomes = {_expected(f) for f in FILES}
    assert outcomes == set(Outcome)


def _expected(path: Path) -> Outcome:
    match = _EXPECTED.search(path.read_text(encoding="utf-8"))
    assert match is not None, f"{path.name} has no '# expected: <outcome>' comment"
    return Outcome(match.group(1))


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_example_decides_as_documented(path: Path) -> None:
    transfer = Transfer.from_file(path)
    assert transfer.date is not None, "examples carry their date so the result never drifts"
    decision = engine().decide(transfer)
    expected = _expected(path)
    assert decision.outcome is expected, (
        f"{path.name}: expected {expected}, got {decision.outcome}; reasons: "
        + "; ".join(r.sentence for r in decision.reasons)
    )
    if expected is Outcome.INDETERMINATE:
        assert decision.missing
    if expected is Outcome.DENY:
        assert any(r.citation for r in decision.reasons if str(r.effect) == "deny")
