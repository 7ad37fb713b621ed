"""Invariants of the vocabulary hierarchy, as hypothesis properties over the shipped terms."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.vocab import KINDS, VOCAB

_TERMS = sorted({t for kind in KINDS for t in VOCAB.terms(kind)})
_HIERARCHICAL = sorted({t for kind in KINDS if kind != "country" for t in VOCAB.terms(kind)})
_GROUPS = sorted(VOCAB.groups())

terms = st.sampled_from(_TERMS)
hier = st.sampled_from(_HIERARCHICAL)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=0, max_size=24)

BOUNDED = settings(max_examples=100, deadline=None)


@BOUNDED
@given(terms | words)
def test_is_a_is_reflexive(term: str) -> None:
    assert VOCAB.is_a(term, term)


@BOUNDED
@given(hier, hier, hier)
def test_is_a_is_transitive(a: str, b: str, c: str) -> None:
    if VOCAB.is_a(a, b) and VOCAB.is_a(b, c):
        assert VOCAB.is_a(a, c)


@BOUNDED
@given(hier)
def test_ancestors_and_descendants_agree(term: str) -> None:
    for ancestor in VOCAB.ancestors(term):
        assert VOCAB.is_a(term, ancestor)
        assert term in VOCAB.descendants(ancestor)


@BOUNDED
@given(hier, hier)
def test_is_a_is_antisymmetric(a: str, b: str) -> None:
    if a != b and VOCAB.is_a(a, b):
        assert not VOCAB.is_a(b, a)


@BOUNDED
@given(st.sampled_from(sorted(VOCAB.terms("country"))), st.sampled_from(_GROUPS))
def test_group_membership_is_is_a(country: str, group: str) -> None:
    assert VOCAB.is_a(country, group) == (country in VOCAB.group(group))


@BOUNDED
@given(st.sampled_from(KINDS), words)
def test_suggestions_are_known_terms_of_the_kind(kind: str, text: str) -> None:
    found = VOCAB.suggest(kind, text)
    assert len(found) <= 3
    assert all(VOCAB.known(kind, f) for f in found)


kind_and_term = st.sampled_from(KINDS).flatmap(
    lambda k: st.tuples(st.just(k), st.sampled_from(sorted(VOCAB.terms(k))))
)


@BOUNDED
@given(kind_and_term)
def test_a_known_term_suggests_itself_first(pair: tuple[str, str]) -> None:
    kind, term = pair
    assert VOCAB.known(kind, term)
    assert VOCAB.suggest(kind, term)[0] == term
    assert VOCAB.describe(kind, term).id == term
