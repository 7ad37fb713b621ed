"""The stored transparency log: an append-only RFC 6962 tree on SQLite or PostgreSQL.

Tables (all prefixed ``ledger_``; :data:`metadata` holds them for Alembic, :func:`create_tables`
creates them), laid out as C2SP tlog-tiles do, so an append writes a handful of rows per batch:

* ``ledger_bundles(id, data)`` — chunk ``id`` of the entries: the canonical bytes of entries
  ``id·64 … id·64+63``, each prefixed with its length (2 bytes, big-endian). The four chunks
  ``4·N … 4·N+3`` concatenated are exactly the tlog-tiles entry bundle ``tile/entries/<N>``.
  Only the last chunk is partial, and an append rewrites at most that chunk (at most 63 entries),
  not a whole partial bundle of up to 255.
* ``ledger_tiles(id, data)`` — hash row ``id = height << 48 | index``: the hashes of the complete
  subtrees of that height with indices ``index·256 … index·256+255``, concatenated (32 bytes each).
  Height 0 holds the leaf hashes; *every* height is stored (tlog-tiles keeps every 8th: those rows
  are its hash tiles), so any proof is O(log n) stored hashes read in one query. The last row of
  each height is partial and rewritten as it fills.
* ``ledger_state(id=1, size, root)`` — the tree head; its row is also the writers' lock.
* ``ledger_checkpoints(id, size, root, note, created_at)`` — every signed checkpoint, in order.

Concurrency contract: **one sequencer**. Appends lock ``ledger_state`` first
(``UPDATE … WHERE id = 1``: a row lock on PostgreSQL, the write lock on SQLite), so concurrent
writers serialise; a writer keeps the right edge (the last row of every height and the last
bundle) in memory, and if it is stale (another process appended, or its own transaction rolled
back) it notices from ``(size, root)`` and reloads it. The service serialises its writes through
one :class:`Ledger`.

Durability: :meth:`Ledger.append` returns only after its transaction committed; SQLite runs in WAL
mode with ``synchronous=FULL`` (set by :func:`open_engine` / :func:`configure_sqlite`), so an
acknowledged append survives a crash or power loss. :meth:`Ledger.append_in` writes through the
caller's connection, so the caller's commit makes the entries durable together with its own rows.
"""

from __future__ import annotations

import base64
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from accord.errors import (
    ConflictError,
    Diagnostic,
    InputError,
    IntegrityError,
    NotFoundError,
    StorageError,
)
from accord.ledger import merkle
from accord.ledger._hashing import frame, leaf_hashes, parent_hashes
from accord.ledger.checkpoint import Checkpoint, Note, Signer, Verifier
from accord.ledger.entries import MAX_ENTRY_BYTES, Entry
from accord.ledger.merkle import EMPTY_ROOT
from accord.multirow import MultiRow, rows_per_statement

_Run = Callable[[str, Sequence[Any]], list[Any]]
_Pair = tuple[int, int]

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "SignedCheckpoint",
    "VerifyReport",
    "configure_sqlite",
    "create_tables",
    "metadata",
    "open_engine",
]

DEFAULT_ORIGIN = "accord.example/log"
TILE_WIDTH = 256
TILE_HEIGHT = 8
_LEVEL_SHIFT = 48

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is the rowid

metadata = sa.MetaData()

bundles_table = sa.Table(
    "ledger_bundles",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)

tiles_table = sa.Table(
    "ledger_tiles",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)

lookup_table = sa.Table(
    "ledger_lookup",
    metadata,
    # The first 8 bytes of a leaf hash as a signed 64-bit integer → the first leaf with that hash.
    # Built lazily by `find` (appends never pay for it) and only an accelerator: `find` confirms
    # every hit against the stored (verified) leaf hash and falls back to a scan on a miss, so a
    # lost or altered row cannot give a wrong answer.
    sa.Column("id", _Id, primary_key=True, autoincrement=False),
    sa.Column("leaf_index", sa.BigInteger(), nullable=False),
)

lookup_state_table = sa.Table(
    "ledger_lookup_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("indexed", sa.BigInteger(), nullable=False),  # leaves [0, indexed) are in the lookup
)

state_table = sa.Table(
    "ledger_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
)

checkpoints_table = sa.Table(
    "ledger_checkpoints",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)


# --------------------------------------------------------------------------------------------------
# Engines and tables
# --------------------------------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def configure_sqlite(engine: Engine) -> None:
    """Make every new connection of a SQLite ``engine`` use WAL with ``synchronous=FULL``.

    Call it before the engine's first connection (a no-op for other databases or if already done).
    """
    if engine.dialect.name == "sqlite" and not sa.event.contains(
        engine, "connect", _sqlite_pragmas
    ):
        sa.event.listen(engine, "connect", _sqlite_pragmas)


