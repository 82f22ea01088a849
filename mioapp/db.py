"""Connection settings every engine gets: SQLite behaves like a server database where it can."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session

T = TypeVar("T")


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


class Database:
    """Runs units of work, each in one transaction, on worker threads.

    `await db.run(work)` calls `work(session)` inside `session.begin()` on a thread: the
    event loop never waits on the database, the work commits when it returns and rolls back
    everything if it raises. Objects it returns stay readable after the commit
    (`expire_on_commit=False`), detached from the session.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def transaction(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    async def run(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.transaction, work)


@lru_cache
def database() -> Database:
    """The app's database, from settings (one engine per process)."""
    from mioapp.settings import get_settings

    return Database(sa.create_engine(get_settings().resolved_database_url))
