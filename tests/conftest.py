"""Shared fixtures: one database migrated by the real Alembic scripts, emptied after each test."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

import mioapp.models  # noqa: F401  (every table on SQLModel.metadata; mioapp.db's engine pragmas)
from devtools.cluster import drop_postgres_database, ensure_postgres_database
from devtools.mailserver import LocalMailServer, start_mail_server
from devtools.migrations import migrate
from devtools.stripe_emulator.launcher import free_port

# This process and every process the tests start (the app, job consumers) share one DATA_DIR
# and one DATABASE_URL, never the checkout's .data: an email a test queues nudges the job
# queue in DATA_DIR, where the consumer of the app under test listens. Set while this file is
# imported, before any test module or other conftest imports mioapp.jobs, whose queue is
# built from the settings at import. Tests that import `tests.conftest` (run_coroutine) load
# this file a second time, under another name: that copy keeps the folder of the first.
_RUN_DATA_DIR = "MIOAPP_TEST_RUN_DATA_DIR"
TEST_DATA_DIR = Path(os.environ.get(_RUN_DATA_DIR) or tempfile.mkdtemp(prefix="mio-tests-"))
os.environ[_RUN_DATA_DIR] = str(TEST_DATA_DIR)
os.environ["DATA_DIR"] = str(TEST_DATA_DIR)
# On PostgreSQL the run gets a database of its own on TEST_DATABASE_URL's server, created
# here and dropped at the end, so two runs on one server (two checkouts, CI beside a
# developer) never empty each other's tables.
_RUN_DATABASE_URL = "MIOAPP_TEST_RUN_DATABASE_URL"
_suite_url = os.environ.get("TEST_DATABASE_URL", "")
if os.environ.get(_RUN_DATABASE_URL):
    os.environ["DATABASE_URL"] = os.environ[_RUN_DATABASE_URL]
elif _suite_url.startswith("postgresql"):
    _server = make_url(_suite_url)
    _run_url = _server.set(
        database=f"{_server.database or 'test'}_run_{os.getpid()}_{secrets.token_hex(3)}"
    ).render_as_string(hide_password=False)
    ensure_postgres_database(_run_url)
    os.environ[_RUN_DATABASE_URL] = os.environ["DATABASE_URL"] = _run_url
else:
    os.environ["DATABASE_URL"] = _suite_url or f"sqlite:///{TEST_DATA_DIR / 'test.db'}"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(TEST_DATA_DIR, ignore_errors=True)
    run_url = os.environ.pop(_RUN_DATABASE_URL, None)
    if run_url:
        drop_postgres_database(run_url)


def run_coroutine(coroutine):
    """asyncio.run in a thread of its own: once the browser tests have run, Playwright's
    event loop is still running in the main thread, where asyncio.run would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def database_url() -> str:
    """`TEST_DATABASE_URL`, or a fresh SQLite file; also this process's DATABASE_URL."""
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        migrate(connection)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: sa.Engine) -> None:
    tables = SQLModel.metadata.sorted_tables
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(engine.dialect.identifier_preparer.format_table(t) for t in tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session on an empty database (the browser tests' demo data is cleared first too)."""
    _empty_all_tables(engine)
    with Session(engine) as session:
        yield session
    _empty_all_tables(engine)


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMailServer]:
    """The local SMTP server the sender tests deliver to (the browser tests have their own)."""
    server = start_mail_server(free_port(), tmp_path_factory.mktemp("mail"))
    yield server
    server.stop()


@pytest.fixture
def mailbox(mail_server: LocalMailServer) -> LocalMailServer:
    """The local SMTP server, emptied: `messages()` is what this test's emails delivered."""
    mail_server.clear()
    return mail_server


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, shared by every browser test (one Playwright per process)."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
