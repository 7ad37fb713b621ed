"""Decide a transfer against rule packs: ``decide(transfer, packs, as_of=None) -> Decision``.

The semantics are those of docs/pack-language.md ("How a pack decides"). :func:`decide` compiles the
packs (see :mod:`accord.policy.compile`) and keeps the compiled engine for the same pack objects, so
calling it in a loop costs one compilation. For explicit control use
:func:`~accord.policy.compile.compile_packs`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date

from accord.policy.ast import Pack
from accord.policy.compile import Engine, compile_packs
from accord.policy.decision import (
    Decision,
    Effect,
    Obligation,
    Outcome,
    PackStatus,
    Reason,
    Recognition,
    RuleError,
    strictest,
)
from accord.policy.transfer import Transfer

__all__ = [
    "Decision",
    "Effect",
    "Obligation",
    "Outcome",
    "PackStatus",
    "Reason",
    "Recognition",
    "RuleError",
    "decide",
    "strictest",
]

_CACHE_SIZE = 16
_cache: OrderedDict[tuple[int, ...], tuple[tuple[Pack, ...], Engine]] = OrderedDict()
_lock = threading.Lock()


def _engine(packs: tuple[Pack, ...]) -> Engine:
    key = tuple(id(p) for p in packs)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], packs, strict=True)):
            _cache.move_to_end(key)
            return hit[1]
    engine = compile_packs(packs)
    with _lock:
        _cache[key] = (packs, engine)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return engine


def decide(transfer: Transfer, packs: Iterable[Pack], *, as_of: date | None = None) -> Decision:
    """Decide ``transfer`` against ``packs`` on ``as_of`` (default: transfer date, else today)."""
    return _engine(tuple(packs)).decide(transfer, as_of=as_of)
