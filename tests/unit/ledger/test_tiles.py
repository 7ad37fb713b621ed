"""The tlog-tiles layout, read back by a small client that knows nothing but the directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.errors import IntegrityError, NotFoundError
from accord.ledger import merkle
from accord.ledger.checkpoint import Checkpoint, Signer, Verifier
from accord.ledger.entries import Entry
from accord.ledger.store import Ledger
from accord.ledger.tiles import Tile, encode_index, parse_path, tiles_for, write_tiles

ORIGIN = "accord.test/log"


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_encoding(n: int, text: str) -> None:
    assert encode_index(n) == text


@pytest.mark.parametrize(
    "tile", [Tile(0, 0), Tile(3, 1234067, 17), Tile(None, 1000), Tile(None, 2, 255)]
)
def test_paths_round_trip(tile: Tile) -> None:
    assert parse_path(tile.path()) == tile


@pytest.mark.parametrize(
    "path",
    ["tile/0/5", "tile/0/005.p/256", "tile/0/005.p/0", "tile/x/001", "tile/0/001/002", "other"],
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(NotFoundError):
        parse_path(path)


def test_tiles_for_a_size() -> None:
    paths = [t.path() for t in tiles_for(700)]
    assert paths == [
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/188",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/188",
        "tile/1/000.p/2",
    ]


class TileClient:
    """A minimal tlog-tiles client: reads files under one directory, trusts only the verifier."""

    def __init__(self, root: Path, verifier: Verifier) -> None:
        self.root = root
        self.checkpoint = Checkpoint.from_note(
            (root / "checkpoint").read_text(encoding="utf-8"), [verifier], origin=ORIGIN
        )
        self.size = self.checkpoint.size
        self.reads: list[str] = []

    def _get(self, path: str) -> bytes:
        self.reads.append(path)
        return (self.root / path).read_bytes()

    @staticmethod
    def _name(kind: str, index: int, width: int) -> str:
        groups = []
        n = index
        while True:
            groups.append(f"{n % 1000:03d}")
            n //= 1000
            if not n:
                break
        parts = [f"x{g}" for g in reversed(groups[1:])] + [groups[0]]
        tail = "" if width == 256 else f".p/{width}"
        return f"tile/{kind}/{'/'.join(parts)}{tail}"

    def tile(self, level: int, index: int) -> list[bytes]:
        width = min(256, (self.size >> (8 * level)) - index * 256)
        data = self._get(self._name(str(level), index, width))
        assert len(data) == 32 * width
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def entries(self, index: int) -> list[bytes]:
        width = min(256, self.size - index * 256)
        data = self._get(self._name("entries", index, width))
        out = []
        while data:
            n = int.from_bytes(data[:2], "big")
            out.append(data[2 : 2 + n])
            data = data[2 + n :]
        assert len(out) == width
        return out

    @staticmethod
    def _h(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    def node(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree at ``height``/``index`` (complete in this tree)."""
        level, j = divmod(height, 8)
        first = index << j
        hashes = self.tile(level, first // 256)[first % 256 : first % 256 + (1 << j)]
        while len(hashes) > 1:
            hashes = [self._h(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def range_hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi) where lo is aligned to a power of two ≥ hi - lo."""
        if hi - lo == 1:
            return self.node(0, lo)
        k = 1
        while k * 2 < hi - lo:
            k *= 2
        if (hi - lo) == 2 * k and lo % (2 * k) == 0:
            return self.node((2 * k).bit_length() - 1, lo // (2 * k))
        return self._h(self.range_hash(lo, lo + k), self.range_hash(lo + k, hi))

    def inclusion(self, index: int) -> list[bytes]:
        def path(m: int, lo: int, hi: int) -> list[bytes]:
            if hi - lo == 1:
                return []
            k = 1
            while k * 2 < hi - lo:
                k *= 2
            if m < lo + k:
                return [*path(m, lo, lo + k), self.range_hash(lo + k, hi)]
            return [*path(m, lo + k, hi), self.range_hash(lo, lo + k)]

        return path(index, 0, self.size)


def test_a_tile_client_recomputes_the_root_and_proves_inclusion(tmp_path: Path) -> None:
    signer = Signer.generate(ORIGIN)
    ledger = Ledger.open(tmp_path / "log.db", origin=ORIGIN)
    entries = [Entry("event", {"i": i}) for i in range(700)]
    for start in range(0, 700, 128):
        ledger.append(entries[start : start + 128])
    signed = ledger.sign_checkpoint(signer)
    out = tmp_path / "pub"
    files = write_tiles(ledger, out, size=signed.checkpoint.size, checkpoint=signed.note)
    assert files == len(list(tiles_for(700))) + 1
    ledger.append([Entry("event", {"i": 700})])  # the log moves on; the published view does not

    client = TileClient(out, signer.verifier())
    assert client.size == 700
    # Every entry bundle matches the level-0 hash tiles, and the entries rebuild the signed root.
    leaves: list[bytes] = []
    for n in range(3):
        data = client.entries(n)
        hashes = [hashlib.sha256(b"\x00" + d).digest() for d in data]
        assert hashes == client.tile(0, n)
        leaves += data
    assert leaves == [e.to_bytes() for e in entries]
    assert client.range_hash(0, client.size) == client.checkpoint.root
    # Inclusion proofs from tiles alone verify against the signed root.
    for index in (0, 1, 255, 256, 511, 600, 699):
        client.reads.clear()
        proof = client.inclusion(index)
        assert merkle.verify_inclusion(
            leaf_hash=client.node(0, index),
            index=index,
            size=client.size,
            proof=proof,
            root=client.checkpoint.root,
        )
        assert proof == list(ledger.inclusion_proof(index, 700).hashes)
        assert all(p.startswith("tile/") for p in client.reads)
    # Served bytes equal the static files.
    assert ledger.read_tile(1, 0, 2) == (out / "tile/1/000.p/2").read_bytes()
    assert ledger.read_entry_bundle(2, 188) == (out / "tile/entries/002.p/188").read_bytes()
    ledger.close()


def test_tiles_beyond_the_tree_are_not_found(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "log.db")
    ledger.append([Entry("event", {"i": i}) for i in range(10)])
    with pytest.raises(NotFoundError):
        ledger.read_tile(0, 0, 11)
    with pytest.raises(NotFoundError):
        ledger.read_tile(1, 0, 1)
    with pytest.raises(NotFoundError):
        ledger.read_entry_bundle(0, 256)
    assert len(ledger.read_tile(0, 0, 10)) == 320
    ledger.close()


def test_missing_rows_surface_as_integrity_errors(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "log.db")
    ledger.append([Entry("event", {"i": i}) for i in range(10)])
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_bundles WHERE id = 0"))
    with pytest.raises(IntegrityError):
        ledger.read_entry_bundle(0, 10)
    with pytest.raises(IntegrityError):
        ledger.entry(3)
    with pytest.raises(IntegrityError):
        list(ledger.entries())
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_tiles WHERE id = 0"))
    with pytest.raises(IntegrityError):
        ledger.read_tile(0, 0, 10)
    with pytest.raises(IntegrityError):
        ledger.inclusion_proof(2)
    fresh = Ledger.open(tmp_path / "log.db")  # no cached right edge: it must read the damage
    with pytest.raises(IntegrityError):
        fresh.append([Entry("event", {"i": 10})])
    fresh.close()
    ledger.close()
