"""Database plumbing: engine settings, this process's engine, after-commit work, fork safety.

Every engine gets the SQLite pragmas; jobs and scripts share one engine per process; work
can wait for a transaction's commit; pooled connections never cross a fork.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from mioapp.settings import get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

_engine: sa.Engine | None = None
_engine_lock = threading.Lock()
_AFTER_COMMIT = "mioapp.after_commit"


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on, WAL so readers don't block the writer, wait for locks rather than fail."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def create_engine(url: str) -> sa.Engine:
    """An engine with the app's settings; `get_engine()` keeps one per process."""
    if url.startswith("sqlite"):
        # Job threads share the pool: a connection may be returned by one and taken by another.
        return sa.create_engine(url, connect_args={"check_same_thread": False})
    engine = sa.create_engine(url)
    _ping_idle_connections(engine)
    return engine


# A pooled connection back in use within this many seconds is not pinged first.
PING_IDLE_AFTER = 1.0
_CHECKED_IN = "mioapp.checked_in"


def _ping_idle_connections(engine: sa.Engine) -> None:
    """A database restart or an idle timeout must cost a reconnect, not a failed job: a
    connection taken from the pool after PING_IDLE_AFTER seconds of rest is pinged first,
    and replaced if dead (SQLAlchemy's `pool_pre_ping`, minus its round trip on every
    checkout of a busy process: a charge makes two). A connection that died within that
    second fails its unit of work, which rolls back whole; SQLAlchemy then replaces every
    pooled connection of that age."""

    @sa.event.listens_for(engine, "checkin")
    def _rested(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        rested = record.info.pop(_CHECKED_IN, None)  # None: connected just now
        if rested is None or time.monotonic() - rested < PING_IDLE_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another (or a new one).
            raise sa.exc.DisconnectionError() from exc


def get_engine() -> sa.Engine:
    """This process's engine on DATABASE_URL: the app's units of work, jobs and scripts
    (Reflex keeps its own for rx.session)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = create_engine(get_settings().resolved_database_url)
        return _engine


def open_session() -> Session:
    """A session on `get_engine()`: `with open_session() as session: ...`."""
    return Session(get_engine())


def run_after_commit(session: OrmSession, callback: Callable[[], object]) -> None:
    """Call `callback` once the transaction `session` is in commits; never if it rolls back.

    A callback added several times in one transaction runs once. It runs after the data is
    visible to other processes, so a job it enqueues finds what it is meant to work on. Its
    errors are logged, not raised: the commit has happened and must not look failed.
    """
    session.info.setdefault(_AFTER_COMMIT, {})[callback] = None


def customers_flushed(
    session: OrmSession, customer_of: Callable[[OrmSession, object], int | None]
) -> set[int]:
    """For an `after_flush` listener: the customers of the rows this flush added, changed or
    deleted, as `customer_of` names them (None: the row has no customer)."""
    ids = (customer_of(session, obj) for obj in (*session.new, *session.dirty, *session.deleted))
    return {customer_id for customer_id in ids if customer_id is not None}


@sa.event.listens_for(OrmSession, "after_commit")
def _run_callbacks(session: OrmSession) -> None:
    # A savepoint's release fires this event too, while the outer transaction goes on.
    if session.in_nested_transaction():
        return
    for callback in session.info.pop(_AFTER_COMMIT, {}):
        try:
            callback()
        except Exception:
            logger.exception("After-commit callback %r failed", callback)


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_callbacks(session: OrmSession, transaction) -> None:
    # The outermost transaction ended without a commit (rollback or close): drop its callbacks.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


def _forget_pools_after_fork() -> None:
    """In a forked child, drop the parent's pooled connections without closing them.

    A worker forked after its parent used the database (Granian forks its workers from a
    process that has imported the app) would share the parent's sockets: PostgreSQL then
    fails with "can't change 'autocommit' now" or "server closed the connection". The child
    opens its own; `close=False` leaves the parent's connections alone.
    """
    global _engine_lock
    # Another thread of the parent may have held the lock at the fork; it never releases here.
    _engine_lock = threading.Lock()
    if _engine is not None:
        _engine.dispose(close=False)
    # Reflex caches its engines (rx.session, rx.asession) per URL in reflex.model.
    reflex_model = sys.modules.get("reflex.model")
    if reflex_model is not None:
        for engine in getattr(reflex_model, "_ENGINE", {}).values():
            engine.dispose(close=False)
        for async_engine in getattr(reflex_model, "_ASYNC_ENGINE", {}).values():
            async_engine.sync_engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_after_fork)


# The locking statements of each table, built once: the charge flows run them on every call.
@lru_cache(maxsize=64)
def _lock_statement(table: type) -> sa.Update:
    pk = table.__table__.c.id
    return sa.update(table.__table__).where(pk == sa.bindparam("row_id")).values(id=pk)


@lru_cache(maxsize=64)
def _lock_and_get_statement(table: type) -> sa.Select:
    return (
        sa.select(table)
        .where(table.__table__.c.id == sa.bindparam("row_id"))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def lock_row(session, table: type, row_id: int) -> None:
    """Hold `row_id` of `table` until the transaction ends, so concurrent writers queue.

    A no-op UPDATE takes the row lock on PostgreSQL and the database write lock on SQLite
    (where SELECT ... FOR UPDATE means nothing), so one idiom serialises both.
    """
    session.execute(_lock_statement(table), {"row_id": row_id})


def lock_and_get(session, table: type[T], row_id: int) -> T | None:
    """`lock_row`, then the row as the lock found it (the object in the session refreshed
    from it); None if there is no such row. One statement on PostgreSQL: SELECT ... FOR NO
    KEY UPDATE, the lock `lock_row`'s UPDATE takes, without writing a row version."""
    if session.get_bind().dialect.name == "postgresql":
        statement = _lock_and_get_statement(table)
        return session.execute(statement, {"row_id": row_id}).scalars().first()
    lock_row(session, table, row_id)
    return session.get(table, row_id, populate_existing=True)


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
    """The app's database, on this process's engine (`get_engine`)."""
    return Database(get_engine())
