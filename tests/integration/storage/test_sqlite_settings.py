"""The SQLite connections' settings: durable WAL everywhere, a large page cache for the writer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from accord.storage.db import WRITER_CACHE_KIB, Database


def test_the_writer_has_a_large_page_cache_and_every_connection_is_durable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with db.write() as session:
            assert session.execute(text("PRAGMA cache_size")).scalar() == -WRITER_CACHE_KIB
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        with db.read() as session:
            assert session.execute(text("PRAGMA cache_size")).scalar() == -2000
            assert session.execute(text("PRAGMA synchronous")).scalar() == 2
    finally:
        db.dispose()
