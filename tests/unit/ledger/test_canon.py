"""The C extension's RFC 8785 writer, and canonical_json with and without it."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.ledger import entries
from accord.ledger.entries import canonical_json

native: Callable[[object], bytes | None] | None
try:
    from accord.ledger._canon import canonical as native
except ImportError:
    native = None

PURE_PYTHON = os.environ.get("ACCORD_PURE_PYTHON", "").strip() not in ("", "0")
MAX_SAFE = 2**53 - 1
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_native = pytest.mark.skipif(native is None, reason="accord.ledger._canon is not built")


def test_the_extension_is_built_and_used() -> None:
    if PURE_PYTHON:
        assert entries._NATIVE is None
        pytest.skip("ACCORD_PURE_PYTHON is set: the pure-Python path is forced")
    assert native is not None, "accord.ledger._canon is not built (no C compiler?)"
    assert entries._NATIVE is native


# -- random values -----------------------------------------------------------------------------

# Characters where canonical JSON is interesting: escapes, the boundaries of UTF-8 lengths, the
# surrogate range (lone surrogates have no UTF-8), U+E000..U+FFFF against characters above U+FFFF
# (their UTF-16 order differs from code point order), and the whole range besides.
SPECIAL = (
    '"\\\b\t\n\f\r\x00\x01\x1f\x7f\x80é\u07ff\u0800€\u2028\ud7ff'
    "\ud800\udbff\udc00\udfff\ue000\ufb33\uffff\U00010000😀\U0010ffff"
)
CHARS = (
    st.characters(max_codepoint=0x7F)
    | st.sampled_from(SPECIAL)
    | st.characters(exclude_categories=())  # every code point, surrogates included
)
TEXT = st.text(CHARS, max_size=8)


class Colour(enum.IntEnum):
    RED = 1


class Sub(dict[str, Any]):
    pass


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.integers(MAX_SAFE - 2, MAX_SAFE + 2)
    | st.integers(-MAX_SAFE - 2, -MAX_SAFE + 2)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
ODD = st.sampled_from([1.0, -0.0, 2**64, (1, 2), Colour.RED, Sub(a=1), b"x", frozenset()])
VALUES = st.recursive(
    SCALARS | ODD,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(TEXT | st.integers(0, 3), children, max_size=5)
    ),
    max_leaves=20,
)


def plain(value: Any) -> bool:
    """What the extension writes: exact JSON types, I-JSON integers, strings with UTF-8."""
    t = type(value)
    if value is None or t is bool:
        return True
    if t is int:
        return bool(-MAX_SAFE <= value <= MAX_SAFE)
    if t is str:
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if t is list:
        return all(plain(v) for v in value)
    if t is dict:
        return all(type(k) is str and plain(k) and plain(v) for k, v in value.items())
    return False


@needs_native
@SETTINGS
@given(VALUES)
def test_native_writes_plain_values_as_rfc8785_and_declines_the_rest(value: object) -> None:
    assert native is not None
    data = native(value)
    if plain(value):
        assert data == rfc8785.dumps(value)
    else:
        assert data is None


def outcome(write: Callable[[Any], bytes], value: object) -> bytes | type[BaseException]:
    try:
        return write(value)
    except (ValueError, TypeError, RecursionError) as exc:  # what rfc8785 and json raise
        return type(exc)


@SETTINGS
@given(VALUES)
def test_canonical_json_behaves_as_rfc8785(value: object) -> None:
    """The same bytes, or the same exception, as the library (in either mode)."""
    assert outcome(canonical_json, value) == outcome(rfc8785.dumps, value)


# -- explicit cases ------------------------------------------------------------------------------


def both(value: object) -> list[bytes | None]:
    """canonical_json's bytes, and the extension's where it is built."""
    out: list[bytes | None] = [canonical_json(value)]
    if native is not None:
        out.append(native(value))
    return out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"null"),
        (True, b"true"),
        (False, b"false"),
        (0, b"0"),
        (-7, b"-7"),
        (MAX_SAFE, b"9007199254740991"),
        (-MAX_SAFE, b"-9007199254740991"),
        ("", b'""'),
        ({}, b"{}"),
        ([], b"[]"),
        ([{}, [], [[]], {"a": {}}], b'[{},[],[[]],{"a":{}}]'),
        ({"b": [1, {"d": None, "c": True}], "a": "x"}, b'{"a":"x","b":[1,{"c":true,"d":null}]}'),
    ],
)
def test_scalars_and_containers(value: object, expected: bytes) -> None:
    assert set(both(value)) == {expected}
    assert rfc8785.dumps(value) == expected


def test_string_escapes_follow_json_stringify() -> None:
    value = '"\\\b\t\n\f\r\x00\x01\x1b\x1f\x7f\u2028\u2029é/😀'
    expected = (
        b'"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u0001\\u001b\\u001f'
        + "\x7f\u2028\u2029é/😀".encode()
        + b'"'
    )
    assert set(both(value)) == {expected}
    assert rfc8785.dumps(value) == expected


def test_keys_are_sorted_by_utf16_code_units() -> None:
    value = {"😀": 5, "€": 4, "é": 3, "b": 2, "a": 1}
    expected = '{"a":1,"b":2,"é":3,"€":4,"😀":5}'.encode()
    assert set(both(value)) == {expected}


def test_the_rfc8785_sorting_example() -> None:
    # RFC 8785 section 3.2.3: a character above U+FFFF sorts before U+FB33 (its UTF-16 form
    # starts with a surrogate, D83D), though its code point is greater.
    value = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "😀": 5, "\u0080": 6, "ö": 7}
    expected = '{"\\r":2,"1":4,"\u0080":6,"ö":7,"€":1,"😀":5,"\ufb33":3}'.encode()
    assert set(both(value)) == {expected}
    assert rfc8785.dumps(value) == expected


def test_many_keys_take_the_same_order() -> None:
    keys = [f"{c}{i}" for i in range(40) for c in ("a", "é", "\ue000", "😀", "\U0010fffd")]
    value = {k: i for i, k in enumerate(keys)}
    assert set(both(value)) == {rfc8785.dumps(value)}


def test_deep_nesting() -> None:
    value: Any = []
    for i in range(200):
        value = {"k": [value, i]}
    assert set(both(value)) == {rfc8785.dumps(value)}


def test_too_deep_nesting_raises_recursion_error() -> None:
    value: list[Any] = []
    for _ in range(sys.getrecursionlimit() + 100):
        value = [value]
    with pytest.raises(RecursionError):
        canonical_json(value)
    if native is not None:
        with pytest.raises(RecursionError):
            native(value)


@needs_native
def test_a_value_that_contains_itself_raises_recursion_error() -> None:
    assert native is not None
    loop: list[Any] = []
    loop.append({"again": loop})
    with pytest.raises(RecursionError):
        native(loop)


@needs_native
@pytest.mark.parametrize(
    "value",
    [
        1.5,
        0.0,
        2**53,
        -(2**53),
        2**100,
        (1,),
        Colour.RED,
        Sub(),
        {1: "a"},
        {("a",): 1},
        "\ud800",
        {"\udfff": 1},
        ["ok", "x\udc00y"],
        {"a": [1, {"b": 2.0}]},
        b"bytes",
    ],
)
def test_native_declines_what_it_cannot_write(value: object) -> None:
    assert native is not None
    assert native(value) is None


@needs_native
def test_native_keeps_reference_counts() -> None:
    assert native is not None
    key, text, inner = "k" * 30, "v" * 30, [1, "x"]
    values = [{key: text, "l": inner}, [{key: 1.5}], {key: ["\ud800"]}]
    before = [sys.getrefcount(o) for o in (key, text, inner)]
    for value in values * 100:
        native(value)
    assert [sys.getrefcount(o) for o in (key, text, inner)] == before


def test_large_strings_and_many_members() -> None:
    value = {f"key{i:05d}": ["\x01" * 50, "é" * 200, i] for i in range(2000)}
    assert set(both(value)) == {rfc8785.dumps(value)}
