"""Migration 0006 splits the log's whole entry bundles into chunks of 64, on SQLite and
PostgreSQL, keeping every entry; its downgrade joins them back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from accord.ledger.entries import Entry
from accord.ledger.store import Ledger, join_chunks
from accord.storage.migrate import _config, current, upgrade


def _rows(engine: sa.Engine) -> dict[int, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, data FROM ledger_bundles ORDER BY id")).all()
    return {int(i): bytes(d) for i, d in rows}


def test_0006_splits_bundles_into_chunks_and_its_downgrade_joins_them(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        assert upgrade(engine, "0005") == "0005"
        log = Ledger(engine, origin="test.example/log", create=False)
        log.append([Entry("event", {"i": i}) for i in range(300)])
        with engine.begin() as conn:  # as the log was stored before 0006
            join_chunks(conn)
        whole = _rows(engine)
        assert sorted(whole) == [0, 1]
        assert upgrade(engine, "0006") == "0006"
        chunks = _rows(engine)
        assert sorted(chunks) == list(range(5))
        assert b"".join(chunks[i] for i in range(4)) == whole[0]
        assert chunks[4] == whole[1]
        fresh = Ledger(engine, origin="test.example/log", create=False)
        assert fresh.verify().size == 300
        config = _config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0005")
        assert current(engine) == "0005"
        assert _rows(engine) == whole
    finally:
        engine.dispose()
