"""The pool pings a connection that rested, and only then: a dead one is replaced unseen."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from mioapp import db

_URL = os.environ.get("TEST_DATABASE_URL", "")
SERVER = _URL if _URL.startswith("postgresql") else "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def engine():
    try:
        psycopg.connect(SERVER, connect_timeout=2).close()
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL at {SERVER} (TEST_DATABASE_URL); CI and dev machines have one")
    engine = db.create_engine(SERVER)
    yield engine
    engine.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def _kill(pid: int) -> None:
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_rested_connection_that_died_is_replaced(engine, monkeypatch) -> None:
    monkeypatch.setattr(db, "PING_IDLE_AFTER", 0.0)
    pid = _backend_pid(engine)
    _kill(pid)

    assert _backend_pid(engine) != pid  # pinged, found dead, replaced: no error


def test_a_connection_in_steady_use_is_not_pinged(engine, monkeypatch) -> None:
    monkeypatch.setattr(db, "PING_IDLE_AFTER", 3600.0)
    pid = _backend_pid(engine)
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection))

    assert _backend_pid(engine) == pid
    assert pings == []

    monkeypatch.setattr(db, "PING_IDLE_AFTER", 0.0)
    assert _backend_pid(engine) == pid
    assert len(pings) == 1
