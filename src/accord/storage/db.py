"""Database engines and sessions: reads on their own connections, writes through one lock.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``: readers never block the writer, and
writes are serialised through one in-process lock and ``BEGIN IMMEDIATE`` (so a second process such
as ``accord users create`` waits for the lock instead of failing half-way). PostgreSQL uses one
pooled engine; writes go through the same lock because the ledger has a single sequencer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from accord.errors import Diagnostic, StorageError


def _sqlite_engine(url: str, *, begin: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        max_overflow=pool_size,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """The service's database: a read engine, a write engine and the write lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except SQLAlchemyError as exc:  # pragma: no cover - rejected by make_url
            raise StorageError(
                "not a database URL",
                [Diagnostic("cannot parse", path="database_url", found=url)],
            ) from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                raise StorageError(
                    "an in-memory SQLite database cannot be shared between connections",
                    [
                        Diagnostic(
                            "in-memory SQLite",
                            path="database_url",
                            found=url,
                            hint="give a file path, e.g. --db accord.db",
                        )
                    ],
                )
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=4)
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
        else:
            self.read_engine = create_engine(url, pool_pre_ping=True)
            self.write_engine = self.read_engine
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self.write_lock = threading.RLock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (its own connection; never blocks the writer)."""
        with self._read_sessions() as session:
            try:
                yield session
            except SQLAlchemyError as exc:
                raise StorageError(
                    "the database could not be read", [Diagnostic(str(exc))]
                ) from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction, serialised with every other write. Rolled back on any error."""
        with self.write_lock, self._write_sessions() as session:
            try:
                with session.begin():
                    yield session
            except SQLAlchemyError as exc:
                raise StorageError(
                    "the database could not be written", [Diagnostic(str(exc.__class__.__name__))]
                ) from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()
