"""The C2SP ``tlog-tiles`` layout, so the log can be published on any static host.

Paths (relative to the log's prefix):

* ``checkpoint`` — the latest signed checkpoint (a signed note).
* ``tile/<L>/<N>`` — a full hash tile: the 256 node hashes at tree height 8·L with indices
  256·N … 256·N+255, concatenated (32 bytes each). ``tile/<L>/<N>.p/<W>`` is a partial tile holding
  only the first W (1–255) hashes, served while the tile is still growing.
* ``tile/entries/<N>`` (and ``.p/<W>``) — entry bundles: the entries of leaves 256·N …, each
  prefixed by its length as 2 bytes big-endian.

``N`` is written in groups of three decimal digits, every group but the last prefixed with ``x``:
1234067 → ``x001/x234/067``. :func:`parse_path` turns a request path back into coordinates, so the
HTTP service can serve the same tree with :meth:`~accord.ledger.store.Ledger.read_tile` and
:meth:`~accord.ledger.store.Ledger.read_entry_bundle`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from accord.errors import Diagnostic, NotFoundError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


class TileSource(Protocol):
    """What :func:`write_tiles` needs from a log."""

    def read_tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes: ...

    def read_entry_bundle(self, index: int, width: int = TILE_WIDTH) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile's coordinates; ``level`` is ``None`` for an entry bundle."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def path(self) -> str:
        """The tile's path under the log prefix."""
        head = "tile/entries" if self.level is None else f"tile/{self.level}"
        tail = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"{head}/{encode_index(self.index)}{tail}"


def encode_index(n: int) -> str:
    """``N`` as tlog-tiles path elements: 3-digit groups, all but the last prefixed with ``x``."""
    if n < 0:
        raise ValueError("tile index must not be negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


_PATH = re.compile(
    r"^tile/(?P<level>entries|0|[1-9][0-9]{0,2})/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?$"
)


def parse_path(path: str) -> Tile:
    """The tile a request path names (``tile/…``); raises :class:`NotFoundError` if none."""
    m = _PATH.match(path.lstrip("/"))
    width = int(m.group("width")) if m and m.group("width") else TILE_WIDTH
    if m is None or (width >= TILE_WIDTH and m.group("width")):
        raise NotFoundError(
            "no such tile path",
            [Diagnostic("not a tlog-tiles path", found=path, expected="tile/<L>/<N>[.p/<W>]")],
        )
    index = int(m.group("index").replace("x", "").replace("/", ""))
    level_text = m.group("level")
    level = None if level_text == "entries" else int(level_text)
    return Tile(level, index, width)


def tiles_for(size: int) -> Iterator[Tile]:
    """Every hash tile and entry bundle of a tree of ``size`` leaves (full, then partial)."""
    full, rest = divmod(size, TILE_WIDTH)
    for n in range(full):
        yield Tile(None, n)
    if rest:
        yield Tile(None, full, rest)
    level = 0
    count = size
    while count:
        full, rest = divmod(count, TILE_WIDTH)
        for n in range(full):
            yield Tile(level, n)
        if rest:
            yield Tile(level, full, rest)
        level += 1
        count >>= TILE_HEIGHT


def write_tiles(source: TileSource, out_dir: str | Path, *, size: int, checkpoint: str) -> int:
    """Write the ``checkpoint`` note and every tile of the tree of ``size`` under ``out_dir``.

    Returns the number of files written. Files are written to a temporary name then renamed, so a
    static host never serves half a tile.
    """
    root = Path(out_dir)
    count = 0
    for tile in tiles_for(size):
        if tile.level is None:
            data = source.read_entry_bundle(tile.index, tile.width)
        else:
            data = source.read_tile(tile.level, tile.index, tile.width)
        _write(root / tile.path(), data)
        count += 1
    _write(root / "checkpoint", checkpoint.encode())
    return count + 1


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
