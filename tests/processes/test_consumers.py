"""Two real job consumers on one queue deliver every queued email exactly once."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from devtools.mailserver import LocalMailServer
from devtools.stack import (
    CONSUMER_READY,
    CONSUMER_STOP_GRACE,
    ManagedProcess,
    start_consumer,
    wait_for_log,
)
from mioapp.jobs import huey
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications.outbox import queue_email
from tests.processes.helpers import wait_until

pytestmark = pytest.mark.processes

EMAILS = 30


@pytest.fixture
def consumers(
    session: Session, mailbox: LocalMailServer, tmp_path: Path
) -> Iterator[list[ManagedProcess]]:
    """Two consumers on this process's queue and database (the test run's DATA_DIR and
    DATABASE_URL), three threads each; stopped before `session` empties the tables."""
    huey.flush()
    env = dict(os.environ, SMTP_URL=mailbox.url, JOB_WORKERS="3", PYTHONUNBUFFERED="1")
    started = [start_consumer(env, tmp_path / f"consumer-{n}.log", f"consumer {n}") for n in (1, 2)]
    try:
        for consumer in started:
            wait_for_log(consumer, CONSUMER_READY, timeout=60)
        yield started
    finally:
        for consumer in started:
            consumer.stop(grace=CONSUMER_STOP_GRACE)
        huey.flush()


def _queue_receipt(session: Session, n: int) -> None:
    """One email in a transaction of its own, as the app commits them: one nudge each."""
    queue_email(
        session,
        dedupe_key=f"receipt:payment:{n}",
        kind="payment_link",
        to_address=f"customer{n}@example.test",
        context={
            "customer_name": f"Customer {n}",
            "bookings": [],
            "amount": 1_000 + n,
            "currency": "usd",
            "pay_url": f"https://pay.example.test/pay/tok-{n}",
            "expires_at": datetime(2031, 6, 21, tzinfo=UTC),
        },
    )
    session.commit()


def _statuses(engine: sa.Engine) -> list[EmailStatus]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(EmailMessage.status)).all())


def test_two_consumers_deliver_each_email_exactly_once(
    session: Session,
    engine: sa.Engine,
    mailbox: LocalMailServer,
    consumers: list[ManagedProcess],
) -> None:
    for n in range(EMAILS):
        _queue_receipt(session, n)

    wait_until(
        lambda: _statuses(engine) == [EmailStatus.SENT] * EMAILS,
        "every email to be marked sent",
        timeout=180,
    )
    # A second send of an email would happen before its (second) `sent` commit: once both
    # consumers have stopped, gracefully (a running task finishes), every send is in.
    for consumer in consumers:
        consumer.stop(grace=CONSUMER_STOP_GRACE)
        assert consumer.popen.returncode == 0, consumer.log_tail()
        assert "Consumer exiting" in consumer.log_path.read_text()

    received = Counter(str(message["To"]) for message in mailbox.messages())
    assert received == Counter(f"customer{n}@example.test" for n in range(EMAILS))
    assert len(list(mailbox.store_dir.glob("*.eml"))) == EMAILS
    # Both consumers took nudges off the one queue.
    executed = re.compile(r"Executing mioapp\.jobs\.outbox\.send_outbox:")
    for consumer in consumers:
        log = consumer.log_path.read_text()
        assert executed.search(log), consumer.log_tail()
        assert "Traceback" not in log, consumer.log_tail()
