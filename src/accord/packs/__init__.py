"""The rule packs shipped with Accord: YAML files in this directory (and ``agreements/``).

:func:`shipped` parses and validates every pack once and returns them sorted by id;
:func:`defaults` is the subset applied when no pack is named: the regulations (a negotiated
agreement binds only its parties, so it applies when named by id); :func:`get` finds one by id;
:func:`shipped_paths` lists the files.
"""

from __future__ import annotations

import threading
from pathlib import Path

from accord.errors import Diagnostic, NotFoundError
from accord.policy import _vocab
from accord.policy.ast import Pack, PackKind

__all__ = ["defaults", "get", "ids", "shipped", "shipped_paths"]

_ROOT = Path(__file__).resolve().parent
_lock = threading.Lock()
_loaded: tuple[Pack, ...] | None = None


def shipped_paths() -> tuple[Path, ...]:
    """Every shipped pack file, sorted by path."""
    return tuple(sorted(p for p in _ROOT.rglob("*.yaml") if p.is_file()))


def shipped() -> tuple[Pack, ...]:
    """Every shipped pack, parsed and validated once, sorted by id.

    Raises :class:`~accord.errors.PackError` if a shipped file is invalid (a packaging bug).
    """
    global _loaded
    with _lock:
        if _loaded is None:
            packs = [Pack.from_file(p) for p in shipped_paths()]
            _loaded = tuple(sorted(packs, key=lambda p: p.meta.id))
        return _loaded


def defaults() -> tuple[Pack, ...]:
    """The shipped packs applied when none is named: every regulation, no agreement.

    An agreement (``kind: agreement``) binds its parties only; name it (``--pack ID``) to decide a
    transfer under it together with the statutes.
    """
    return tuple(p for p in shipped() if p.meta.kind is not PackKind.AGREEMENT)


def ids() -> tuple[str, ...]:
    """Ids of the shipped packs, sorted."""
    return tuple(p.meta.id for p in shipped())


def get(pack_id: str) -> Pack:
    """The shipped pack with this id; :class:`~accord.errors.NotFoundError` if there is none."""
    for pack in shipped():
        if pack.meta.id == pack_id:
            return pack
    known = ids()
    raise NotFoundError(
        f"no shipped pack {pack_id!r}",
        [
            Diagnostic(
                "unknown pack id",
                path="pack",
                expected="one of: " + ", ".join(known),
                found=repr(pack_id),
                hint=_vocab.did_you_mean(pack_id, known) or "`accord packs list` shows them",
            )
        ],
    )
