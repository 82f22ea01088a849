"""The job engine without a consumer process, and a web app that leaves it the once-only work.

Queue choice, nudges after commit, the drain, its lock, its schedule.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import RedisHuey, SqliteHuey
from huey.exceptions import TaskLockedException
from pydantic import ValidationError
from sqlmodel import Session, select

from devtools.mailserver import LocalMailServer
from mioapp.db import run_after_commit
from mioapp.jobs import build_huey, huey
from mioapp.jobs.__main__ import import_tasks
from mioapp.jobs.outbox import BATCH, drain, outbox_lock, send_outbox, send_outbox_every_minute
from mioapp.jobs.payments import settle_payments, sweep_lock
from mioapp.models import Customer, EmailMessage, EmailStatus
from mioapp.notifications.outbox import queue_email
from mioapp.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue() -> Iterator[None]:
    """This process's job queue (SQLite in the test run's DATA_DIR), empty; no consumer reads it."""
    huey.flush()
    yield
    huey.flush()


def _nudges() -> int:
    return sum(1 for task in huey.pending() if task.name == send_outbox.task_class.__name__)


def _queue(session: Session, key: str, to: str = "ana@example.test") -> EmailMessage | None:
    return queue_email(
        session,
        dedupe_key=key,
        kind="payment_link",
        to_address=to,
        context={
            "customer_name": "Ana Lima",
            "bookings": [],
            "amount": 12_000,
            "currency": "usd",
            "pay_url": "https://pay.example.test/pay/tok-abc",
            "expires_at": datetime(2031, 6, 21, tzinfo=UTC),
        },
    )


def test_queue_is_a_sqlite_file_in_data_dir_without_redis(tmp_path: Path) -> None:
    queue = build_huey(Settings(_env_file=None, data_dir=tmp_path, job_queue="site-a"))
    assert isinstance(queue, SqliteHuey)
    assert queue.name == "site-a"
    assert queue.storage.filename == str(tmp_path / "jobs.db")
    assert (tmp_path / "jobs.db").exists()


def test_queue_is_redis_when_redis_url_is_set(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/3", job_queue="b"
    )
    queue = build_huey(settings)
    assert isinstance(queue, RedisHuey)
    assert queue.name == "b"
    connection = queue.storage.conn.connection_pool.connection_kwargs
    assert connection["db"] == 3
    # An unreachable Redis fails a commit's nudge in seconds instead of hanging it.
    assert connection["socket_connect_timeout"] == 5.0
    assert not (tmp_path / "jobs.db").exists()


def test_more_than_one_web_worker_needs_redis(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="REDIS_URL"):
        Settings(_env_file=None, data_dir=tmp_path, web_workers=2)
    settings = Settings(
        _env_file=None, data_dir=tmp_path, web_workers=2, redis_url="redis://127.0.0.1:6379/0"
    )
    assert settings.web_workers == 2


def test_commit_that_queued_emails_enqueues_one_nudge_after_commit(
    session: Session, queue: None
) -> None:
    assert _queue(session, "receipt:payment:1") is not None
    assert _queue(session, "receipt:payment:2", to="ben@example.test") is not None
    session.flush()
    # Each email sits in a savepoint that was released: still nothing may be enqueued, or a
    # consumer could look for the emails before they exist for it.
    assert _nudges() == 0

    session.commit()

    assert _nudges() == 1
    assert len(session.exec(select(EmailMessage)).all()) == 2


def test_rolled_back_email_enqueues_nothing(session: Session, queue: None) -> None:
    assert _queue(session, "receipt:payment:3") is not None
    session.rollback()

    assert _nudges() == 0
    # The session goes on: a later transaction without email enqueues nothing either.
    session.add(Customer(name="Ana Lima", email="ana@example.test"))
    session.commit()
    assert _nudges() == 0


def test_an_email_queued_before_is_not_queued_again_and_enqueues_nothing(
    session: Session, queue: None
) -> None:
    _queue(session, "receipt:payment:4")
    session.commit()
    assert _nudges() == 1

    assert _queue(session, "receipt:payment:4") is None
    session.commit()
    assert _nudges() == 1


def test_a_failing_after_commit_callback_is_logged_and_the_commit_stands(
    session: Session, engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable_queue() -> None:
        raise ConnectionError("queue down")

    session.add(Customer(name="Ana Lima", email="ana@example.test"))
    run_after_commit(session, unreachable_queue)
    with caplog.at_level(logging.ERROR, logger="mioapp.db"):
        session.commit()

    assert "queue down" in caplog.text
    with Session(engine) as fresh:
        assert fresh.exec(select(Customer.email)).all() == ["ana@example.test"]


@pytest.fixture
def outbox_mailbox(mailbox: LocalMailServer, monkeypatch: pytest.MonkeyPatch):
    """The local SMTP server, and this process's SMTP_URL pointing at it (the drain reads
    its settings like a consumer does)."""
    monkeypatch.setenv("SMTP_URL", mailbox.url)
    get_settings.cache_clear()
    yield mailbox
    get_settings.cache_clear()


def test_drain_sends_every_due_email_batch_after_batch(
    session: Session, engine: sa.Engine, outbox_mailbox: LocalMailServer
) -> None:
    mailbox = outbox_mailbox
    count = 2 * BATCH + 5
    for n in range(count):
        _queue(session, f"receipt:payment:{n}", to=f"c{n}@example.test")
    session.commit()

    assert drain() == count

    assert sorted(m["To"] for m in mailbox.messages()) == sorted(
        f"c{n}@example.test" for n in range(count)
    )
    with Session(engine) as fresh:
        statuses = fresh.exec(select(EmailMessage.status)).all()
    assert statuses == [EmailStatus.SENT] * count
    assert drain() == 0


def test_only_one_drain_runs_at_a_time(
    session: Session, outbox_mailbox: LocalMailServer, queue: None
) -> None:
    mailbox = outbox_mailbox
    _queue(session, "receipt:payment:5")
    session.commit()

    with outbox_lock, pytest.raises(TaskLockedException):
        send_outbox.call_local()
    assert mailbox.messages() == []

    assert send_outbox.call_local() == 1
    assert len(mailbox.messages()) == 1


def test_the_outbox_is_swept_every_minute_by_hueys_scheduler() -> None:
    sweep = send_outbox_every_minute.task_class.__name__
    for moment in (datetime(2031, 6, 14, hour, minute) for hour in (0, 13) for minute in range(60)):
        assert sweep in [task.name for task in huey.read_periodic(moment)]


def test_the_payments_are_swept_every_minute_one_sweep_at_a_time() -> None:
    name = settle_payments.task_class.__name__
    for moment in (datetime(2031, 6, 14, hour, minute) for hour in (0, 13) for minute in range(60)):
        assert name in [task.name for task in huey.read_periodic(moment)]
    with sweep_lock, pytest.raises(TaskLockedException):
        settle_payments.call_local()


def test_the_consumer_imports_every_task_module() -> None:
    assert import_tasks() == ["mioapp.jobs.outbox", "mioapp.jobs.payments"]


# Lifespan tasks every web worker must run for itself: each serves the tabs connected to its
# own process (and does nothing that must happen once).
PER_PROCESS_LIFESPAN_TASKS = {"mioapp.ui.live"}  # change notices to this process's open pages


def test_the_web_app_leaves_once_only_work_to_the_jobs() -> None:
    """Every web worker runs the app's lifespan tasks and threads, so none may do work that
    must happen once (sending mail, sweeps): that belongs to the job consumer."""
    script = """
import json, threading
from mioapp.mioapp import app
tasks = [getattr(getattr(t, "func", t), "__module__", "") for t in app.get_lifespan_tasks()]
print(json.dumps({"tasks": tasks, "threads": [t.name for t in threading.enumerate()]}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["tasks"], "Reflex registers its own lifespan tasks; the probe saw none"
    ours = {m for m in found["tasks"] if not m.startswith("reflex.")}
    assert ours <= PER_PROCESS_LIFESPAN_TASKS
    assert found["threads"] == ["MainThread"]

    sources = {p: p.read_text() for p in (ROOT / "mioapp").rglob("*.py")}
    for needle in ("threading.Thread", "threading.Timer"):
        assert [str(p) for p, text in sources.items() if needle in text] == [], needle
