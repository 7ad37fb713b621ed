"""The per-decision fact view and the primitives every stage of the compiled engine shares.

:class:`_View` reads the facts of one transfer on one day lazily and caches the costly ones
(subject counts, the certification assessment, parts shared between rules); the getters here read
one fact off it. The certification assessment (which schemes count on a day, which might, and the
recognitions used) comes from :mod:`accord.vocab.certifications` and is memoised across decisions.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from typing import Any

from accord.policy import _vocab
from accord.policy.transfer import SUBJECTS_PREFIX, Transfer, fact_spec
from accord.vocab.certifications import assess as assess_certifications

#: A condition's value: true, false or ``None`` (unknown, Kleene logic).
Tri = bool | None
#: A compiled condition: a function of the per-decision view.
Ev = Callable[["_View"], Tri]
CERTS = "importer.certifications"
#: The bound on every memo the engine keeps: a full memo is cleared, not grown.
_MEMO_LIMIT = 4096


class _View:
    """Facts of one transfer on one day, read lazily and cached."""

    __slots__ = ("cache", "cert_refs", "on", "t")

    def __init__(self, transfer: Transfer, on: dt.date) -> None:
        self.t = transfer
        self.on = on
        self.cache: dict[str, Any] = {}
        self.cert_refs: set[str] | None = None  # made when a certification is looked at

    def certs(self) -> tuple[frozenset[str], frozenset[str], tuple[Any, ...]] | None:
        """(schemes that count, schemes that might count, recognitions used), or unknown."""
        cache = self.cache
        if CERTS in cache:
            hit: tuple[frozenset[str], frozenset[str], tuple[Any, ...]] | None = cache[CERTS]
            return hit
        hit = _assess_certs(self.t.importer.certifications, self.on)
        cache[CERTS] = hit
        return hit


_CertKey = tuple[tuple[Any, ...], dt.date]
_CertValue = tuple[frozenset[str], frozenset[str], tuple[Any, ...]]
_cert_memo: dict[_CertKey, _CertValue] = {}


def _assess_certs(certs: Sequence[Any] | None, on: dt.date) -> _CertValue | None:
    if certs is None:
        return None
    key = (tuple(certs), on)
    hit = _cert_memo.get(key)
    if hit is None:
        hit = _assess_certs_uncached(certs, on)
        if len(_cert_memo) >= 1024:
            _cert_memo.clear()
        _cert_memo[key] = hit
    return hit


def _assess_certs_uncached(certs: Sequence[Any], on: dt.date) -> _CertValue:
    result = assess_certifications(certs, on)
    return frozenset(result.effective), frozenset(result.unknown), tuple(result.recognitions)


def _attr_getter(path: str) -> Callable[[_View], Any]:
    """Read a fact straight off the view's transfer (``view.t.<path>``), in C."""
    getter: Callable[[_View], Any] = operator.attrgetter("t." + path)
    return getter


def _set_getter(path: str) -> Callable[[_View], tuple[Any, ...] | None]:
    """A list fact as stored (a tuple, or ``None`` when unknown); set operators take any
    iterable, so no set is built per decision."""
    getter: Callable[[_View], tuple[Any, ...] | None] = operator.attrgetter("t." + path)
    return getter


def _subjects_getter(category: str) -> Callable[[_View], int | None]:
    below = _vocab.descendants(category)
    key = SUBJECTS_PREFIX + category

    def count(v: _View) -> int | None:
        data = v.t.data
        subjects = data.subjects
        if subjects is not None:
            exact = subjects.get(category)
            if exact is not None:
                return exact
            narrower = [n for k, n in subjects.items() if k in below]
            if narrower:
                return max(narrower)
        cats = data.categories
        if cats is not None and below.isdisjoint(cats):
            return 0  # the category is not transferred at all
        return None

    def get(v: _View) -> int | None:
        cache = v.cache
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        value = count(v)
        cache[key] = value
        return value

    return get


def _intra_group(v: _View) -> bool | None:
    a, b = v.t.exporter.group, v.t.importer.group
    if a is None or b is None:
        return None
    return a == b


def _date_fact(v: _View) -> dt.date:
    return v.t.date or v.on


def _scalar_getter(path: str) -> Callable[[_View], Any]:
    if path.startswith(SUBJECTS_PREFIX):
        return _subjects_getter(path[len(SUBJECTS_PREFIX) :])
    if path == "intra_group":
        return _intra_group
    if path == "date":
        return _date_fact
    return _attr_getter(path)


def _cert_display(v: _View) -> frozenset[str] | None:
    assessed = v.certs()
    return None if assessed is None else assessed[0]


def _plain_attr(path: str) -> bool:
    """A fact read straight off the transfer's attributes (no computation, no registry)."""
    spec = fact_spec(path)
    return (
        spec is not None
        and path != CERTS
        and path not in ("date", "intra_group")
        and not path.startswith(SUBJECTS_PREFIX)
    )


def _is_set(path: str) -> bool:
    spec = fact_spec(path)
    return spec is not None and spec.type == "set"
