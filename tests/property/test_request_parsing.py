"""The decision endpoint's fast path (the transfer validated straight from the JSON bytes) accepts
exactly what the ordinary path (JSON → dict → ``Transfer.from_mapping``) accepts, with the same
result; anything it does not accept goes the ordinary way, which names every bad field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.policy.transfer import Transfer
from accord.web.recording import _TypedRequest, parse_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "transfers"


def _examples() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        docs.extend(d for d in (loaded if isinstance(loaded, list) else [loaded]) if d)
    return json.loads(json.dumps(docs, default=str))  # as JSON would carry them


DOCS = _examples()

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["DE", "US", "2026-01-01", "customer-records", "hosting", "company"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_paths = st.sampled_from(
    [
        ("id",), ("date",), ("exporter",), ("exporter", "country"), ("exporter", "kind"),
        ("importer",), ("importer", "country"), ("importer", "covered_person"), ("data",),
        ("data", "categories"), ("data", "subjects"), ("data", "government_related"),
        ("purposes",), ("transaction",), ("mechanisms",), ("safeguards",), ("occasional",),
        ("exemptions_claimed",), ("initial_collection",), ("nonsense",),
    ]
)  # fmt: skip


def _slow(raw: bytes) -> tuple[Transfer, Any] | None:
    try:
        request = parse_request(raw)
        return Transfer.from_mapping(request.transfer), request.as_of
    except InputError:
        return None


def _fast(raw: bytes) -> tuple[Transfer, Any] | None:
    try:
        typed = _TypedRequest.model_validate_json(raw)
    except ValueError:
        return None
    if typed.transfer.unknown_terms():
        return None
    return typed.transfer, typed.as_of


@pytest.mark.parametrize("index", range(len(DOCS)))
def test_every_example_takes_the_fast_path(index: int) -> None:
    raw = json.dumps({"transfer": DOCS[index]}).encode()
    fast = _fast(raw)
    assert fast is not None
    assert fast == _slow(raw)


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=max(len(DOCS) - 1, 0)),
    path=_paths,
    value=_json,
    as_of=st.none() | st.sampled_from(["2026-01-01", "soon", 5]),
)
def test_the_fast_path_never_accepts_differently(
    index: int, path: tuple[str, ...], value: Any, as_of: Any
) -> None:
    doc = copy.deepcopy(DOCS[index])
    target = doc
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    body: dict[str, Any] = {"transfer": doc}
    if as_of is not None:
        body["as_of"] = as_of
    raw = json.dumps(body).encode()
    fast = _fast(raw)
    if fast is not None:  # whatever the fast path accepts, the ordinary path accepts the same
        assert fast == _slow(raw)


_TERM_PATHS = st.sampled_from(
    [
        ("exporter", "country"), ("exporter", "kind"), ("exporter", "role"),
        ("importer", "country"), ("importer", "kind"), ("importer", "role"),
        ("data", "categories"), ("data", "subject_countries"), ("data", "subjects"),
        ("purposes",), ("transaction",), ("mechanisms",), ("safeguards",),
        ("exemptions_claimed",),
    ]
)  # fmt: skip
_TERMS = st.sampled_from(
    ["DE", "US", "CN", "XX", "company", "individual", "controller", "processor", "health",
     "customer-records", "bogus", "hosting", "analytics", "scc", "encryption", "DE ", ""]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=max(len(DOCS) - 1, 0)),
    path=_TERM_PATHS,
    terms=st.lists(_TERMS, min_size=1, max_size=3),
    count=st.integers(min_value=-2, max_value=5),
)
def test_the_quick_vocabulary_check_agrees_with_the_full_one(
    index: int, path: tuple[str, ...], terms: list[str], count: int
) -> None:
    """The set-lookup check that lets a known transfer skip building diagnostics says "all
    known" exactly when the full check finds nothing to report."""
    from accord.policy.transfer import _all_known, _vocab_diagnostics

    doc = copy.deepcopy(DOCS[index])
    target = doc
    for part in path[:-1]:
        target = target.setdefault(part, {})
    if path[-1] == "subjects":
        target["subjects"] = dict.fromkeys(terms, count)
    elif path[-1] in {"country", "kind", "role", "transaction"}:
        target[path[-1]] = terms[0]
    else:
        target[path[-1]] = terms
    try:
        transfer = Transfer.model_validate(doc)
    except ValueError:
        return  # not a transfer the model accepts: the vocabulary is never consulted
    assert _all_known(transfer) == (not _vocab_diagnostics(transfer, None, None, ""))
