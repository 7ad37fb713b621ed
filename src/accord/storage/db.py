"""Database engines and sessions: reads on their own connections, writes through one lock.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``: readers never block the writer, and
writes are serialised through one in-process lock, an exclusive ``flock`` on
``<database>-writer.lock`` (shared with other processes: server workers, the CLI) and
``BEGIN IMMEDIATE``, so a second process waits for its turn instead of failing half-way.
PostgreSQL uses one pooled engine; writes in a process go through the same lock, and the log's
head row serialises appends between processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from accord.errors import Diagnostic, StorageError

#: Pooled read connections. FastAPI runs sync work on up to 40 worker threads (anyio's default),
#: and SQLite connections are cheap to keep, so every thread keeps its connection instead of
#: opening (and configuring) one per request.
READ_POOL_SIZE = 40
#: Pooled connections to PostgreSQL kept open (more are opened under load, up to READ_POOL_SIZE).
PG_POOL_SIZE = 10


class JSONText(str):
    """JSON already encoded (e.g. RFC 8785 bytes computed for a digest): stored as it is in a
    ``JSON`` column instead of being encoded again."""

    __slots__ = ()


def _json_dumps(value: object) -> str:
    if type(value) is JSONText:
        return str.__str__(value)
    return json.dumps(value)


def _sqlite_engine(url: str, *, begin: str, pool_size: int, cache_kib: int = 2000) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        max_overflow=pool_size,
        json_serializer=_json_dumps,
        # The driver runs in autocommit mode (below): a transaction is only ever the one
        # SQLAlchemy began and ends itself (commit, or rollback when a connection is closed
        # inside it), so a returned connection is never inside one; no reset round trip.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: this runs for every transaction, and SQLAlchemy's execution
        # path (events, an execution context, a result) costs more than the statement.
        conn.connection.driver_connection.execute(begin)

    return engine


class _ProcessLock:
    """An exclusive ``flock`` on a file next to the SQLite database, held around each write
    transaction so that writers in other processes (``accord serve --workers N``, the CLI) queue
    in the kernel and wake the moment it is released, instead of polling SQLite's busy handler
    (which sleeps up to 100 ms between tries). SQLite's own locking still guards the data."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: Page cache of the write connection, in KiB (SQLite's default, 2,000, for the readers).
WRITER_CACHE_KIB = 64 * 1024


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
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=READ_POOL_SIZE)
            # The one writer keeps the hot pages of every table and index it appends to in memory
            # as the database grows (SQLite's default is 2 MB per connection).
            self.write_engine = _sqlite_engine(
                url, begin="BEGIN IMMEDIATE", pool_size=1, cache_kib=WRITER_CACHE_KIB
            )
        else:
            self.read_engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=PG_POOL_SIZE,
                max_overflow=READ_POOL_SIZE - PG_POOL_SIZE,
                json_serializer=_json_dumps,
            )
            self.write_engine = self.read_engine
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self.write_lock = threading.RLock()
        #: The group commit's connection, kept between its transactions (see write_connection).
        self._writer: Connection | None = None
        self._depth = 0
        self._process_lock = (
            _ProcessLock(f"{parsed.database}-writer.lock") if self.dialect == "sqlite" else None
        )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Be the only writer: this process's write lock, and on SQLite the lock shared with other
        processes (re-entrant; held until the outermost exit)."""
        with self.write_lock:
            if self._depth == 0 and self._process_lock is not None:
                self._process_lock.acquire()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._process_lock is not None:
                    self._process_lock.release()

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
        with self.exclusive(), self._write_sessions() as session:
            try:
                with session.begin():
                    yield session
            except SQLAlchemyError as exc:
                raise StorageError(
                    "the database could not be written", [Diagnostic(str(exc.__class__.__name__))]
                ) from exc

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """:meth:`write` as a Core connection, for writers that need no ORM session (the group
        commit): the same transaction, lock and errors, for less work per transaction. The
        connection is kept between transactions (only the holder of the write lock uses it);
        one that failed is dropped, and the next transaction opens another."""
        with self.exclusive():
            connection = self._writer
            if connection is None or connection.closed or connection.invalidated:
                connection = self._writer = self.write_engine.connect()
            try:
                with connection.begin():
                    yield connection
            except SQLAlchemyError as exc:
                self._drop_writer()
                raise StorageError(
                    "the database could not be written", [Diagnostic(str(exc.__class__.__name__))]
                ) from exc
            except BaseException:
                if connection.in_transaction():  # pragma: no cover - begin() rolled it back
                    self._drop_writer()
                raise

    def _drop_writer(self) -> None:
        connection, self._writer = self._writer, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        with self.write_lock:
            self._drop_writer()
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()
        if self._process_lock is not None:
            with self.write_lock:
                self._process_lock.close()
