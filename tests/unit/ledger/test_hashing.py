"""Batch hashing and framing: the C extension and the Python fallback agree with each other, with
the RFC 6962 definitions in :mod:`accord.ledger.merkle` and with the tlog-tiles layout."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.ledger import _hashing, _hashing_py, merkle, store

try:
    from accord.ledger import _native
except ImportError:  # not built: the native cases skip, test_the_native_module_is_built fails
    _native = None  # type: ignore[assignment]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORCED_PURE = os.environ.get("ACCORD_PURE_PYTHON", "").strip() not in ("", "0")
IMPLS = [
    pytest.param(_hashing_py, id="python"),
    pytest.param(
        _native, id="native", marks=pytest.mark.skipif(_native is None, reason="not built")
    ),
]
BOTH = [_hashing_py] + ([_native] if _native is not None else [])

# Entries: mostly short, sometimes empty, sometimes at the 65,535-byte limit.
entry = st.one_of(
    st.binary(max_size=300),
    st.just(b""),
    st.builds(lambda b, n: (b * n)[:n] or b"\x00" * n, st.binary(min_size=1), st.just(0xFFFF)),
)
datas = st.lists(entry, max_size=40)
hashes = st.lists(st.binary(min_size=32, max_size=32), max_size=70)
bound = st.one_of(st.none(), st.integers(-60, 60))


def _outcome(fn: Callable[..., bytes], *args: Any) -> bytes | tuple[str, str]:
    try:
        return fn(*args)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


# -- agreement with the definitions -------------------------------------------------------------


@SETTINGS
@given(datas, st.booleans())
def test_leaf_hashes_are_rfc6962_leaf_hashes(items: list[bytes], as_tuple: bool) -> None:
    want = b"".join(merkle.leaf_hash(d) for d in items)
    seq: Sequence[bytes] = tuple(items) if as_tuple else items
    for impl in BOTH:
        assert impl.leaf_hashes(seq) == want, impl.__name__


@SETTINGS
@given(hashes)
def test_parent_hashes_pair_up_a_level(level: list[bytes]) -> None:
    want = b"".join(merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2))
    blob = b"".join(level)
    for impl in BOTH:
        assert impl.parent_hashes(blob) == want, impl.__name__
        assert impl.parent_hashes(memoryview(blob)) == want, impl.__name__
        assert impl.parent_hashes(bytearray(blob)) == want, impl.__name__


@SETTINGS
@given(datas, bound, bound)
def test_frame_is_the_entry_bundle_of_a_slice(
    items: list[bytes], start: int | None, stop: int | None
) -> None:
    want = b"".join(struct.pack(">H", len(d)) + d for d in items[start:stop])
    for impl in BOTH:
        assert impl.frame(items, start, stop) == want, impl.__name__
    for impl in BOTH:
        assert impl.frame(items) == impl.frame(items, 0, None) == impl.frame(items, None)


def test_a_large_batch_hashes_the_same_as_one_at_a_time() -> None:
    # Large enough for the C extension to hash without the GIL.
    items = [i.to_bytes(4, "big") * (i % 50) for i in range(3000)]
    level = b"".join(merkle.leaf_hash(d) for d in items)
    for impl in BOTH:
        assert impl.leaf_hashes(items) == level
        assert impl.parent_hashes(level) == b"".join(
            merkle.node_hash(level[i : i + 32], level[i + 32 : i + 64])
            for i in range(0, len(level), 64)
        )


def test_empty_inputs() -> None:
    for impl in BOTH:
        assert impl.leaf_hashes([]) == impl.leaf_hashes(()) == b""
        assert impl.parent_hashes(b"") == impl.parent_hashes(b"\x00" * 32) == b""
        assert impl.frame([]) == impl.frame([b"a"], 1, 1) == impl.frame([b"a"], 5, 2) == b""
        assert impl.frame([b""]) == b"\x00\x00"


# -- errors: the same exception and message from both ------------------------------------------


BAD_ITEMS: list[tuple[str, Any, type[Exception], str]] = [
    ("str item", [b"ok", "text"], TypeError, "item 1 is str, not bytes"),
    ("None item", [None], TypeError, "item 0 is NoneType, not bytes"),
    ("bytearray item", [b"", bytearray(b"x")], TypeError, "item 1 is bytearray, not bytes"),
    ("memoryview item", [memoryview(b"x")], TypeError, "item 0 is memoryview, not bytes"),
    ("bytes, not a list", b"ab", TypeError, "item 0 is int, not bytes"),
    ("str, not a list", "ab", TypeError, "item 0 is str, not bytes"),
]


@pytest.mark.parametrize(
    ("items", "error", "message"), [pytest.param(*p[1:], id=p[0]) for p in BAD_ITEMS]
)
@pytest.mark.parametrize("impl", IMPLS)
def test_items_that_are_not_bytes_are_named(
    impl: ModuleType, items: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^leaf_hashes\\(\\): {message}$"):
        impl.leaf_hashes(items)
    with pytest.raises(error, match=f"^frame\\(\\): {message}$"):
        impl.frame(items)


@pytest.mark.parametrize("impl", IMPLS)
def test_wrong_argument_types(impl: ModuleType) -> None:
    with pytest.raises(TypeError, match="expects a sequence of bytes, not int"):
        impl.leaf_hashes(5)
    with pytest.raises(TypeError, match="expects a sequence of bytes, not NoneType"):
        impl.frame(None)
    with pytest.raises(TypeError, match="expects a contiguous bytes-like object, not list"):
        impl.parent_hashes([b"\x00" * 64])
    with pytest.raises(TypeError, match="expects a contiguous bytes-like object, not memoryview"):
        impl.parent_hashes(memoryview(b"\x00" * 128)[::2])


@pytest.mark.parametrize("impl", IMPLS)
def test_frame_rejects_an_entry_over_65535_bytes(impl: ModuleType) -> None:
    items = [b"a", b"b" * 0xFFFF, b"c" * 0x10000, "not even bytes"]
    assert impl.frame(items, 0, 2)[-0xFFFF - 2 :][:2] == b"\xff\xff"
    with pytest.raises(ValueError, match=r"^frame\(\): item 2 is 65536 bytes long; an entry is"):
        impl.frame(items)
    with pytest.raises(ValueError, match="item 2 is 65536 bytes long"):
        impl.frame(items, -2)
    # Items are checked in order: the first problem is the one reported.
    with pytest.raises(TypeError, match=r"item 3 is str"):
        impl.frame(items, 3)
    assert len(impl.leaf_hashes(items[:3])) == 96  # hashing has no size limit


@pytest.mark.parametrize("impl", IMPLS)
def test_parent_hashes_rejects_a_partial_hash(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="65 bytes is not a whole number of 32-byte hashes"):
        impl.parent_hashes(b"\x00" * 65)


@SETTINGS
@given(
    st.lists(st.one_of(entry, st.text(max_size=3), st.none(), st.integers()), max_size=8),
    bound,
    bound,
)
def test_both_fail_alike_on_anything(items: list[Any], start: int | None, stop: int | None) -> None:
    if _native is None:
        pytest.skip("the C extension is not built")
    assert _outcome(_native.leaf_hashes, items) == _outcome(_hashing_py.leaf_hashes, items)
    assert _outcome(_native.frame, items, start, stop) == _outcome(
        _hashing_py.frame, items, start, stop
    )


# -- the stored layout: rows and bundles exactly as tlog-tiles lays them out --------------------


def _expected_layout(leaves: list[bytes]) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Every hash row and entry bundle (tlog-tiles) of a tree of ``leaves``, from scratch."""
    tiles: dict[int, bytes] = {}
    level = [merkle.leaf_hash(d) for d in leaves]
    height = 0
    while level:
        for row in range(0, len(level), 256):
            tiles[height << 48 | row // 256] = b"".join(level[row : row + 256])
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        height += 1
    bundles = {
        i // 256: b"".join(struct.pack(">H", len(d)) + d for d in leaves[i : i + 256])
        for i in range(0, len(leaves), 256)
    }
    return tiles, bundles


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 700), min_size=1, max_size=6),
    st.sampled_from(BOTH),
)
def test_grow_writes_the_tlog_tiles_layout(batches: list[int], impl: ModuleType) -> None:
    leaves: list[bytes] = []
    tiles: dict[int, bytes] = {}
    bundles: dict[int, bytes] = {}
    edge = store._EMPTY_EDGE
    with pytest.MonkeyPatch.context() as mp:
        for name in ("leaf_hashes", "parent_hashes", "frame"):
            mp.setattr(store, name, getattr(impl, name))
        for count in batches:
            batch = [f"entry {len(leaves) + k}".encode() * (k % 4) for k in range(count)]
            edge, tile_rows, bundle_rows = store._grow(edge, batch)
            tiles.update(tile_rows)  # later writes of a row replace earlier ones, as the upsert
            bundles.update(bundle_rows)
            leaves += batch
    expected_tiles, expected_bundles = _expected_layout(leaves)
    assert tiles == expected_tiles
    # Entries are stored in chunks of 64 (ids 4·N … 4·N+3 make up bundle N), each chunk the
    # framed entries 64·id …; together they are exactly the tlog-tiles bundles.
    assert all(len(chunk) > 0 for chunk in bundles.values())
    assert sorted(bundles) == list(range((len(leaves) + 63) // 64))
    assert {
        n: b"".join(bundles[c] for c in range(n * 4, min(n * 4 + 4, len(bundles))))
        for n in range((len(leaves) + 255) // 256)
    } == expected_bundles
    assert (edge.size, edge.root) == (len(leaves), merkle.root_hash(leaves))


# -- which implementation is in use ------------------------------------------------------------


def test_the_native_module_is_built() -> None:
    """Fails where the C extension did not build (CI must build it): a silent fallback to Python
    would keep everything correct and make the log several times slower."""
    if FORCED_PURE:
        assert not _hashing.NATIVE
        assert _hashing.leaf_hashes is _hashing_py.leaf_hashes
    else:
        assert _hashing.NATIVE, (
            "accord.ledger._native is not built: install with a C compiler, the Python headers"
            " and OpenSSL's (libssl-dev), or set ACCORD_PURE_PYTHON=1 to test the fallback"
        )
        assert _native is not None
        assert _hashing.leaf_hashes is _native.leaf_hashes
        assert store.leaf_hashes is _native.leaf_hashes


@pytest.mark.parametrize(("value", "native"), [("1", False), ("0", True), ("", True)])
def test_accord_pure_python_forces_the_fallback(value: str, native: bool) -> None:
    if native and _native is None:
        pytest.skip("the C extension is not built")
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_PURE_PYTHON"}
    env["ACCORD_PURE_PYTHON"] = value
    code = "from accord.ledger import _hashing; print(_hashing.NATIVE, _hashing.frame.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(native), "accord.ledger._native" if native else "accord.ledger._hashing_py"]
