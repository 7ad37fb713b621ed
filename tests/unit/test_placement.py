"""``accord serve --reserve-sequencer-cpu``: which CPUs go to whom, and binding that fails."""

from __future__ import annotations

import logging
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord import placement


def test_one_cpu_has_nothing_to_separate() -> None:
    assert placement.plan({0}) is None
    assert placement.plan(set()) is None


@given(st.sets(st.integers(min_value=0, max_value=511), min_size=2, max_size=64))
def test_the_sequencer_gets_the_highest_cpu_and_the_web_workers_the_rest(cpus: set[int]) -> None:
    where = placement.plan(cpus)
    assert where is not None
    assert where.sequencer == max(cpus)
    assert where.web == frozenset(cpus - {max(cpus)})
    assert where.sequencer not in where.web


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU binding here")
def test_binding_to_a_cpu_that_does_not_exist_warns_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = os.sched_getaffinity(0)
    with caplog.at_level(logging.WARNING, logger="accord.placement"):
        assert placement.apply({100_000}, "sequencer") is False
    assert "left to the scheduler" in caplog.text
    assert os.sched_getaffinity(0) == before
    assert placement.apply(before, "web workers") is True
    assert placement.allowed_cpus() == frozenset(before)
