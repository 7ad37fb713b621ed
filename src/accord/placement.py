"""Where ``accord serve`` runs its processes: optionally, a CPU of its own for the sequencer.

The sequencer is one process that every recorded decision passes through, and the web workers
wait on its answers. Left to the scheduler, it sometimes shares a CPU with a web worker while
another CPU idles, and both stall; on a small machine that shows as web workers waiting with
nothing to do. With ``--reserve-sequencer-cpu`` (``ACCORD_RESERVE_SEQUENCER_CPU=1``) the
sequencer is bound to one CPU (the highest-numbered one this process may use) and the web
workers to the others. It is off by default: on a machine shared with other busy processes
(the database server, say), a bound process cannot move away from a CPU they crowd.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

__all__ = ["Placement", "apply", "plan"]

_log = logging.getLogger("accord.placement")


@dataclass(frozen=True, slots=True)
class Placement:
    """CPUs for the web workers, and the one CPU for the sequencer."""

    web: frozenset[int]
    sequencer: int


def plan(allowed: set[int] | frozenset[int]) -> Placement | None:
    """The placement on the CPUs ``allowed``: the highest one for the sequencer, the others for
    the web workers; ``None`` with fewer than two CPUs (nothing to separate)."""
    if len(allowed) < 2:
        return None
    sequencer = max(allowed)
    return Placement(frozenset(allowed - {sequencer}), sequencer)


def apply(cpus: set[int] | frozenset[int], what: str) -> bool:
    """Bind this process to ``cpus``; ``False`` (with a warning) where the system refuses or
    cannot bind processes."""
    setter = getattr(os, "sched_setaffinity", None)
    if setter is None:
        _log.warning("cannot bind the %s to CPUs on this system: left to the scheduler", what)
        return False
    try:
        setter(0, cpus)
    except OSError as exc:
        _log.warning("cannot bind the %s to CPUs %s (%s): left to the scheduler", what, cpus, exc)
        return False
    return True


def allowed_cpus() -> frozenset[int]:
    """The CPUs this process may run on (all of them where the system does not say)."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None:
        return frozenset(range(os.cpu_count() or 1))
    return frozenset(getter(0))
