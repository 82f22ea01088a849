"""The outbox sender against a real local SMTP server: delivery, retries, give-up, no doubles."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from devtools.mailserver import LocalMailServer, start_mail_server
from devtools.stripe_emulator.launcher import free_port
from mioapp.models import EmailMessage, EmailStatus, utcnow
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.sender import (
    MAX_ATTEMPTS,
    backoff,
    parse_smtp_url,
    send_due,
)

MAIL_FROM = "Lagoon Adventures <payments@lagoon-adventures.test>"
PAY_URL = "https://pay.example.test/pay/tok-abc"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMailServer]:
    server = start_mail_server(free_port(), tmp_path_factory.mktemp("mail"))
    yield server
    server.stop()


@pytest.fixture
def mailbox(mail_server: LocalMailServer) -> LocalMailServer:
    mail_server.clear()
    return mail_server


def _queue(session: Session, key: str, to: str = "ana@example.test") -> EmailMessage:
    message = queue_email(
        session,
        dedupe_key=key,
        kind="payment_link",
        to_address=to,
        context={
            "customer_name": "Ana Lima",
            "bookings": [
                {
                    "tour_name": "Sunset Kayak Tour",
                    "starts_at": datetime(2031, 6, 14, 9, 30, tzinfo=UTC),
                    "participants": 2,
                    "amount": 12_000,
                }
            ],
            "amount": 12_000,
            "currency": "usd",
            "pay_url": PAY_URL,
            "expires_at": datetime(2031, 6, 21, tzinfo=UTC),
        },
    )
    assert message is not None
    session.commit()
    return message


def _stored(engine: sa.Engine, message_id: int) -> EmailMessage:
    with Session(engine) as fresh:
        return fresh.exec(select(EmailMessage).where(EmailMessage.id == message_id)).one()


def _unreachable_url() -> str:
    return f"smtp://mailer:s3cret@127.0.0.1:{free_port()}"


def test_due_email_arrives_with_text_and_html_and_is_marked_sent(
    session: Session, engine: sa.Engine, mailbox: LocalMailServer
) -> None:
    message = _queue(session, "link:1:sent")

    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM) == 1

    [received] = mailbox.messages()
    assert received["To"] == "ana@example.test"
    assert received["From"] == MAIL_FROM
    assert received["Subject"] == "Payment request from Lagoon Adventures: $120.00"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert f"Complete Payment: {PAY_URL}" in text
    assert f'href="{PAY_URL}"' in html and "Complete Payment" in html
    assert len(list(mailbox.store_dir.glob("*.eml"))) == 1

    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.SENT
    assert stored.sent_at is not None
    assert stored.attempts == 0

    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM) == 0
    assert len(mailbox.messages()) == 1


def test_email_not_yet_due_waits(
    session: Session, engine: sa.Engine, mailbox: LocalMailServer
) -> None:
    message = _queue(session, "link:2:sent")
    earlier = utcnow() - timedelta(minutes=1)

    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=earlier) == 0
    assert mailbox.messages() == []
    assert _stored(engine, message.id).status == EmailStatus.QUEUED


def test_unreachable_server_schedules_a_retry(
    session: Session, engine: sa.Engine, mailbox: LocalMailServer
) -> None:
    message = _queue(session, "link:3:sent")
    now = utcnow()

    assert send_due(session, smtp_url=_unreachable_url(), mail_from=MAIL_FROM, now=now) == 0

    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.QUEUED
    assert stored.attempts == 1
    assert stored.last_error and "s3cret" not in stored.last_error
    assert stored.next_attempt_at == now + timedelta(seconds=30)
    assert stored.sent_at is None

    # Not due again until the backoff has passed; then the real server gets it.
    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=now) == 0
    later = now + timedelta(seconds=31)
    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=later) == 1
    assert len(mailbox.messages()) == 1
    assert _stored(engine, message.id).status == EmailStatus.SENT


def test_gives_up_after_max_attempts(session: Session, engine: sa.Engine) -> None:
    message = _queue(session, "link:4:sent")
    url = _unreachable_url()
    now = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        # Each pass is past the previous backoff (capped at an hour).
        send_due(session, smtp_url=url, mail_from=MAIL_FROM, now=now + attempt * timedelta(hours=2))

    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.FAILED
    assert stored.attempts == MAX_ATTEMPTS
    assert stored.last_error

    send_due(session, smtp_url=url, mail_from=MAIL_FROM, now=now + timedelta(days=30))
    assert _stored(engine, message.id).attempts == MAX_ATTEMPTS


def test_two_workers_at_once_send_each_email_once(
    session: Session, engine: sa.Engine, mailbox: LocalMailServer
) -> None:
    ids = [_queue(session, f"receipt:payment:{n}", to=f"c{n}@example.test").id for n in range(12)]
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(engine) as own:
                barrier.wait(timeout=10)
                sent.append(send_due(own, smtp_url=mailbox.url, mail_from=MAIL_FROM, batch=8))
                sent.append(send_due(own, smtp_url=mailbox.url, mail_from=MAIL_FROM, batch=8))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(sent) == 12
    recipients = sorted(received["To"] for received in mailbox.messages())
    assert recipients == sorted(f"c{n}@example.test" for n in range(12))
    assert all(_stored(engine, message_id).status == EmailStatus.SENT for message_id in ids)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20) == timedelta(hours=1)


def test_smtp_url_forms() -> None:
    plain = parse_smtp_url("smtp://127.0.0.1:8025")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("127.0.0.1", 8025, False, None)
    secure = parse_smtp_url("smtps://user%40corp:p%3Ass@mail.example.test")
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        465,
        True,
        "user@corp",
        "p:ss",
    )
    assert parse_smtp_url("smtp+starttls://mail.example.test").starttls
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example.test")


def test_mail_server_clear_empties_memory_and_folder(mailbox: LocalMailServer) -> None:
    mime = MimeMessage()
    mime["From"], mime["To"], mime["Subject"] = "a@example.test", "b@example.test", "Hi"
    mime.set_content("hello")
    with smtplib.SMTP("127.0.0.1", mailbox.port) as client:
        client.send_message(mime)
    assert [m["Subject"] for m in mailbox.messages()] == ["Hi"]
    mailbox.clear()
    assert mailbox.messages() == []
    assert list(mailbox.store_dir.glob("*.eml")) == []
