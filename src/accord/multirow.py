"""Multi-row statements: one ``INSERT … VALUES (…), (…), …`` for many rows, on PostgreSQL.

A driver's ``executemany`` of a one-row statement still has the PostgreSQL server plan and run
one statement per row; the same rows as the values of one statement are planned and run once.
SQLite runs statements in process, so there ``executemany`` is as good and this is not used.
Both the service's bulk inserts (:mod:`accord.storage.bulk`) and the log's upserts
(:mod:`accord.ledger.store`) write their PostgreSQL batches through :class:`MultiRow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_PARAMETERS", "ROWS_PER_STATEMENT", "MultiRow", "rows_per_statement"]

#: Most rows in one statement: past a few hundred, longer statements save nothing more.
ROWS_PER_STATEMENT = 256
#: The PostgreSQL wire protocol's limit on parameters per statement.
MAX_PARAMETERS = 65_535


def rows_per_statement(width: int) -> int:
    """How many rows of ``width`` parameters one statement takes (within :data:`MAX_PARAMETERS`)."""
    return max(1, min(ROWS_PER_STATEMENT, MAX_PARAMETERS // max(1, width)))


class MultiRow:
    """A one-row statement ``sql`` whose ``values`` group (``"(%s,%s)"``, as written in ``sql``)
    is repeated for as many rows as a statement carries; the texts are made once per row count."""

    def __init__(self, sql: str, values: str) -> None:
        head, found, tail = sql.partition(values)
        if not found:
            raise ValueError(f"{values!r} is not in the statement {sql!r}")
        self._head, self._values, self._tail = head, values, tail
        self._texts: dict[int, str] = {}

    def text(self, count: int) -> str:
        """The statement for ``count`` rows."""
        text = self._texts.get(count)
        if text is None:
            text = self._texts[count] = self._head + ", ".join([self._values] * count) + self._tail
        return text

    def execute(self, cursor: Any, rows: Sequence[Sequence[Any]], per_statement: int) -> None:
        """Run the statement on a DBAPI ``cursor`` for ``rows``, ``per_statement`` at a time."""
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            cursor.execute(self.text(len(part)), [value for row in part for value in row])
