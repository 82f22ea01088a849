"""The outbox sender against a real local SMTP server: delivery, retries, give-up, no doubles.

A small fault-injecting SMTP server stands in for a server whose reply gets lost.
"""

from __future__ import annotations

import secrets
import smtplib
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from devtools.mailserver import LocalMailServer
from devtools.stripe_emulator.launcher import free_port
from mioapp import crypto
from mioapp.models import EmailMessage, EmailStatus, utcnow
from mioapp.notifications import sender
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.sender import (
    MAX_ATTEMPTS,
    RETRIES_AFTER_UNCONFIRMED,
    backoff,
    parse_smtp_url,
    send_due,
)
from mioapp.settings import get_settings

MAIL_FROM = "Lagoon Adventures <payments@lagoon-adventures.test>"
PAY_TOKEN = secrets.token_urlsafe(32)
PAY_URL = f"https://pay.example.test/pay/{PAY_TOKEN}"


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
                    "reference": "BK-100001",
                    "tour_name": "Sunset Kayak Tour",
                    "starts_at": datetime(2031, 6, 14, 9, 30, tzinfo=UTC),
                    "participants": 2,
                    "total": 12_000,
                    "paid_before": 0,
                    "amount": 12_000,
                    "remaining": 0,
                    "is_deposit": False,
                }
            ],
            "amount": 12_000,
            "currency": "usd",
            "pay_url": PAY_URL,
            "expires_at": datetime(2031, 6, 21, tzinfo=UTC),
        },
        secret=PAY_TOKEN,
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
    assert PAY_TOKEN not in stored.text_body + stored.html_body
    assert stored.secret_encrypted is None, "the token is erased once the email is out"

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

    assert PAY_TOKEN not in stored.text_body + stored.html_body
    assert stored.secret_encrypted is not None, "the retry still needs the token"

    # Not due again until the backoff has passed; then the real server gets it, link and all.
    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=now) == 0
    later = now + timedelta(seconds=31)
    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=later) == 1
    [received] = mailbox.messages()
    assert f"Complete Payment: {PAY_URL}" in received.get_body(("plain",)).get_content()
    assert f'href="{PAY_URL}"' in received.get_body(("html",)).get_content()
    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.SENT
    assert stored.secret_encrypted is None


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
    assert stored.secret_encrypted is None, "nothing left to send: the token goes"

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


class FaultySmtpServer:
    """Just enough SMTP to take one message per connection, then a fault instead of the reply.

    `fault`: "drop" closes the connection once the whole message is in (the reply is lost);
    "silence" keeps it open and says nothing (the client times out); "drop_at_data" closes it
    when DATA is asked for, before any of the message has been sent.
    """

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self.received: list[MimeMessage] = []
        self.data_commands = 0
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 faulty.test ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"QUIT":
                        self.wfile.write(b"221 Bye\r\n")
                        return
                    if verb != b"DATA":
                        self.wfile.write(b"250 OK\r\n")  # EHLO, MAIL, RCPT, RSET, NOOP
                        continue
                    server.data_commands += 1
                    if server.fault == "drop_at_data":
                        return
                    self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    server.received.append(self._read_message())
                    if server.fault == "silence":
                        self.rfile.readline()  # until the client gives up and hangs up
                    return

            def _read_message(self) -> MimeMessage:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return BytesParser(policy=policy.default).parsebytes(b"".join(lines))

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def faulty_server(request: pytest.FixtureRequest) -> Iterator[FaultySmtpServer]:
    server = FaultySmtpServer(request.param)
    yield server
    server.stop()


def _passes(session: Session, url: str, count: int) -> None:
    """`count` sender passes, each past the backoff of the one before (capped at an hour)."""
    start = utcnow()
    for n in range(count):
        send_due(session, smtp_url=url, mail_from=MAIL_FROM, now=start + n * timedelta(hours=2))


