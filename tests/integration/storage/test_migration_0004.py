"""Migration 0004 drops the indexes no query uses, on SQLite and PostgreSQL, and its downgrade
puts them back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from accord.storage.migrate import _config, current, upgrade

DROPPED = {
    ("decisions", "ix_decisions_created_at"),
    ("decisions", "ix_decisions_transfer_id"),
    ("transfers", "ix_transfers_org_id"),
}


def _indexes(engine: sa.Engine) -> set[tuple[str, str]]:
    inspector = sa.inspect(engine)
    return {
        (table, str(index["name"]))
        for table in ("decisions", "transfers")
        for index in inspector.get_indexes(table)
    }


def test_0004_drops_the_unused_indexes_and_its_downgrade_restores_them(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        assert upgrade(engine, "0003") == "0003"
        assert _indexes(engine) >= DROPPED
        assert upgrade(engine, "0004") == "0004"
        assert not (_indexes(engine) & DROPPED)
        # Kept: the ones the listings use.
        assert ("decisions", "ix_decisions_org_leaf") in _indexes(engine)
        assert ("decisions", "ix_decisions_outcome_leaf") in _indexes(engine)
        config = _config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        assert current(engine) == "0003"
        assert _indexes(engine) >= DROPPED
    finally:
        engine.dispose()
