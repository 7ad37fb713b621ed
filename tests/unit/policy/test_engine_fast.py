"""The compiled engine's fast paths: the slot-setting ``Decision`` constructor, failing rules
recorded exactly as by the closures, and memo-served decisions equal to fresh ones."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from _policy_build import make_transfer

from accord.policy import (
    Atomic,
    Decision,
    Engine,
    Logical,
    LogicalOp,
    Operator,
    Outcome,
    Pack,
    PackMeta,
    Rule,
    RuleKind,
    compile_packs,
)
from accord.policy.decision import Obligation, PackStatus, Reason, RuleError, _decision


def test_the_fast_constructor_builds_an_equal_frozen_decision() -> None:
    parts = (
        "tx-1",
        dt.date(2026, 6, 1),
        Outcome.PERMIT_WITH_OBLIGATIONS,
        (Obligation("o", "do it", None, None, "P14D", "p", "r"),),
        (Reason("p", "r", None, None, "permit", "p rule r permits this transfer: r"),),  # type: ignore[arg-type]
        (),
        (PackStatus("p", "1", True, "in scope", Outcome.PERMIT_WITH_OBLIGATIONS),),
        (),
        (RuleError("p", "x", "TypeError: no"),),
    )
    fast = _decision(*parts)
    slow = Decision(*parts)
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert fast.to_dict() == slow.to_dict()
    assert Decision.from_dict(fast.to_dict()) == fast
    assert [getattr(fast, f.name) for f in dataclasses.fields(Decision)] == list(parts)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.outcome = Outcome.DENY  # type: ignore[misc]


def _pack(*rules: Rule) -> Pack:
    meta = PackMeta(
        id="broken",
        title="broken",
        kind="regulation",  # type: ignore[arg-type]
        jurisdiction="US",
        version="1",
        effective_from=dt.date(2025, 1, 1),
    )
    return Pack(meta, rules)


def test_failing_rules_are_recorded_as_without_the_shortcuts() -> None:
    # A pack loaded without validation: a count compared with text fails at evaluation.
    bad = Atomic("data.subjects.human-genomic", Operator.GT, "many")
    pack = _pack(
        Rule(id="bad-deny", kind=RuleKind.PROHIBITION, text="x", when=bad),
        Rule(
            id="bad-permit",
            kind=RuleKind.PERMISSION,
            text="y",
            when=Logical(LogicalOp.AND, (Atomic("transaction", Operator.EQ, "vendor"), bad)),
        ),
        Rule(id="bad-exemption", kind=RuleKind.EXEMPTION, text="z", when=bad, exempts=("*",)),
    )
    fast, plain = compile_packs([pack]), Engine([pack], _shortcuts=False)
    for facts in (
        {"data": {"categories": ["human-genomic"], "subjects": {"human-genomic": 500}}},
        {"data": {"categories": ["contact-details"]}, "transaction": "vendor"},
        {"data": {"subjects": {"human-genomic": 5}}, "transaction": "vendor"},
    ):
        t = make_transfer(**facts)
        for _ in range(2):  # the second time through the memos
            decision = fast.decide(t)
            assert decision.to_dict() == plain.decide(t).to_dict()
    errors = fast.decide(make_transfer(**{"data": {"subjects": {"human-genomic": 5}}})).errors
    assert {e.rule for e in errors} == {"bad-deny", "bad-permit", "bad-exemption"}
    assert all(e.message.startswith("TypeError: ") for e in errors)


def test_memo_served_decisions_equal_fresh_ones() -> None:
    from accord.packs import shipped

    packs = shipped()
    engine = compile_packs(packs)
    transfers = [
        make_transfer(
            transaction=txn,
            exporter={"country": country},
            importer={"country": "CN", "covered_person": False},
            data={"categories": ["human-genomic"], "subjects": {"human-genomic": n}},
        )
        for txn in ("vendor", "data-brokerage")
        for country in ("US", "DE", "CN")
        for n in (50, 101, 5000)
    ]
    first = [engine.decide(t).to_dict() for t in transfers]
    again = [engine.decide(t).to_dict() for t in transfers]
    fresh = [compile_packs(packs).decide(t).to_dict() for t in transfers]
    assert first == again == fresh
    assert len({str(d["outcome"]) for d in first}) > 1


def test_every_shipped_rule_is_written_out_as_code() -> None:
    # The generated functions fall back to the closures when a shape cannot be written; the
    # shipped packs must not need that (it would be a silent slowdown).
    from accord.packs import shipped

    engine = compile_packs(shipped())
    for cp in engine._packs:
        for rule in cp.rules:
            assert rule.written is not None, (cp.meta.id, rule.rule.id)
            assert rule.fast.__code__.co_filename == "<holds>", (cp.meta.id, rule.rule.id)
    t = make_transfer(transaction="vendor", importer={"country": "CN"})
    engine.decide(t)
    dsp = next(cp for cp in engine._packs if cp.meta.id == "us-dsp")
    assert dsp.index.memo
    for cands in dsp.index.memo.values():
        assert cands.values.__code__.co_filename == "<values>"
