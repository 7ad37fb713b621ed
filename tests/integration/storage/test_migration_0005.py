"""Migration 0005 re-keys ``decision_packs`` by ``(pack_id, leaf_index)`` in one B-tree, keeping
every row, on SQLite and PostgreSQL; its downgrade restores the old layout and rows."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from accord.storage.migrate import _config, current, upgrade

ROWS = {
    ("d1", "eu-gdpr-ch5", 0),
    ("d1", "uk-gdpr", 0),
    ("d2", "eu-gdpr-ch5", 7),
    ("d3", "us-dsp", 9),
}


def _seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for decision, leaf in {(d, leaf) for d, _p, leaf in ROWS}:
            conn.execute(
                sa.text(
                    "INSERT INTO transfers (id, document, created_at)"
                    " VALUES (:id, '{}', CURRENT_TIMESTAMP)"
                ),
                {"id": f"t-{decision}"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO decisions (id, transfer_id, outcome, as_of, decision, digest,"
                    " leaf_index, created_at) VALUES (:id, :t, 'permit', '2026-01-01', '{}',"
                    " 'x', :leaf, CURRENT_TIMESTAMP)"
                ),
                {"id": decision, "t": f"t-{decision}", "leaf": leaf},
            )
        for decision, pack, _leaf in ROWS:
            conn.execute(
                sa.text("INSERT INTO decision_packs (decision_id, pack_id) VALUES (:d, :p)"),
                {"d": decision, "p": pack},
            )


def test_0005_rekeys_decision_packs_and_its_downgrade_restores_them(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        assert upgrade(engine, "0004") == "0004"
        _seed(engine)
        assert upgrade(engine, "0005") == "0005"
        inspector = sa.inspect(engine)
        assert inspector.get_pk_constraint("decision_packs")["constrained_columns"] == [
            "pack_id",
            "leaf_index",
        ]
        assert inspector.get_indexes("decision_packs") == []
        with engine.connect() as conn:
            rows = set(conn.execute(sa.text("SELECT pack_id, leaf_index FROM decision_packs")))
            if engine.dialect.name == "sqlite":
                sql = conn.execute(
                    sa.text("SELECT sql FROM sqlite_master WHERE name = 'decision_packs'")
                ).scalar_one()
                assert "WITHOUT ROWID" in sql.upper()
            else:
                names = set(
                    conn.execute(
                        sa.text(
                            "SELECT conname FROM pg_constraint"
                            " WHERE conrelid = 'decision_packs'::regclass"
                        )
                    ).scalars()
                )
                assert all(n.startswith("decision_packs_") for n in names)
                assert not any("_new" in n for n in names)
        assert rows == {(pack, leaf) for _d, pack, leaf in ROWS}
        config = _config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
        assert current(engine) == "0004"
        with engine.connect() as conn:
            back = set(conn.execute(sa.text("SELECT decision_id, pack_id FROM decision_packs")))
        assert back == {(d, pack) for d, pack, _leaf in ROWS}
        assert {i["name"] for i in sa.inspect(engine).get_indexes("decision_packs")} == {
            "ix_decision_packs_pack_id"
        }
    finally:
        engine.dispose()
