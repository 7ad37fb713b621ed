"""The pure-Python batch hashing and framing: the fallback for :mod:`accord.ledger._native`.

Same functions, same results, same errors as the C extension (the tests check the two against
each other and against :func:`accord.ledger.merkle.leaf_hash` and
:func:`~accord.ledger.merkle.node_hash`). Import them from :mod:`accord.ledger._hashing`, which
picks the implementation.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from itertools import repeat

__all__ = ["frame", "leaf_hashes", "parent_hashes"]

_HASH = 32
_MAX_ENTRY = 0xFFFF
_sha256 = hashlib.sha256
_pack_len = struct.Struct(">H").pack


def _items(
    func: str, datas: Sequence[bytes], start: int | None, stop: int | None, max_size: int
) -> list[bytes]:
    """``datas[start:stop]``, checked item by item in order as the C extension does.

    :class:`TypeError` names the first item that is not bytes, :class:`ValueError` the first one
    longer than ``max_size`` (when ``max_size`` ≥ 0).
    """
    if not isinstance(datas, list | tuple):
        try:
            datas = list(datas)
        except TypeError:
            raise TypeError(
                f"{func}() expects a sequence of bytes, not {type(datas).__name__}"
            ) from None
    indices = range(len(datas))[start:stop]
    part = datas[start:stop]
    for i, item in zip(indices, part, strict=True):
        if not isinstance(item, bytes):
            raise TypeError(f"{func}(): item {i} is {type(item).__name__}, not bytes")
        if 0 <= max_size < len(item):
            raise ValueError(
                f"{func}(): item {i} is {len(item)} bytes long; an entry is at most"
                f" {max_size} bytes"
            )
    return list(part)


def _all_bytes(items: Sequence[object]) -> bool:
    return all(map(isinstance, items, repeat(bytes)))


def leaf_hashes(datas: Sequence[bytes], /) -> bytes:
    """The RFC 6962 leaf hashes SHA-256(0x00 ‖ d) of ``datas``, concatenated (32 bytes each)."""
    if not (isinstance(datas, list | tuple) and _all_bytes(datas)):
        datas = _items("leaf_hashes", datas, 0, None, -1)  # raises for what is not bytes
    sha = _sha256
    return b"".join([sha(b"\x00" + d).digest() for d in datas])


def parent_hashes(level: bytes | bytearray | memoryview, /) -> bytes:
    """For 2k or 2k+1 concatenated 32-byte hashes, the k hashes SHA-256(0x01 ‖ left ‖ right).

    An odd last hash is ignored; :class:`ValueError` if the length is not a multiple of 32.
    """
    if isinstance(level, bytes):
        data = level
    else:
        try:
            view = memoryview(level)
            if not view.contiguous:
                raise TypeError
        except TypeError:
            raise TypeError(
                "parent_hashes() expects a contiguous bytes-like object, not"
                f" {type(level).__name__}"
            ) from None
        data = view.tobytes()
    if len(data) % _HASH:
        raise ValueError(
            f"parent_hashes(): {len(data)} bytes is not a whole number of 32-byte hashes"
        )
    sha = _sha256
    return b"".join(
        [sha(b"\x01" + data[i : i + 64]).digest() for i in range(0, len(data) - 63, 64)]
    )


def frame(datas: Sequence[bytes], start: int | None = 0, stop: int | None = None, /) -> bytes:
    """The tlog-tiles entry-bundle bytes of ``datas[start:stop]`` (slice semantics).

    Each item is prefixed with its length as 2 bytes big-endian; :class:`ValueError` for an item
    longer than 65,535 bytes.
    """
    part = datas[start:stop] if isinstance(datas, list | tuple) else None
    if part is None or not _all_bytes(part) or max(map(len, part), default=0) > _MAX_ENTRY:
        part = _items("frame", datas, start, stop, _MAX_ENTRY)  # raises for a bad item
    pieces: list[bytes] = [b""] * (2 * len(part))
    pieces[0::2] = map(_pack_len, map(len, part))
    pieces[1::2] = part
    return b"".join(pieces)
