"""The engine's view of the vocabulary (``accord.vocab.VOCAB``), feature-detected.

The engine needs: ``known(kind, term)``, ``terms(kind)``, ``is_a(term, ancestor)`` and named groups.
If the vocabulary package is not importable the adapter is permissive (every term known, ``isA`` is
equality, no groups) so the engine still runs; validation then cannot flag unknown terms.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from functools import cache
from typing import Any

__all__ = [
    "available",
    "descendants",
    "did_you_mean",
    "group",
    "groups",
    "is_a",
    "known",
    "terms",
]


@cache
def _vocab() -> Any | None:
    try:
        module = importlib.import_module("accord.vocab")
    except ImportError:
        return None
    return getattr(module, "VOCAB", None)


def available() -> bool:
    """Whether the vocabulary package is present."""
    return _vocab() is not None


def known(kind: str, term: str) -> bool:
    """Whether ``term`` is a known id of ``kind`` (always true without a vocabulary)."""
    if _vocab() is None:
        return True
    return term in terms(kind)  # an unknown kind knows no terms


@cache
def terms(kind: str) -> frozenset[str]:
    """Every id of ``kind`` (empty without a vocabulary or for an unknown kind)."""
    v = _vocab()
    if v is None:
        return frozenset()
    try:
        return frozenset(v.terms(kind))
    except (KeyError, ValueError):
        return frozenset()


def is_a(term: str, ancestor: str) -> bool:
    """``term`` is ``ancestor`` or one of its descendants."""
    if term == ancestor:
        return True
    v = _vocab()
    if v is None:
        return False
    return bool(v.is_a(term, ancestor))


@cache
def descendants(term: str) -> frozenset[str]:
    """``term`` and every term below it (for a group name, its members)."""
    v = _vocab()
    if v is None or not hasattr(v, "descendants"):
        return frozenset({term})
    return frozenset(v.descendants(term)) | {term}


def groups() -> Mapping[str, frozenset[str]]:
    """The vocabulary's named groups (``eea``, ``countries-of-concern`` …)."""
    v = _vocab()
    if v is None:
        return {}
    return dict(v.groups())


def group(name: str) -> frozenset[str] | None:
    """Members of the vocabulary group ``name``, or ``None`` if there is no such group."""
    return groups().get(name)


def did_you_mean(term: str, choices: frozenset[str] | list[str] | tuple[str, ...]) -> str | None:
    """A "did you mean …?" hint for ``term`` among ``choices``, or ``None``."""
    close = difflib.get_close_matches(term, sorted(choices), n=3)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"