@pytest.mark.parametrize("faulty_server", ["drop"], indirect=True)
def test_every_attempt_of_an_email_has_the_same_message_id_and_date(
    session: Session,
    engine: sa.Engine,
    mailbox: LocalMailServer,
    faulty_server: FaultySmtpServer,
) -> None:
    message = _queue(session, "link:same-headers:sent")
    now = utcnow()

    send_due(session, smtp_url=faulty_server.url, mail_from=MAIL_FROM, now=now)
    later = now + timedelta(minutes=5)
    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, now=later) == 1

    [lost] = faulty_server.received
    [delivered] = mailbox.messages()
    assert delivered["Message-ID"] and delivered["Date"]
    assert (lost["Message-ID"], lost["Date"]) == (delivered["Message-ID"], delivered["Date"])
    assert delivered["Date"].datetime.utcoffset() == timedelta(0), "stated as UTC"
    assert _stored(engine, message.id).status == EmailStatus.SENT


@pytest.mark.parametrize("faulty_server", ["drop", "silence"], indirect=True)
def test_a_lost_reply_after_the_whole_message_is_retried_only_once_more(
    session: Session,
    engine: sa.Engine,
    faulty_server: FaultySmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender, "SMTP_TIMEOUT", 1.0)  # "silence" ends in a timeout
    message = _queue(session, "link:lost-reply:sent")

    _passes(session, faulty_server.url, MAX_ATTEMPTS)

    # The first try and its capped retries, all recognisably the same email.
    assert len(faulty_server.received) == 1 + RETRIES_AFTER_UNCONFIRMED
    assert len({m["Message-ID"] for m in faulty_server.received}) == 1
    assert len({m["Date"] for m in faulty_server.received}) == 1
    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.UNCONFIRMED
    assert stored.attempts == 1 + RETRIES_AFTER_UNCONFIRMED
    assert "may have been delivered" in stored.last_error
    assert stored.secret_encrypted is None


@pytest.mark.parametrize("faulty_server", ["drop"], indirect=True)
def test_after_a_lost_reply_a_refused_connection_keeps_the_usual_retries(
    session: Session, engine: sa.Engine, faulty_server: FaultySmtpServer
) -> None:
    message = _queue(session, "link:lost-then-down:sent")
    now = utcnow()
    send_due(session, smtp_url=faulty_server.url, mail_from=MAIL_FROM, now=now)

    stored = _stored(engine, message.id)
    assert (stored.status, stored.attempts) == (EmailStatus.QUEUED, 1)
    assert "may have been delivered" in stored.last_error
    assert stored.next_attempt_at == now + backoff(1)

    # A server that can't be reached got nothing: those failures don't use up the cap.
    down = _unreachable_url()
    for n in range(1, 4):
        send_due(session, smtp_url=down, mail_from=MAIL_FROM, now=now + n * timedelta(hours=2))
    stored = _stored(engine, message.id)
    assert (stored.status, stored.attempts) == (EmailStatus.QUEUED, 4)
    assert stored.secret_encrypted is not None


@pytest.mark.parametrize("faulty_server", ["drop_at_data"], indirect=True)
def test_a_connection_lost_before_the_message_keeps_the_usual_retries(
    session: Session, engine: sa.Engine, faulty_server: FaultySmtpServer
) -> None:
    message = _queue(session, "link:drop-at-data:sent")

    _passes(session, faulty_server.url, MAX_ATTEMPTS + 2)

    assert faulty_server.data_commands == MAX_ATTEMPTS
    assert faulty_server.received == []
    stored = _stored(engine, message.id)
    assert (stored.status, stored.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert "may have been delivered" not in stored.last_error


def test_an_email_whose_token_cannot_be_decrypted_fails_for_good(
    session: Session, engine: sa.Engine, mailbox: LocalMailServer
) -> None:
    message = _queue(session, "link:other-key:sent")

    send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM, secret_key="another-secret-key")

    assert mailbox.messages() == [], "never sent with the link missing"
    stored = _stored(engine, message.id)
    assert stored.status == EmailStatus.FAILED
    assert "SECRET_KEY" in stored.last_error
    assert stored.secret_encrypted is None


def test_the_token_is_stored_encrypted_with_secret_key(session: Session, engine: sa.Engine) -> None:
    message = _queue(session, "link:encrypted:sent")

    stored = _stored(engine, message.id)
    assert PAY_TOKEN not in stored.text_body + stored.html_body + stored.secret_encrypted
    key = get_settings().secret_key_value()
    assert crypto.decrypt(stored.secret_encrypted, secret_key=key) == PAY_TOKEN
