"""Connection settings every engine gets: SQLite behaves like a server database where it can."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on, WAL so readers don't block the writer, wait for locks rather than fail."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def lock_row(session, table: type, row_id: int) -> None:
    """Hold `row_id` of `table` until the transaction ends, so concurrent writers queue.

    A no-op UPDATE takes the row lock on PostgreSQL and the database write lock on SQLite
    (where SELECT ... FOR UPDATE means nothing), so one idiom serialises both.
    """
    pk = table.__table__.c.id
    session.execute(sa.update(table.__table__).where(pk == row_id).values(id=pk))