def open_engine(url_or_path: str | Path, **kwargs: Any) -> Engine:
    """An engine for a database URL or a SQLite file path (configured for durability)."""
    text = str(url_or_path)
    if "://" not in text:
        text = f"sqlite:///{text}"
    elif text.startswith(("postgresql://", "postgres://")):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    try:
        engine = sa.create_engine(text, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StorageError(
            "cannot open the log database",
            [Diagnostic(str(exc), expected="a file path or a database URL", found=text)],
        ) from exc
    configure_sqlite(engine)
    return engine


def create_tables(engine: Engine | Connection) -> None:
    """Create the ``ledger_`` tables if they do not exist.

    A log stored in the earlier row-per-entry layout (``ledger_entries``, ``ledger_nodes``) is
    converted to bundles and hash rows in the same transaction, checked against its tree head, and
    its old tables dropped; one whose bundles are stored whole is split into chunks
    (:func:`chunk_bundles`).
    """
    try:
        metadata.create_all(engine)
        if isinstance(engine, Connection):
            _upgrade_legacy(engine)
            chunk_bundles(engine)
        else:
            with engine.begin() as conn:
                _upgrade_legacy(conn)
                chunk_bundles(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError("cannot create the log tables", [Diagnostic(str(exc))]) from exc


def _marked(sql: str, mark: str) -> str:
    """``?``-placeholder SQL for a driver whose placeholder is ``mark`` (``?`` or ``%s``)."""
    return sql if mark == "?" else sql.replace("?", mark)


def _driver_sql(conn: Connection, sql: str) -> str:
    """``?``-placeholder SQL rewritten for the connection's driver (for the conversions, which run
    before any :class:`Ledger` exists; a ledger has :meth:`Ledger._q`)."""
    return _marked(sql, "?" if conn.dialect.paramstyle == "qmark" else "%s")


def _stored_whole(conn: Connection) -> bool:
    """Whether the log's entry bundles are stored whole (up to 256 entries a row), as before
    chunks: then its first row holds more than a chunk's worth. (A log of at most 64 entries is
    stored the same way in both layouts.)"""
    row = conn.exec_driver_sql("SELECT data FROM ledger_bundles WHERE id = 0").first()
    if row is None:
        return False
    try:
        return len(_unbundle(bytes(row[0]), _CHUNK + 1)) > _CHUNK
    except ValueError:
        return False  # damaged: left as it is, for `accord log verify` to report


def chunk_bundles(conn: Connection) -> int:
    """Split entry bundles stored whole into chunks of 64 entries, in the caller's transaction;
    the number of bundles split. The entries, their order and every hash row stay as they are,
    so the tree head still holds: ``accord log verify`` checks the result as any log.

    Bundles are split from the last to the first: the chunks of bundle ``N`` take ids
    ``4·N … 4·N+3``, which are above ``N``, so they never overwrite a bundle not split yet,
    and every old id is overwritten by a chunk of a lower bundle (all full but the last)."""
    if not _stored_whole(conn):
        return 0
    conn.exec_driver_sql("UPDATE ledger_state SET size = size WHERE id = 1")  # the writers' lock
    if not _stored_whole(conn):
        return 0  # another process split them meanwhile
    upsert = _driver_sql(conn, _UPSERT.format("ledger_bundles"))
    read = _driver_sql(conn, "SELECT data FROM ledger_bundles WHERE id = ?")
    numbers = [
        int(r[0]) for r in conn.exec_driver_sql("SELECT id FROM ledger_bundles ORDER BY id DESC")
    ]
    for number in numbers:
        data = conn.exec_driver_sql(read, (number,)).scalar_one()
        try:
            items = _unbundle(bytes(data))
        except ValueError as exc:
            raise IntegrityError(
                "an entry bundle is malformed; the log was not converted to chunks",
                [Diagnostic(str(exc), path=f"ledger_bundles(index={number})")],
            ) from exc
        chunks = [
            (number * _CHUNKS + k // _CHUNK, frame(items, k, min(len(items), k + _CHUNK)))
            for k in range(0, len(items), _CHUNK)
        ]
        conn.exec_driver_sql(upsert, chunks)
    return len(numbers)


def join_chunks(conn: Connection) -> int:
    """The inverse of :func:`chunk_bundles` (for a downgrade): join the chunks into whole bundles
    (row ``N`` holding entries ``256·N …``), in the caller's transaction; the number of bundles.

    Bundles are joined from the first to the last: bundle ``N`` is read from chunk ids
    ``4·N …`` (at or above ``N``) before row ``N`` is written, and the ids written before it are
    below ``N``; the chunk rows left above the last bundle are deleted."""
    if _stored_whole(conn):
        return 0
    conn.exec_driver_sql("UPDATE ledger_state SET size = size WHERE id = 1")  # the writers' lock
    upsert = _driver_sql(conn, _UPSERT.format("ledger_bundles"))
    read = _driver_sql(
        conn, "SELECT id, data FROM ledger_bundles WHERE id >= ? AND id < ? ORDER BY id"
    )
    last = conn.exec_driver_sql("SELECT MAX(id) FROM ledger_bundles").scalar()
    if last is None:
        return 0
    bundles = int(last) // _CHUNKS + 1
    for number in range(bundles):
        rows = conn.exec_driver_sql(read, (number * _CHUNKS, (number + 1) * _CHUNKS)).all()
        conn.exec_driver_sql(upsert, [(number, b"".join(bytes(r[1]) for r in rows))])
    conn.exec_driver_sql(_driver_sql(conn, "DELETE FROM ledger_bundles WHERE id >= ?"), (bundles,))
    return bundles


def _upgrade_legacy(conn: Connection) -> None:
    """Convert a log in the row-per-entry layout (tables ``ledger_entries``/``ledger_nodes``)."""
    if "ledger_entries" not in sa.inspect(conn).get_table_names():
        return
    conn.exec_driver_sql("UPDATE ledger_state SET size = size WHERE id = 1")  # the writers' lock
    if "ledger_entries" not in sa.inspect(conn).get_table_names():
        return  # another process converted it meanwhile
    if conn.exec_driver_sql("SELECT 1 FROM ledger_bundles LIMIT 1").first() is not None:
        return  # both layouts hold data: leave the old tables for a person to look at
    upsert = _driver_sql(conn, _UPSERT)
    edge = _EMPTY_EDGE
    result = conn.exec_driver_sql("SELECT idx, entry FROM ledger_entries ORDER BY idx")
    for part in result.partitions(8192):
        if [int(i) for i, _ in part] != list(range(edge.size, edge.size + len(part))):
            raise IntegrityError(
                "the log in the earlier layout has missing entries; it was not converted",
                [Diagnostic("indices are not contiguous", path="ledger_entries")],
            )
        edge, tile_rows, bundle_rows = _grow(edge, [bytes(e) for _, e in part])
        conn.exec_driver_sql(upsert.format("ledger_bundles"), bundle_rows)
        conn.exec_driver_sql(upsert.format("ledger_tiles"), tile_rows)
    head = conn.exec_driver_sql("SELECT size, root FROM ledger_state WHERE id = 1").first()
    stored = (int(head[0]), bytes(head[1])) if head is not None else (0, EMPTY_ROOT)
    if stored != (edge.size, edge.root):
        raise IntegrityError(
            "the log in the earlier layout does not match its tree head; it was not converted",
            [Diagnostic("recomputed root differs", path="ledger_state")],
        )
    conn.exec_driver_sql("DROP TABLE IF EXISTS ledger_nodes")
    conn.exec_driver_sql("DROP TABLE ledger_entries")


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------


_ROW = 256  # hashes per tile row, entries per bundle
_ROW_BYTES = _ROW * 32
_CHUNK_SHIFT = 6
#: Entries per stored chunk (a row of ledger_bundles). An append rewrites the partial last chunk:
#: smaller chunks rewrite less, but chunks much under a page (4 KB on SQLite) waste the rest of
#: theirs. 64 entries of ~150–250 bytes span two to four pages.
_CHUNK = 1 << _CHUNK_SHIFT
_CHUNKS = _ROW // _CHUNK  # chunks per bundle
#: Most complete hash rows a log keeps in memory for proofs (8 KiB each), and most rows in all
#: (the last, partial row of each height besides).
_FULL_ROWS_KEPT = 4096
_ROWS_KEPT = _FULL_ROWS_KEPT + 64
#: Most folded right-edge ranges a log keeps in memory for proofs (a few per tree size).
_FOLDS_KEPT = 4096


def _lowest_kept_height(size: int) -> int:
    """The lowest height whose complete hash rows proofs keep in memory, for a tree of ``size``.

    A proof reads one row per height, and a random leaf's rows at the lowest heights are almost
    never read again (a tree of 1M leaves has 3,907 rows at height 0), so remembering them only
    pushes out the upper rows every proof shares. From this height up, a tree holds fewer than
    ``2 · 2**11`` = :data:`_FULL_ROWS_KEPT` complete rows, so all of them fit (with the partial
    last row of each height).
    """
    return max(0, size.bit_length() - 19)


_ID_MASK = (1 << _LEVEL_SHIFT) - 1
_UPSERT = (
    "INSERT INTO {} (id, data) VALUES (?,?) ON CONFLICT (id) DO UPDATE SET data = excluded.data"
)
#: Most rows in one multi-row upsert (PostgreSQL; two parameters a row).
_ROWS_PER_STATEMENT = rows_per_statement(2)
_LOOKUP = "INSERT INTO ledger_lookup (id, leaf_index) VALUES (?,?) ON CONFLICT (id) DO NOTHING"
_key_of = struct.Struct(">q").unpack_from


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _row_of(height: int, index: int) -> tuple[int, int]:
    """The ``ledger_tiles`` id holding node ``(height, index)`` and the node's byte offset in it."""
    return (height << _LEVEL_SHIFT) | (index >> 8), (index & 255) * 32


@dataclass(frozen=True, slots=True)
class _Edge:
    """The right edge of a stored tree of ``size`` leaves: what an append rewrites or builds on.

    ``rows[h]`` is ``(index, data)`` of the hash row holding the last complete node of height
    ``h`` (node ``(size >> h) - 1``, always the row's last hash), for every height with a node;
    ``bundle`` is ``(index, data)`` of the chunk holding the last entry. Immutable: an append
    builds a new edge and keeps it only once its rows are written.
    """

    size: int
    root: bytes
    rows: dict[int, tuple[int, bytes]]
    bundle: tuple[int, bytes] | None


_EMPTY_EDGE = _Edge(0, EMPTY_ROOT, {}, None)


def _edge_root(size: int, rows: Mapping[int, tuple[int, bytes]]) -> bytes:
    """The root from the right edge: the fold of the last node of each height in ``size``."""
    return merkle.fold(
        [rows[h][1][-32:] for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
    )


def _grow(
    edge: _Edge, datas: Sequence[bytes]
) -> tuple[_Edge, list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """Append entry bytes to ``edge``: the new edge, the hash rows and the bundles to write.

    Works a height at a time on "levels", the new nodes of a height as one concatenation of
    hashes: one :func:`leaf_hashes` call for the batch, then one :func:`parent_hashes` call per
    height (in C when :mod:`accord.ledger._native` is built), so the cost per entry is two
    SHA-256 computations and a few copies, whatever the batch size.
    """
    n = edge.size
    rows = dict(edge.rows)
    tile_rows: list[tuple[int, bytes]] = []
    level = leaf_hashes(datas)
    height = 0
    while level:
        lo = n >> height  # the first new node of this height
        row = lo >> 8
        last = rows.get(height)
        base = last[1] if last is not None and last[0] == row else b""  # the partial row, if any
        blob = base + level
        key = height << _LEVEL_SHIFT
        for off in range(0, len(blob), _ROW_BYTES):
            tile_rows.append((key | row, blob[off : off + _ROW_BYTES]))
            row += 1
        rows[height] = (row - 1, tile_rows[-1][1])
        # Pairs start at an even node: if the first new node is odd, its left sibling is the
        # partial row's last hash. An odd node left over at the end waits for a later batch.
        level = parent_hashes(memoryview(blob)[len(base) - 32 if lo & 1 else len(base) :])
        height += 1

    bundle_rows: list[tuple[int, bytes]] = []
    bundle = edge.bundle
    pos, count = 0, len(datas)
    while pos < count:
        index = n + pos
        number = index >> _CHUNK_SHIFT
        stop = min(count, pos + _CHUNK - (index & (_CHUNK - 1)))
        base = bundle[1] if bundle is not None and bundle[0] == number else b""
        bundle = (number, base + frame(datas, pos, stop))
        bundle_rows.append(bundle)
        pos = stop
    size = n + count
    return _Edge(size, _edge_root(size, rows), rows, bundle), tile_rows, bundle_rows


def _chunks_of(number: int) -> str:
    """Where bundle ``number`` is stored (for messages)."""
    return f"ledger_bundles(index={number * _CHUNKS}…{number * _CHUNKS + _CHUNKS - 1})"


def _lookup_rows(
    first: int, end: int, leaf_rows: Iterable[tuple[int, bytes]]
) -> list[tuple[int, int]]:
    """``ledger_lookup`` rows for leaves ``first <= index < end``, read off stored leaf rows."""
    out: list[tuple[int, int]] = []
    for rid, data in leaf_rows:
        base = rid * _ROW
        lo = max(first - base, 0) * 32
        hi = min((end - base) * 32, len(data))
        for offset in range(lo, hi, 32):
            out.append((_key_of(data, offset)[0], base + offset // 32))
    return out


def _unbundle(data: bytes, limit: int = _ROW + 1) -> list[bytes]:
    """The entries of a bundle (at most ``limit``); :class:`ValueError` if it is malformed."""
    out: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end and len(out) < limit:
        if pos + 2 > end:
            raise ValueError(f"a length prefix is cut short at byte {pos}")
        stop = pos + 2 + ((data[pos] << 8) | data[pos + 1])
        if stop > end:
            raise ValueError(f"the entry at byte {pos} runs past the end of the bundle")
        out.append(data[pos + 2 : stop])
        pos = stop
    return out


def _check_encoded(index: int, data: object) -> None:
    """:class:`InputError` unless ``data`` is bytes of an acceptable size for an entry."""
    if not isinstance(data, bytes) or not 0 < len(data) <= MAX_ENTRY_BYTES:
        raise InputError(
            "an encoded entry must be 1 to 65,535 bytes",
            [Diagnostic("bad entry bytes", path=f"#{index}", found=type(data).__name__)],
        )


def _first_bad_encoded(datas: Sequence[object]) -> None:
    """:class:`InputError` for the first item of ``datas`` that is not acceptable entry bytes."""
    for i, data in enumerate(datas):
        _check_encoded(i, data)


def _missing(message: str, path: str) -> IntegrityError:
    return IntegrityError(
        "the log is missing stored data",
        [Diagnostic(message, path=path, hint="run `accord log verify` to locate the damage")],
    )


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An inclusion proof, in the transparency-dev test-vector shape."""

    leaf_index: int
    log_size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]

    def to_dict(self, encode: Callable[[bytes], str] | None = None) -> dict[str, Any]:
        """JSON-ready: hashes in base64 (``encode``, if given, turns a hash into its base64 text:
        for proofs that share hashes, with a memo)."""
        b64 = encode or _b64
        return {
            "log_size": self.log_size,
            "leaf_index": self.leaf_index,
            "leaf_hash": b64(self.leaf_hash),
            "hashes": [b64(h) for h in self.hashes],
        }

    def root(self) -> bytes:
        """The root this proof implies (raises :class:`merkle.ProofError` if malformed)."""
        return merkle.root_from_inclusion_proof(
            leaf_hash=self.leaf_hash, index=self.leaf_index, size=self.log_size, proof=self.hashes
        )


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """A consistency proof between two tree sizes, with both roots."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    hashes: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: hashes in base64."""
        from base64 import b64encode

        return {
            "old_size": self.old_size,
            "log_size": self.new_size,
            "old_root": b64encode(self.old_root).decode(),
            "root": b64encode(self.new_root).decode(),
            "hashes": [b64encode(h).decode() for h in self.hashes],
        }

    def verify(self) -> bool:
        """True iff the proof links the two roots."""
        return merkle.verify_consistency(
            old_size=self.old_size,
            new_size=self.new_size,
            old_root=self.old_root,
            new_root=self.new_root,
            proof=self.hashes,
        )


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A stored signed checkpoint: the note text and its parsed body."""

    id: int
    note: str
    checkpoint: Checkpoint
    created_at: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :meth:`Ledger.verify` checked (``nodes``: stored interior hashes, heights ≥ 1)."""

    size: int
    root: bytes
    nodes: int
    checkpoints: int
    signatures_checked: int


@dataclass(slots=True)
class _Problems:
    limit: int = 50
    items: list[Diagnostic] = field(default_factory=list)
    more: int = 0

    def add(
        self, message: str, *, path: str, expected: str | None = None, found: str | None = None
    ) -> None:
        if len(self.items) < self.limit:
            self.items.append(Diagnostic(message, path=path, expected=expected, found=found))
        else:
            self.more += 1


# --------------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------------


class Ledger:
    """An append-only transparency log stored in a database.

    Build it from an SQLAlchemy ``Engine`` (the service's) or with :meth:`open` from a path or URL.
    Reads use their own pooled connections; writes go through one sequencer (this object).
    """

    def __init__(
        self, engine: Engine, *, origin: str = DEFAULT_ORIGIN, create: bool = True
    ) -> None:
        configure_sqlite(engine)
        self.engine = engine
        self.origin = origin
        self._lock = threading.RLock()
        self._edge: _Edge | None = None
        #: Hash rows read for proofs, by id, from :func:`_lowest_kept_height` up: complete rows
        #: (never rewritten) and the last, partial row of each height (appends only lengthen
        #: it, so what was read stays right for the nodes it holds). Proofs of random leaves
        #: share their upper rows; ``verify`` never reads from here.
        self._rows_kept: dict[int, bytes] = {}
        #: The tree hashes of leaf ranges ``[lo, hi)`` that proofs had to fold from several
        #: stored nodes: the right edge of a tree size, shared by every proof at that size.
        self._folds: dict[tuple[int, int], bytes] = {}
        #: The largest committed size this object has read: the log only grows, so a proof for a
        #: size up to this one needs no read of the head to know the tree exists.
        self._seen_size = 0
        qmark = engine.dialect.paramstyle == "qmark"
        self._p = "?" if qmark else "%s"
        dbapi_error: type[Exception] = getattr(engine.dialect.dbapi, "Error", sa.exc.DBAPIError)
        # The write path runs its few statements on a DBAPI cursor of the transaction's own
        # connection (SQLAlchemy's statement layer costs more than SQLite does for them), so
        # both kinds of error mean "the database failed".
        self._db_errors: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, dbapi_error)
        self._sql_bundles = self._q(_UPSERT.format("ledger_bundles"))
        self._sql_checkpoint = self._q(
            "INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)"
            " RETURNING id"
        )
        self._sql_tiles = self._q(_UPSERT.format("ledger_tiles"))
        #: one-row upsert → its multi-row form, on PostgreSQL (see :meth:`_upsert_rows`)
        self._multi_upserts: dict[str, MultiRow] = {}
        self._sql_head = self._q("UPDATE ledger_state SET size = ?, root = ? WHERE id = 1")
        if create:
            create_tables(engine)

    @classmethod
    def open(
        cls, url_or_path: str | Path, *, origin: str = DEFAULT_ORIGIN, create: bool = True
    ) -> Ledger:
        """Open (and by default create) the log at a SQLite path or database URL."""
        return cls(open_engine(url_or_path), origin=origin, create=create)

    def close(self) -> None:
        """Release the engine's pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- small SQL helpers -------------------------------------------------------------------------

    def _q(self, sql: str) -> str:
        """``?``-placeholder SQL rewritten for the driver."""
        return _marked(sql, self._p)

    def _x(self, conn: Connection, sql: str, params: Any = None) -> Any:
        """Run driver-level SQL written with ``?`` placeholders (rewritten for the driver)."""
        sql = _marked(sql, self._p)
        if params is None:
            return conn.exec_driver_sql(sql)
        return conn.exec_driver_sql(sql, params)

    @staticmethod
    def _in(n: int) -> str:
        return "(" + ",".join("?" * n) + ")"

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise StorageError(
                "cannot connect to the log database", [Diagnostic(str(exc))]
            ) from exc

    def _state(self, conn: Connection) -> tuple[int, bytes] | None:
        row = self._x(conn, "SELECT size, root FROM ledger_state WHERE id = 1").first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def _runner(self, conn: Connection) -> _Run:
        """Run ``?``-placeholder SQL on an SQLAlchemy connection; all rows."""

        def run(sql: str, params: Sequence[Any]) -> list[Any]:
            return list(self._x(conn, sql, tuple(params)).all())

        return run

    @contextmanager
    def _raw(self) -> Iterator[_Run]:
        """A pooled DBAPI cursor for short reads (skips SQLAlchemy's result layer: proofs are hot).

        The log's rows never change once committed and its size only grows, so reads that span
        several statements stay consistent without a snapshot.
        """
        dbapi_error: type[Exception] = getattr(self.engine.dialect.dbapi, "Error", Exception)
        try:
            raw = self.engine.raw_connection()
        except sa.exc.SQLAlchemyError as exc:
            raise StorageError(
                "cannot connect to the log database", [Diagnostic(str(exc))]
            ) from exc
        mark = self._p
        try:
            cur = raw.cursor()

            def run(sql: str, params: Sequence[Any]) -> list[Any]:
                cur.execute(_marked(sql, mark), tuple(params))
                return list(cur.fetchall())

            yield run
        except dbapi_error as exc:
            raise StorageError("cannot read the log", [Diagnostic(str(exc))]) from exc
        finally:
            raw.close()

    def _read_rows(self, run: _Run, table: str, ids: Sequence[int]) -> dict[int, bytes]:
        """Rows ``id -> data`` of ``ledger_tiles`` or ``ledger_bundles`` (absent ids left out)."""
        found: dict[int, bytes] = {}
        for first in range(0, len(ids), 500):
            part = ids[first : first + 500]
            sql = f"SELECT id, data FROM {table} WHERE id IN " + self._in(len(part))  # noqa: S608
            for rid, data in run(sql, part):
                found[int(rid)] = bytes(data)
        return found

    def _read_bundles(self, run: _Run, first: int, stop: int) -> dict[int, bytes]:
        """Entry bundles ``first <= N < stop`` (tlog-tiles ``tile/entries/<N>`` bytes), each from
        its chunks in one range query. A bundle stops at its first missing chunk: the caller's
        count of entries then falls short and it reports the damage."""
        rows = run(
            "SELECT id, data FROM ledger_bundles WHERE id >= ? AND id < ? ORDER BY id",
            (first * _CHUNKS, stop * _CHUNKS),
        )
        parts: dict[int, list[bytes]] = {}
        for rid, data in rows:
            number, k = divmod(int(rid), _CHUNKS)
            got = parts.setdefault(number, [])
            if len(got) == k:  # contiguous so far
                got.append(bytes(data))
        return {number: b"".join(got) for number, got in parts.items()}

    def _read_nodes(
        self, run: _Run, pairs: Iterable[_Pair], *, cached: bool = False
    ) -> dict[_Pair, bytes]:
        """The stored hashes of perfect subtrees ``(level, index)``, in one query. With
        ``cached``, hash rows read before are taken from memory when they already hold the
        nodes asked for (proofs only)."""
        # (row id, byte offset) of each node: _row_of, inlined (this is the proofs' hot loop).
        where = {
            (level, index): ((level << _LEVEL_SHIFT) | (index >> 8), (index & 255) * 32)
            for level, index in pairs
        }
        if cached:
            # A committed node never changes: appends only lengthen the last row of a height.
            # So a remembered row, complete or not, serves every node it is long enough to hold.
            need: dict[int, int] = {}
            for rid, off in where.values():
                if need.get(rid, -1) < off:
                    need[rid] = off
            memo = self._rows_kept
            rows = {}
            missing = []
            for rid, off in need.items():
                data = memo.get(rid)
                if data is not None and len(data) > off:
                    rows[rid] = data
                else:
                    missing.append(rid)
            fetched = self._read_rows(run, "ledger_tiles", missing)
            if len(memo) > _ROWS_KEPT:  # the log grew past what the height bound allows for
                memo.clear()
            lowest = _lowest_kept_height(self._seen_size) << _LEVEL_SHIFT
            for rid, data in fetched.items():
                if rid >= lowest:
                    memo[rid] = data
            rows.update(fetched)
        else:
            rows = self._read_rows(run, "ledger_tiles", list({rid for rid, _ in where.values()}))
        found: dict[_Pair, bytes] = {}
        for pair, (rid, off) in where.items():
            data = rows.get(rid, b"")
            if len(data) >= off + 32:
                found[pair] = data[off : off + 32]
        if len(found) != len(where):
            level, index = min(p for p in where if p not in found)
            raise _missing(
                f"{len(where) - len(found)} stored hash(es) missing, e.g. height {level} "
                f"index {index}",
                f"ledger_tiles(height={level}, index={index >> 8})",
            )
        return found

    def _fold_ranges(
        self, run: _Run, ranges: Sequence[tuple[int, int]], *, cached: bool = False
    ) -> list[bytes]:
        """The tree hash of each leaf range, from stored subtree hashes (one batched read).

        With ``cached`` (proofs), the hashes of ranges that needed folding are remembered: they
        are the right edge of a tree size, the same for every proof at that size."""
        # Most ranges of a proof are one perfect subtree (a power-of-two width, aligned): their
        # hash is stored as it is; only the right edge of a tree needs folding.
        folds = self._folds if cached else None
        groups: list[bytes | tuple[int, int] | list[tuple[int, int]]] = []
        pairs: list[tuple[int, int]] = []
        for lo, hi in ranges:
            width = hi - lo
            if width > 0 and not width & (width - 1) and not lo & (width - 1):
                level = width.bit_length() - 1
                pair = (level, lo >> level)
                groups.append(pair)
                pairs.append(pair)
            elif folds is not None and (lo, hi) in folds:
                groups.append(folds[lo, hi])
            else:
                group = merkle.range_pairs(lo, hi)
                groups.append(group)
                pairs.extend(group)
        hashes = self._read_nodes(run, pairs, cached=cached)
        fold = merkle.fold
        out: list[bytes] = []
        for got, span in zip(groups, ranges, strict=True):
            if isinstance(got, bytes):
                out.append(got)
            elif isinstance(got, tuple):
                out.append(hashes[got])
            else:
                out.append(fold([hashes[p] for p in got]))
                if folds is not None:
                    if len(folds) >= _FOLDS_KEPT:
                        folds.clear()
                    folds[span] = out[-1]
        return out

    def _head(self, run: _Run) -> tuple[int, bytes]:
        rows = run("SELECT size, root FROM ledger_state WHERE id = 1", ())
        head = (int(rows[0][0]), bytes(rows[0][1])) if rows else (0, EMPTY_ROOT)
        self._seen_size = max(self._seen_size, head[0])
        return head

    def _proof_size(self, run: _Run, size: int | None) -> int:
        """The tree size a proof is for: ``size`` if this object already saw the log that large,
        else checked against the stored head."""
        if size is not None and 0 <= size <= self._seen_size:
            return size
        return self._check_size(self._head(run)[0], size)

    def _size(self, conn: Connection) -> tuple[int, bytes]:
        state = self._state(conn)
        return state if state is not None else (0, EMPTY_ROOT)

    # -- writing -----------------------------------------------------------------------------------

    def _load_edge(self, run: _Run, size: int, root: bytes) -> _Edge:
        """Read the right edge of the stored tree of ``size`` leaves; check it gives ``root``."""
        if not size:
            return _EMPTY_EDGE
        last = {h: (size >> h) - 1 for h in range(size.bit_length())}
        ids = [_row_of(h, i)[0] for h, i in last.items()]
        stored = self._read_rows(run, "ledger_tiles", ids)
        rows: dict[int, tuple[int, bytes]] = {}
        for (h, i), rid in zip(last.items(), ids, strict=True):
            data = stored.get(rid, b"")
            off = _row_of(h, i)[1]
            if len(data) != off + 32:
                raise _missing(
                    f"the last hash row of height {h} does not hold {off // 32 + 1} hashes",
                    f"ledger_tiles(height={h}, index={rid & _ID_MASK})",
                )
            rows[h] = (rid & _ID_MASK, data)
        number = (size - 1) >> _CHUNK_SHIFT
        bundle = self._read_rows(run, "ledger_bundles", [number]).get(number, b"")
        try:
            count = len(_unbundle(bundle))
        except ValueError:
            count = -1
        want = ((size - 1) & (_CHUNK - 1)) + 1
        if count != want:
            raise _missing(
                f"the last chunk of entries does not hold {want} entries",
                f"ledger_bundles(index={number})",
            )
        if _edge_root(size, rows) != root:
            raise IntegrityError(
                "the log's tree head does not match its stored hashes",
                [Diagnostic("root mismatch", path="ledger_state.root")],
            )
        return _Edge(size, root, rows, (number, bundle))

    def _sync(self, cur: Any) -> _Edge:
        """Lock the tree head and return the right edge matching the stored state.

        ``cur`` is a DBAPI cursor of the writing transaction's connection.
        """

        def run(sql: str, params: Sequence[Any] = ()) -> list[Any]:
            cur.execute(self._q(sql), tuple(params))
            return list(cur.fetchall()) if cur.description is not None else []

        run("UPDATE ledger_state SET size = size WHERE id = 1")
        if not cur.rowcount:
            if run("SELECT 1 FROM ledger_bundles LIMIT 1"):
                raise IntegrityError(
                    "the log's tree head is missing",
                    [Diagnostic("ledger_state has no row but entries exist", path="ledger_state")],
                )
            # Two first writers may race here: the loser waits on the winner's row and then
            # inserts nothing; both then take the row lock as usual.
            run(
                "INSERT INTO ledger_state (id, size, root) VALUES (1, 0, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (EMPTY_ROOT,),
            )
            run("UPDATE ledger_state SET size = size WHERE id = 1")
        head = run("SELECT size, root FROM ledger_state WHERE id = 1")
        size, root = (int(head[0][0]), bytes(head[0][1])) if head else (0, EMPTY_ROOT)
        cached = self._edge
        if cached is None or cached.size != size or cached.root != root:
            cached = self._load_edge(run, size, root)
            self._edge = cached
        return cached

    def _upsert_rows(self, cur: Any, sql: str, rows: Sequence[tuple[int, bytes]]) -> None:
        """Write ``(id, data)`` rows with ``sql``, a one-row ``_UPSERT`` made for the driver.

        SQLite steps that statement once per row, in process. PostgreSQL gets it with several
        rows' values (the keys of one batch's rows are distinct, as one statement requires): the
        server plans and runs one statement instead of one per row.
        """
        if self._p == "?":
            cur.executemany(sql, rows)
            return
        multi = self._multi_upserts.get(sql)
        if multi is None:
            multi = self._multi_upserts[sql] = MultiRow(sql, "(%s,%s)")
        multi.execute(cur, rows, _ROWS_PER_STATEMENT)

    def _append(self, conn: Connection, entries: Sequence[Entry | Mapping[str, Any]]) -> list[int]:
        datas = [
            (e if isinstance(e, Entry) else Entry.from_mapping(e, where=f"#{i}")).to_bytes()
            for i, e in enumerate(entries)
        ]
        return self._append_bytes(conn, datas)

    def _append_bytes(self, conn: Connection, datas: Sequence[bytes]) -> list[int]:
        if not datas:
            return []
        cur = conn.connection.cursor()  # in ``conn``'s transaction: its commit covers these
        try:
            edge = self._sync(cur)
            new, tile_rows, bundle_rows = _grow(edge, datas)
            self._upsert_rows(cur, self._sql_bundles, bundle_rows)
            self._upsert_rows(cur, self._sql_tiles, tile_rows)
            cur.execute(self._sql_head, (new.size, new.root))
        finally:
            cur.close()
        self._edge = new
        return list(range(edge.size, new.size))

    def append(self, entries: Sequence[Entry | Mapping[str, Any]]) -> list[int]:
        """Append entries in one durable transaction; return their leaf indices.

        When this returns, the entries are committed (and, on SQLite, fsynced to the WAL).
        """
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    return self._append(conn, entries)
            except self._db_errors as exc:
                self._edge = None
                raise StorageError("cannot append to the log", [Diagnostic(str(exc))]) from exc

    def append_in(
        self, connection: Connection, entries: Sequence[Entry | Mapping[str, Any]]
    ) -> list[int]:
        """Append entries through the caller's ``connection`` (inside its open transaction).

        Nothing is committed here: the entries become durable, and visible, when the caller commits,
        together with whatever else the caller wrote; if the caller rolls back they vanish and the
        next append notices. The caller's engine must point at the same database as this log's.
        """
        with self._lock:
            try:
                return self._append(connection, entries)
            except self._db_errors as exc:
                self._edge = None
                raise StorageError("cannot append to the log", [Diagnostic(str(exc))]) from exc

    def append_encoded_in(self, connection: Connection, datas: Sequence[bytes]) -> list[int]:
        """:meth:`append_in` for entries given as canonical bytes this process just made with
        :meth:`Entry.to_bytes` (trusted, as with ``append_encoded(validate=False)``: only the
        size limit is checked; ``verify`` reports any entry that is not canonical)."""
        with self._lock:
            try:
                return self._append_trusted(connection, list(datas))
            except self._db_errors as exc:
                self._edge = None
                raise StorageError("cannot append to the log", [Diagnostic(str(exc))]) from exc

    def append_encoded(self, datas: Sequence[bytes], *, validate: bool = True) -> list[int]:
        """Append entries given as their canonical bytes (:meth:`Entry.to_bytes`), durably.

        With ``validate`` (the default) each must parse as a valid entry in canonical form
        (:meth:`Entry.from_bytes`). ``validate=False`` only checks the size limit and trusts the
        caller for the rest: for bytes this process just produced with :meth:`Entry.to_bytes`
        (``verify`` reports any entry that is not canonical).
        """
        checked = list(datas)  # a snapshot: the caller may change its sequence afterwards
        if validate:
            for i, data in enumerate(checked):
                _check_encoded(i, data)
                Entry.from_bytes(data)
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    return self._append_trusted(conn, checked)
            except self._db_errors as exc:
                self._edge = None
                raise StorageError("cannot append to the log", [Diagnostic(str(exc))]) from exc

    def _append_trusted(self, conn: Connection, datas: list[bytes]) -> list[int]:
        """:meth:`_append_bytes` for entry bytes whose type and size are checked where they are
        hashed, in C; a bad one is named as an :class:`InputError` before anything is written."""
        if not all(datas):  # an empty entry
            _first_bad_encoded(datas)
        try:
            return self._append_bytes(conn, datas)
        except (TypeError, ValueError):
            # leaf_hashes and frame reject an item that is not bytes or is too long, before
            # anything is written (the transaction rolls back); say which, as InputError.
            _first_bad_encoded(datas)
            raise

    def store_checkpoint_in(
        self, connection: Connection, size: int, root: bytes, note: str, created_at: str
    ) -> int:
        """Insert a signed checkpoint through the caller's open transaction (the caller checked
        that it extends the last one); its id."""
        cur = connection.connection.cursor()
        try:
            cur.execute(self._sql_checkpoint, (size, root, note, created_at))
            row = cur.fetchone()
        finally:
            cur.close()
        if row is None:  # pragma: no cover - RETURNING always gives the row
            raise StorageError("cannot store the checkpoint", [Diagnostic("no id returned")])
        return int(row[0])

    def pending_head(self) -> tuple[int, bytes] | None:
        """The tree head (size, root) this writer's last append produced, from memory: the head of
        the transaction it appended in, committed or not (``None`` before any append, or after a
        failed one). For a caller that appended through :meth:`append_encoded_in` and wants the
        head it wrote without reading it back."""
        edge = self._edge
        return None if edge is None else (edge.size, edge.root)

    # -- reading -----------------------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        """The committed tree size and root."""
        with self._connect() as conn:
            return self._size(conn)

    @property
    def size(self) -> int:
        """The committed number of entries."""
        return self.head()[0]

    @staticmethod
    def _check_size(current: int, size: int | None) -> int:
        if size is None:
            return current
        if not 0 <= size <= current:
            raise NotFoundError(
                "no such tree size",
                [Diagnostic("size out of range", expected=f"0..{current}", found=str(size))],
            )
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` entries (default: all)."""
        with self._raw() as run:
            n = self._check_size(self._head(run)[0], size)
            return self._fold_ranges(run, [(0, n)])[0]

    def _in_tree(self, conn: Connection, index: int) -> None:
        if not 0 <= index < self._size(conn)[0]:
            raise NotFoundError("no such entry", [Diagnostic("unknown index", found=str(index))])

    def entry(self, index: int) -> bytes:
        """The canonical bytes of entry ``index``."""
        with self._connect() as conn:
            self._in_tree(conn, index)
            number, k = index >> _CHUNK_SHIFT, index & (_CHUNK - 1)
            data = self._read_rows(self._runner(conn), "ledger_bundles", [number]).get(number)
        try:
            items = _unbundle(data or b"", k + 1)
        except ValueError:
            items = []
        if len(items) <= k:
            raise _missing(f"entry {index} is not in its chunk", f"ledger_bundles(index={number})")
        return items[k]

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of entry ``index``."""
        with self._connect() as conn:
            self._in_tree(conn, index)
            return self._read_nodes(self._runner(conn), [(0, index)])[(0, index)]

    def find(self, leaf_hash: bytes) -> int | None:
        """The index of the first entry with this leaf hash, or ``None``.

        One indexed read of ``ledger_lookup`` (keyed by the hash's first 8 bytes), confirmed
        against the stored leaf hash. The lookup is brought up to the tree head here, not at
        append time, so appends never pay for it. Only when it finds nothing are the stored leaf
        hashes scanned (in C, 256 to a row): the answer never depends on the lookup table alone.
        """
        if len(leaf_hash) != 32:
            return None
        self._index_lookup()
        with self._connect() as conn:
            size = self._size(conn)[0]
            hit = self._x(
                conn, "SELECT leaf_index FROM ledger_lookup WHERE id = ?", (_key_of(leaf_hash)[0],)
            ).first()
            if hit is not None and 0 <= int(hit[0]) < size:
                index = int(hit[0])
                if self._read_nodes(self._runner(conn), [(0, index)])[(0, index)] == leaf_hash:
                    return index
            return self._scan_for(conn, leaf_hash)

    def _index_lookup(self) -> None:
        """Add the leaves appended since the last lookup to ``ledger_lookup`` (one transaction)."""
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    size = self._size(conn)[0]
                    row = self._x(
                        conn, "SELECT indexed FROM ledger_lookup_state WHERE id = 1"
                    ).first()
                    done = int(row[0]) if row is not None else 0
                    if done >= size:
                        return
                    leaf_rows = self._x(
                        conn,
                        "SELECT id, data FROM ledger_tiles WHERE id >= ? AND id <= ? ORDER BY id",
                        (done >> 8, (size - 1) >> 8),
                    ).all()
                    rows = _lookup_rows(done, size, [(int(i), bytes(d)) for i, d in leaf_rows])
                    if rows:
                        self._x(conn, _LOOKUP, rows)
                    self._x(
                        conn,
                        "INSERT INTO ledger_lookup_state (id, indexed) VALUES (1, ?)"
                        " ON CONFLICT (id) DO UPDATE SET indexed = excluded.indexed",
                        (size,),
                    )
            except sa.exc.SQLAlchemyError as exc:
                raise StorageError("cannot index the log", [Diagnostic(str(exc))]) from exc

    def _scan_for(self, conn: Connection, leaf_hash: bytes) -> int | None:
        sql = "SELECT id, data FROM ledger_tiles WHERE id >= 0 AND id < ? ORDER BY id"
        opts = {"stream_results": True} if conn.dialect.supports_server_side_cursors else {}
        with self._x(conn.execution_options(**opts), sql, (1 << _LEVEL_SHIFT,)) as result:
            for part in result.partitions(256):
                for rid, data in part:
                    row = bytes(data)
                    pos = row.find(leaf_hash)
                    while pos >= 0 and pos % 32:
                        pos = row.find(leaf_hash, pos + 1)
                    if pos >= 0:
                        return int(rid) * _ROW + pos // 32
        return None

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield ``(index, leaf_hash, entry)`` in index order for ``start <= index < end``."""
        with self._connect() as conn:
            yield from self._stream_entries(conn, start, end)

    def _stream_entries(
        self, conn: Connection, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes, bytes]]:
        size = self._size(conn)[0]
        end = size if end is None else min(end, size)
        start = max(start, 0)
        run = self._runner(conn)
        step = 16  # bundles (and hash rows) per read
        for first in range(start >> 8, ((end - 1) >> 8) + 1 if end > start else 0, step):
            numbers = list(range(first, min(first + step, ((end - 1) >> 8) + 1)))
            bundles = self._read_bundles(run, numbers[0], numbers[-1] + 1)
            hashes = self._read_rows(run, "ledger_tiles", numbers)
            for number in numbers:
                lo = max(start, number * _ROW)
                hi = min(end, number * _ROW + _ROW)
                try:
                    items = _unbundle(bundles.get(number, b""), hi - number * _ROW)
                except ValueError:
                    items = []
                row = hashes.get(number, b"")
                if len(items) < hi - number * _ROW or len(row) < (hi - number * _ROW) * 32:
                    raise _missing(
                        f"bundle {number} or its leaf hashes are incomplete",
                        _chunks_of(number),
                    )
                for i in range(lo, hi):
                    k = i - number * _ROW
                    yield i, row[k * 32 : k * 32 + 32], items[k]

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries (default: all)."""
        with self._raw() as run:
            n = self._proof_size(run, size)
            if not 0 <= index < n:
                raise NotFoundError(
                    "no such entry in this tree",
                    [Diagnostic("index out of range", expected=f"0..{n - 1}", found=str(index))],
                )
            hashes = self._fold_ranges(
                run, [(index, index + 1), *merkle.inclusion_ranges(index, n)], cached=True
            )
        return InclusionProof(index, n, hashes[0], tuple(hashes[1:]))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The proof that tree ``old_size`` is a prefix of tree ``new_size`` (default: all)."""
        with self._raw() as run:
            n = self._proof_size(run, new_size)
            if not 0 <= old_size <= n:
                raise NotFoundError(
                    "no such tree size",
                    [Diagnostic("old size out of range", expected=f"0..{n}", found=str(old_size))],
                )
            ranges = [(0, old_size), (0, n), *merkle.consistency_ranges(old_size, n)]
            hashes = self._fold_ranges(run, ranges, cached=True)
        return ConsistencyProof(old_size, n, hashes[0], hashes[1], tuple(hashes[2:]))

    # -- tiles -------------------------------------------------------------------------------------

    def read_tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """The C2SP tlog-tiles hash tile ``tile/<level>/<index>[.p/<width>]``: ``width`` hashes.

        A level-L tile holds the tree nodes at height 8·L, indices ``index·256`` to
        ``index·256+width-1``; every one must be complete in the current tree.
        """
        if not (level >= 0 and index >= 0 and 1 <= width <= TILE_WIDTH):
            raise NotFoundError(
                "no such tile", [Diagnostic("bad coordinates", found=f"{level}/{index}/{width}")]
            )
        height = level * TILE_HEIGHT
        first = index * TILE_WIDTH
        with self._connect() as conn:
            size = self._size(conn)[0]
            if (first + width) << height > size:
                raise NotFoundError(
                    "no such tile",
                    [
                        Diagnostic(
                            "the tile is not complete at this tree size", found=f"size {size}"
                        )
                    ],
                )
            row = self._read_rows(
                self._runner(conn), "ledger_tiles", [(height << _LEVEL_SHIFT) | index]
            ).get((height << _LEVEL_SHIFT) | index, b"")
        if len(row) < 32 * width:
            raise IntegrityError(
                "the log is missing stored hashes",
                [
                    Diagnostic(
                        f"tile {level}/{index} has {len(row) // 32} of {width} hashes",
                        path=f"ledger_tiles(height={height}, index={index})",
                    )
                ],
            )
        return row[: 32 * width]

    def read_entry_bundle(self, index: int, width: int = TILE_WIDTH) -> bytes:
        """The tlog-tiles entry bundle ``tile/entries/<index>[.p/<width>]``.

        Each entry is prefixed with its length as 2 bytes big-endian.
        """
        if not (index >= 0 and 1 <= width <= TILE_WIDTH):
            raise NotFoundError(
                "no such entry bundle", [Diagnostic("bad coordinates", found=f"{index}/{width}")]
            )
        with self._connect() as conn:
            size = self._size(conn)[0]
            if index * TILE_WIDTH + width > size:
                raise NotFoundError(
                    "no such entry bundle",
                    [
                        Diagnostic(
                            "the bundle is not complete at this tree size", found=f"size {size}"
                        )
                    ],
                )
            data = self._read_bundles(self._runner(conn), index, index + 1).get(index, b"")
        try:
            items = _unbundle(data, width)
        except ValueError:
            items = []
        if len(items) != width:
            raise IntegrityError(
                "the log is missing entries",
                [
                    Diagnostic(
                        f"bundle {index} has {len(items)} of {width} entries",
                        path=_chunks_of(index),
                    )
                ],
            )
        return data[: sum(len(e) + 2 for e in items)]

    # -- checkpoints -------------------------------------------------------------------------------

    @staticmethod
    def _signed(row: Any) -> SignedCheckpoint:
        note = str(row[1])
        return SignedCheckpoint(
            int(row[0]), note, Checkpoint.from_text(Note.from_text(note).text), str(row[2])
        )

    def sign_checkpoint(self, signer: Signer) -> SignedCheckpoint:
        """Sign and store a checkpoint of the current tree.

        Raises :class:`ConflictError` if the tree is not consistent with the latest stored
        checkpoint (smaller, or a different root at that checkpoint's size), or if that checkpoint
        names another origin: a log must never sign two inconsistent views.
        """
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    cur = conn.connection.cursor()
                    try:
                        edge = self._sync(cur)
                    finally:
                        cur.close()
                    size, root = edge.size, edge.root
                    last = self._latest(conn)
                    if last is not None:
                        self._check_extends(conn, last, size)
                    checkpoint = Checkpoint(self.origin, size, root)
                    note = checkpoint.sign(signer)
                    now = datetime.now(UTC).isoformat(timespec="seconds")
                    self.store_checkpoint_in(conn, size, root, note, now)
                    stored = self._latest(conn)
            except self._db_errors as exc:
                raise StorageError("cannot store the checkpoint", [Diagnostic(str(exc))]) from exc
        assert stored is not None
        return stored

    def _check_extends(self, conn: Connection, last: SignedCheckpoint, size: int) -> None:
        old = last.checkpoint
        where = f"ledger_checkpoints(id={last.id})"
        if old.origin != self.origin:
            raise ConflictError(
                "the log's origin changed",
                [
                    Diagnostic(
                        "origin differs from the last checkpoint",
                        path=where,
                        expected=old.origin,
                        found=self.origin,
                    )
                ],
            )
        if old.size > size:
            raise ConflictError(
                "the log is smaller than its last checkpoint",
                [
                    Diagnostic(
                        "entries were removed",
                        path=where,
                        expected=f"size ≥ {old.size}",
                        found=str(size),
                    )
                ],
            )
        now_root = self._fold_ranges(self._runner(conn), [(0, old.size)])[0]
        if now_root != old.root:
            raise ConflictError(
                "the log is not consistent with its last checkpoint",
                [
                    Diagnostic(
                        f"the tree of the first {old.size} entries has another root",
                        path=where,
                        hint="the stored log was altered; run `accord log verify`",
                    )
                ],
            )

    def _latest(self, conn: Connection) -> SignedCheckpoint | None:
        row = self._x(
            conn, "SELECT id, note, created_at FROM ledger_checkpoints ORDER BY id DESC LIMIT 1"
        ).first()
        return None if row is None else self._signed(row)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The most recently signed checkpoint, if any."""
        with self._connect() as conn:
            return self._latest(conn)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored checkpoint, oldest first."""
        with self._connect() as conn:
            rows = self._x(
                conn, "SELECT id, note, created_at FROM ledger_checkpoints ORDER BY id"
            ).all()
        return [self._signed(r) for r in rows]

    # -- verification ------------------------------------------------------------------------------

    def verify(
        self,
        *,
        verifiers: Sequence[Verifier] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> VerifyReport:
        """Recompute the whole log from its stored entries and compare with everything stored.

        Checks every bundle (in order, full but the last, well formed), every entry (canonical
        form), every stored hash row of every height against the recomputed tree (leaf hashes
        included; none missing, extra or short), the tree head and every checkpoint (size, root,
        origin, and signatures by ``verifiers``). Raises :class:`IntegrityError` listing what
        differs and where. ``progress(done, total)`` is called as entries are read.
        """
        problems = _Problems()
        with self._connect() as conn:
            state = self._state(conn)
            total = state[0] if state else 0
            opts = {"stream_results": True} if conn.dialect.supports_server_side_cursors else {}
            streaming = conn.execution_options(**opts)

            # Entries: chunks in order, each full but the last, each entry canonical.
            leaves: list[bytes] = []  # the leaf hashes of each chunk, concatenated
            done = 0
            expected_chunk = 0
            short: int | None = None
            sql = "SELECT id, data FROM ledger_bundles ORDER BY id"
            for part in self._x(streaming, sql).partitions(256):
                for cid, data in part:
                    number = int(cid)
                    where = f"ledger_bundles(index={number})"
                    if number != expected_chunk:
                        problems.add(
                            "chunks of entries are missing or out of order",
                            path=where,
                            expected=f"chunk {expected_chunk}",
                            found=f"chunk {number}",
                        )
                    expected_chunk = number + 1
                    if short is not None:
                        problems.add(
                            "a chunk of entries before this one is not full",
                            path=where,
                            found=f"chunk {short} is partial",
                        )
                        short = None
                    try:
                        items = _unbundle(bytes(data), _CHUNK + 1)
                    except ValueError as exc:
                        problems.add(f"the chunk of entries is malformed: {exc}", path=where)
                        continue
                    if len(items) > _CHUNK:
                        problems.add(
                            "the chunk holds too many entries",
                            path=where,
                            expected=f"at most {_CHUNK}",
                            found=f"more than {_CHUNK}",
                        )
                        continue
                    if len(items) < _CHUNK:
                        short = number
                    for k, item in enumerate(items):
                        try:
                            Entry.from_bytes(item)
                        except InputError as exc:
                            problems.add(
                                f"the entry is not a valid canonical entry: {exc.message}",
                                path=f"{where}[{k}].entry",
                            )
                    leaves.append(leaf_hashes(items))
                    done += len(items)
                    if progress is not None and not number % _CHUNKS:
                        progress(done, total)
            if progress is not None:
                progress(done, total)

            # Recompute every height; the stored hash rows must be exactly these.
            levels = [b"".join(leaves)]
            del leaves
            while len(levels[-1]) >= 64:
                levels.append(parent_hashes(levels[-1]))
            size = len(levels[0]) // 32
            root = merkle.fold(
                [levels[lv][i * 32 : i * 32 + 32] for lv, i in merkle.range_pairs(0, size)]
            )
            nodes = 0
            seen = [0] * len(levels)
            sql = "SELECT id, data FROM ledger_tiles ORDER BY id"
            for part in self._x(streaming, sql).partitions(256):
                for rid, data in part:
                    height, index = int(rid) >> _LEVEL_SHIFT, int(rid) & _ID_MASK
                    where = f"ledger_tiles(height={height}, index={index})"
                    stored = bytes(data)
                    want = (
                        levels[height][index * _ROW_BYTES : (index + 1) * _ROW_BYTES]
                        if height < len(levels)
                        else b""
                    )
                    if not want:
                        problems.add("a stored hash row does not belong to the tree", path=where)
                        continue
                    seen[height] += 1
                    if height:
                        nodes += len(stored) // 32
                    if stored == want:
                        continue
                    if len(stored) != len(want):
                        problems.add(
                            "a stored hash row has the wrong number of hashes",
                            path=where,
                            expected=str(len(want) // 32),
                            found=f"{len(stored)} bytes",
                        )
                        continue
                    k = (
                        next(
                            j
                            for j in range(0, len(want), 32)
                            if stored[j : j + 32] != want[j : j + 32]
                        )
                        // 32
                    )
                    if height == 0:
                        leaf = index * _ROW + k
                        problems.add(
                            "the entry bytes do not match their stored leaf hash",
                            path=f"ledger_bundles(index={leaf >> _CHUNK_SHIFT})"
                            f"[{leaf & (_CHUNK - 1)}].entry",
                            found=f"{where}[{k}]",
                        )
                    else:
                        problems.add(
                            "a stored interior hash differs from the recomputed one",
                            path=f"{where}[{k}]",
                        )
            for height, lv in enumerate(levels):
                want_rows = (len(lv) + _ROW_BYTES - 1) // _ROW_BYTES
                if seen[height] < want_rows:
                    problems.add(
                        "hash rows are missing",
                        path=f"ledger_tiles(height={height})",
                        expected=f"{want_rows} rows",
                        found=str(seen[height]),
                    )

            def root_at(n: int) -> bytes:
                parts = merkle.range_pairs(0, n)
                return merkle.fold([levels[lv][i * 32 : i * 32 + 32] for lv, i in parts])

            if state is None:
                if size:
                    problems.add("the tree head is missing", path="ledger_state")
            elif state != (size, root):
                problems.add(
                    "the tree head differs from the recomputed tree",
                    path="ledger_state",
                    expected=f"size {size}, root {root.hex()}",
                    found=f"size {state[0]}, root {state[1].hex()}",
                )

            rows = self._x(
                conn, "SELECT id, size, root, note FROM ledger_checkpoints ORDER BY id"
            ).all()
        signatures = 0
        last_size = 0
        first_origin = ""
        for cid, csize, croot, note in rows:
            where = f"ledger_checkpoints(id={cid})"
            try:
                parsed = Note.from_text(str(note))
                cp = Checkpoint.from_text(parsed.text)
            except InputError as exc:
                problems.add(f"the checkpoint does not parse: {exc.message}", path=where)
                continue
            if (cp.size, cp.root) != (int(csize), bytes(croot)):
                problems.add("the checkpoint's columns differ from its signed note", path=where)
            first_origin = first_origin or cp.origin
            if cp.origin != first_origin:
                problems.add(
                    "the checkpoint names another origin than the log's first checkpoint",
                    path=where,
                    expected=first_origin,
                    found=cp.origin,
                )
            if cp.size > size:
                problems.add(
                    "the checkpoint is larger than the log",
                    path=where,
                    expected=f"size ≤ {size}",
                    found=str(cp.size),
                )
            elif root_at(cp.size) != cp.root:
                problems.add("the checkpoint's root differs from the recomputed tree", path=where)
            if cp.size < last_size:
                problems.add(
                    "checkpoints go backwards",
                    path=where,
                    expected=f"size ≥ {last_size}",
                    found=str(cp.size),
                )
            last_size = max(last_size, cp.size)
            if verifiers:
                try:
                    parsed.verified_by(verifiers)
                    signatures += 1
                except IntegrityError as exc:
                    problems.add(f"checkpoint signature: {exc.message}", path=where)
        if problems.items:
            diags = list(problems.items)
            if problems.more:
                diags.append(Diagnostic(f"… and {problems.more} more problem(s)"))
            raise IntegrityError(f"the log failed verification ({len(diags)} problem(s))", diags)
        return VerifyReport(size, root, nodes, len(rows), signatures)
