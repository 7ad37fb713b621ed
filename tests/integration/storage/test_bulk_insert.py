"""BulkInsert stores exactly what SQLAlchemy's own insert stores (each value through its column
type, on SQLite and PostgreSQL), and a failed insert is a StorageError naming the table that
leaves nothing of the transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from accord.errors import StorageError
from accord.storage.bulk import BulkInsert
from accord.storage.db import Database, JSONText

_meta = sa.MetaData()
_things = sa.Table(
    "bulk_things",
    _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=True),
)
_COLUMNS = ("id", "day", "at", "doc", "n")


def _rows(prefix: str) -> list[tuple[Any, ...]]:
    at = datetime(2026, 11, 29, 1, 2, 3, tzinfo=UTC)
    return [
        (f"{prefix}-{i}", date(2026, 1, 1 + i), at, {"i": i, "text": "é ü"}, i or None)
        for i in range(5)
    ]


def _stored(db: Database, prefix: str) -> list[tuple[Any, ...]]:
    with db.read_engine.connect() as conn:
        rows = conn.execute(
            sa.select(_things).where(_things.c.id.like(f"{prefix}-%")).order_by(_things.c.id)
        ).all()
    return [(r.day, r.at.replace(tzinfo=None), r.doc, r.n) for r in rows]


def test_bulk_insert_stores_what_a_core_insert_stores(db_url: str) -> None:
    db = Database(db_url)
    try:
        _meta.create_all(db.write_engine)
        bulk = BulkInsert(_things, _COLUMNS)
        with db.write_connection() as conn:
            bulk.run(conn, _rows("bulk"))
            conn.execute(
                sa.insert(_things), [dict(zip(_COLUMNS, r, strict=True)) for r in _rows("core")]
            )
            # Encoded JSON is stored as it is.
            bulk.run(conn, [("raw-0", date(2026, 1, 1), datetime.now(UTC), JSONText('{"i":0}'), 1)])
        assert _stored(db, "bulk") == _stored(db, "core")
        assert _stored(db, "raw")[0][2] == {"i": 0}
    finally:
        db.dispose()


def test_a_failed_bulk_insert_names_the_table_and_leaves_nothing(db_url: str) -> None:
    db = Database(db_url)
    try:
        _meta.create_all(db.write_engine)
        bulk = BulkInsert(_things, _COLUMNS)
        rows = _rows("dup")

        def write() -> None:
            with db.write_connection() as conn:
                bulk.run(conn, rows[:2])
                bulk.run(conn, rows[1:3])  # dup-1 again

        with pytest.raises(StorageError) as info:
            write()
        assert info.value.diagnostics[0].path == "bulk_things"
        assert _stored(db, "dup") == []
        # The write connection (kept between transactions) was rolled back: the next one works.
        with db.write_connection() as conn:
            bulk.run(conn, rows[3:])
        assert [r[3] for r in _stored(db, "dup")] == [3, 4]
    finally:
        db.dispose()


@pytest.mark.parametrize("per_statement", [1, 2, 4, 256])
def test_rows_split_across_statements_are_all_stored_in_order(
    db_url: str, per_statement: int
) -> None:
    """On PostgreSQL the rows go in multi-row statements of at most ``per_statement`` rows (the
    last one shorter); every row arrives once, whatever the split."""
    db = Database(db_url)
    try:
        _meta.create_all(db.write_engine)
        bulk = BulkInsert(_things, _COLUMNS)
        bulk._per_statement = per_statement
        with db.write_connection() as conn:
            bulk.run(conn, _rows("split"))
            conn.execute(
                sa.insert(_things), [dict(zip(_COLUMNS, r, strict=True)) for r in _rows("core")]
            )
        assert _stored(db, "split") == _stored(db, "core")
    finally:
        db.dispose()


def test_a_statement_stays_within_the_protocol_parameter_limit() -> None:
    wide = sa.Table(
        "bulk_wide", sa.MetaData(), *(sa.Column(f"c{i}", sa.Integer) for i in range(1000))
    )
    bulk = BulkInsert(wide, [f"c{i}" for i in range(1000)])
    assert bulk._per_statement * 1000 <= 65_535
    assert BulkInsert(_things, _COLUMNS)._per_statement == 256
