"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Pure functions over bytes; nothing here touches storage. Two layers:

* **Over leaf data** — :func:`root_hash`, :func:`inclusion_proof`, :func:`consistency_proof` take
  the raw leaf data (``list[bytes]``) and return 32-byte hashes, as RFC 9162 §2.1 defines them.
* **Over stored subtree hashes** — a log that keeps the hash of every *perfect* subtree (a node
  ``(level, index)`` covering leaves ``[index·2^level, (index+1)·2^level)``) builds any proof from
  O(log n) of them: :func:`inclusion_nodes` and :func:`consistency_nodes` say which nodes each proof
  element is made of, :func:`fold` combines them, and :class:`Frontier` tracks the right edge of a
  growing tree so appends compute new interior hashes without reading anything back.

Hashing: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), the tree splits at the
largest power of two strictly below n, and the empty tree's root is SHA-256("").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True, order=True)
class Node:
    """A perfect subtree; ``level`` 0 is a leaf. It covers ``[index<<level, (index+1)<<level)``."""

    level: int
    index: int

    @property
    def start(self) -> int:
        """The first leaf the subtree covers."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf the subtree covers."""
        return (self.index + 1) << self.level


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------------------------------
# Structure: which perfect subtrees make up a range, a proof element, a proof
# --------------------------------------------------------------------------------------------------


def range_pairs(start: int, end: int) -> list[tuple[int, int]]:
    """:func:`range_nodes` as plain ``(level, index)`` tuples (cheaper, for hot paths)."""
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    pairs: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        pairs.append((level, start >> level))
        start += 1 << level
    return pairs


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees, left to right, whose leaves are exactly ``[start, end)``.

    For the ranges RFC 6962 proofs use (``start`` aligned to a power of two ≥ ``end - start``) the
    Merkle tree hash of the range is :func:`fold` of these nodes' hashes.
    """
    return [Node(level, index) for level, index in range_pairs(start, end)]


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of :func:`range_nodes` (left to right) into the range's tree hash."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def _check_sizes(index: int, size: int) -> None:
    if size < 0 or index < 0 or index >= size:
        raise ValueError(f"leaf index {index} is not inside a tree of size {size}")


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose tree hashes make the inclusion proof of ``index`` in tree ``size``.

    In proof order (from the leaf up), per RFC 9162 §2.1.3.1.
    """
    _check_sizes(index, size)
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose tree hashes form the consistency proof ``old_size → new_size``.

    In proof order, per RFC 9162 §2.1.4.1; empty when ``old_size`` is 0 or equals ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    out: list[tuple[int, int]] = []
    lo, hi, complete = 0, new_size, True
    while old_size != hi:
        k = _split(hi - lo)
        if old_size <= lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def inclusion_nodes(index: int, size: int) -> list[list[Node]]:
    """For each inclusion-proof element, the stored perfect subtrees it is the :func:`fold` of."""
    return [range_nodes(lo, hi) for lo, hi in inclusion_ranges(index, size)]


def consistency_nodes(old_size: int, new_size: int) -> list[list[Node]]:
    """For each consistency-proof element, the stored perfect subtrees it is the :func:`fold` of."""
    return [range_nodes(lo, hi) for lo, hi in consistency_ranges(old_size, new_size)]


# --------------------------------------------------------------------------------------------------
# Over leaf data
# --------------------------------------------------------------------------------------------------


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash of leaves given by their leaf hashes (one pass, O(log n) memory)."""
    frontier = Frontier()
    for h in hashes:
        frontier.append(h)
    return frontier.root()


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the raw leaf data, RFC 9162 §2.1.1."""
    return root_from_leaf_hashes(leaf_hash(d) for d in leaves)


def _range_hash(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return fold([_perfect_hash(leaf_hashes, n) for n in range_nodes(start, end)])


def _perfect_hash(leaf_hashes: Sequence[bytes], node: Node) -> bytes:
    level = [leaf_hashes[i] for i in range(node.start, node.end)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) over the raw leaf data (only ``leaves[:size]`` are used)."""
    if size > len(leaves):
        raise ValueError(f"tree size {size} exceeds the {len(leaves)} leaves given")
    hashes = [leaf_hash(d) for d in leaves[:size]]
    return [_range_hash(hashes, lo, hi) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) over the raw leaf data (only ``leaves[:new_size]`` are used)."""
    if new_size > len(leaves):
        raise ValueError(f"tree size {new_size} exceeds the {len(leaves)} leaves given")
    hashes = [leaf_hash(d) for d in leaves[:new_size]]
    return [_range_hash(hashes, lo, hi) for lo, hi in consistency_ranges(old_size, new_size)]


# --------------------------------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------------


class ProofError(ValueError):
    """A proof that does not verify; the message says why."""


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof implies; raises :class:`ProofError` if it is malformed."""
    if index < 0 or size < 0 or index >= size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    fn, sn, r = index, size - 1, leaf_hash
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
        if sn == 0:
            raise ProofError(
                f"proof has {len(proof)} hashes, more than a tree of size {size} needs"
            )
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} hashes, fewer than a tree of size {size} needs")
    return r


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``proof`` shows the leaf ``leaf_hash`` sits at ``index`` in the tree ``root``."""
    try:
        return root_from_inclusion_proof(
            leaf_hash=leaf_hash, index=index, size=size, proof=proof
        ) == bytes(root)
    except ProofError:
        return False


def check_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``proof`` links ``old_root`` to ``new_root``."""
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"size {new_size} is smaller than size {old_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("the two roots differ for the same size")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof has more hashes than the sizes need")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof has fewer hashes than the sizes need")
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff ``proof`` shows the tree ``old_root`` (``old_size``) is a prefix of ``new_root``."""
    try:
        check_consistency(
            old_size=old_size, new_size=new_size, old_root=old_root, new_root=new_root, proof=proof
        )
    except ProofError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# The right edge of a growing tree
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Frontier:
    """The perfect subtrees along the right edge of a tree (its compact range ``[0, size)``).

    :meth:`append` adds a leaf hash and returns the interior nodes it completes, so a store can
    persist every perfect subtree hash as it appears, without reading anything back.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_nodes(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """Rebuild from the hashes of ``range_nodes(0, size)`` (as stored)."""
        if len(hashes) != len(range_nodes(0, size)):
            raise ValueError("frontier hashes do not match the tree size")
        return cls(size, list(hashes))

    def nodes(self) -> list[Node]:
        """The perfect subtrees the frontier holds, left to right."""
        return range_nodes(0, self.size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return ``(level, index, hash)`` of each interior node it completes."""
        index = self.size
        hashes = self.hashes
        hashes.append(leaf)
        done: list[tuple[int, int, bytes]] = []
        level = 0
        i = index
        while i & 1:
            right = hashes.pop()
            left = hashes.pop()
            h = _sha256(b"\x01" + left + right).digest()
            hashes.append(h)
            level += 1
            i >>= 1
            done.append((level, i, h))
        self.size = index + 1
        return done

    def root(self) -> bytes:
        """The Merkle tree hash of the leaves appended so far."""
        return fold(self.hashes)

    def copy(self) -> Frontier:
        """An independent copy."""
        return Frontier(self.size, list(self.hashes))
