"""Alembic environment: migrates the connection handed over by :func:`accord.storage.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from accord.ledger.store import metadata as ledger_metadata
from accord.storage.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=[Base.metadata, ledger_metadata],
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # pragma: no cover - plain ``alembic`` command line with sqlalchemy.url set
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///accord.db")
    with engine.begin() as conn:
        _run(conn)
