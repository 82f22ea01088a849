"""Delivers queued outbox emails over SMTP, with retries and backoff (run by mioapp.jobs).

A failure before the server has the whole message is retried with backoff. A connection
lost after it (the server may have delivered it) is retried a capped number of times, with
the same Message-ID so mail clients fold any duplicate, then left as unconfirmed.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlmodel import Session

from mioapp.business import current_profile
from mioapp.crypto import DecryptionError, decrypt
from mioapp.models import EmailMessage, EmailStatus, utcnow
from mioapp.notifications import render
from mioapp.settings import get_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# A claimed message is due again after this, so a worker that died mid-send doesn't lose it.
CLAIM_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 20.0
# After a send whose reply was lost, the customer may have the email already: a duplicate
# is worth risking this many times, not MAX_ATTEMPTS times.
RETRIES_AFTER_UNCONFIRMED = 1


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect, parsed from SMTP_URL."""

    host: str
    port: int
    tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:pass@]host:port`; `smtps://` is implicit TLS, `smtp+starttls://` upgrades."""
    parts = urlsplit(url)
    defaults = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}
    if parts.scheme not in defaults:
        raise ValueError("SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host")
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or defaults[parts.scheme],
        tls=parts.scheme == "smtps",
        starttls=parts.scheme == "smtp+starttls",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts`: 30 s, 60 s, 2 min ... capped at an hour."""
    return min(BASE_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def build_mime(
    message: EmailMessage,
    mail_from: str,
    *,
    secret_key: str | None = None,
    reply_to: str | None = None,
) -> MimeMessage:
    """A multipart/alternative message: plain text first, HTML preferred by capable clients.

    The message's secret, decrypted with `secret_key` (default: the app's SECRET_KEY), goes
    back into its slot in both parts; DecryptionError if that key can't decrypt it. An
    email to a customer carries `reply_to` (the business's address), so an answer reaches
    the business rather than the sending mailbox.
    """
    text, html = message.text_body, message.html_body
    if message.secret_encrypted is not None:
        secret = decrypt(
            message.secret_encrypted, secret_key=secret_key or get_settings().secret_key_value()
        )
        text, html = render.with_secret(text, secret), render.with_secret(html, secret)
    mime = MimeMessage()
    mime["From"] = mail_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    if reply_to and message.kind in render.CUSTOMER_KINDS:
        mime["Reply-To"] = reply_to
    mime["Date"] = format_datetime(message.created_at)
    # Stable per outbox row, so a retry after a lost reply is recognisable as the same email.
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:20]
    domain = _domain(mail_from)
    mime["Message-ID"] = f"<mio.{message.id}.{digest}@{domain}>"
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    return mime


def _domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    try:
        return Address(addr_spec=address).domain or "localhost"
    except (ValueError, IndexError):
        return "localhost"


def _short_error(exc: BaseException) -> str:
    """The exception class and the server's words; never the URL, which may hold a password."""
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return f"{type(exc).__name__} {exc.smtp_code}: {text}"[:300]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"SMTPRecipientsRefused: {len(exc.recipients)} recipient(s) refused"
    return f"{type(exc).__name__}: {exc}"[:300]


class DeliveryUnconfirmed(smtplib.SMTPException):
    """The server had the whole message, then the connection dropped or timed out before it
    answered: the email may have been delivered."""


class _SMTP(smtplib.SMTP):
    """Notes when the end-of-data marker has gone out: from then on the server may deliver
    the message whether or not its reply reaches us."""

    handed_over = False

    def send(self, s: str | bytes) -> None:
        super().send(s)
        # RFC 5321's end of mail data; no command line ends like this.
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True


class _SMTPSSL(_SMTP, smtplib.SMTP_SSL):
    pass


class _Connection:
    """One SMTP session per batch, reopened after an error so one bad send can't poison the rest."""

    def __init__(self, target: SmtpTarget) -> None:
        self._target = target
        self._smtp: _SMTP | None = None

    def send(self, mime: MimeMessage) -> None:
        """Raises DeliveryUnconfirmed when the server got the message but never answered;
        any other error means it did not take the message."""
        if self._smtp is None:
            self._smtp = self._open()
        self._smtp.handed_over = False
        try:
            self._smtp.send_message(mime)
        except Exception as exc:
            handed_over = self._smtp.handed_over
            self.close()
            # A reply, even a refusal, is an answer; only silence leaves delivery unknown.
            if handed_over and not isinstance(exc, smtplib.SMTPResponseException):
                raise DeliveryUnconfirmed(_short_error(exc)) from exc
            raise

    def _open(self) -> _SMTP:
        target = self._target
        if target.tls:
            smtp: _SMTP = _SMTPSSL(target.host, target.port, timeout=SMTP_TIMEOUT)
        else:
            smtp = _SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
        try:
            if target.starttls:
                smtp.starttls()
            if target.username:
                smtp.login(target.username, target.password or "")
        except Exception:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


def _claim(session: Session, now: datetime, batch: int) -> list[int]:
    """Take up to `batch` due messages for this worker by pushing them a lease into the future.

    One UPDATE with RETURNING: on SQLite the write lock makes it atomic; on PostgreSQL rows
    another worker is claiming are skipped (SKIP LOCKED) and the repeated conditions are
    re-checked against the committed row, so no message is claimed twice.
    """
    table = EmailMessage.__table__
    due = sa.and_(table.c.status == EmailStatus.QUEUED.value, table.c.next_attempt_at <= now)
    candidates = (
        sa.select(table.c.id).where(due).order_by(table.c.next_attempt_at, table.c.id).limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claim = (
        sa.update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()), due)
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(table.c.id)
    )
    ids = sorted(session.execute(claim).scalars().all())
    session.commit()
    return ids


def _record_failure(message: EmailMessage, exc: BaseException, now: datetime) -> None:
    """Count the failed attempt, then schedule a retry or stop, and say which on the message."""
    message.attempts += 1
    message.last_error = _short_error(exc)
    if isinstance(exc, DecryptionError):
        message.last_error = (
            "The link in this email can't be restored: SECRET_KEY has changed since it was "
            "queued. Send the email again."
        )
        _stop(message, EmailStatus.FAILED)
        return
    if isinstance(exc, DeliveryUnconfirmed):
        message.unconfirmed_attempts += 1
        left = RETRIES_AFTER_UNCONFIRMED + 1 - message.unconfirmed_attempts
        lost = "The server received this email but the connection was lost before it confirmed"
        if left <= 0:
            message.last_error = (
                f"{lost} ({message.unconfirmed_attempts} times): it may have been delivered, "
                f"so it is not sent again. {exc}"
            )[:1000]
            _stop(message, EmailStatus.UNCONFIRMED)
            return
        message.last_error = (
            f"{lost}: it may have been delivered; {left} more attempt(s) at most. {exc}"
        )[:1000]
    if message.attempts >= MAX_ATTEMPTS:
        _stop(message, EmailStatus.FAILED)
        return
    message.next_attempt_at = now + backoff(message.attempts)
    logger.info(
        "Email %s failed (attempt %s), retrying at %s: %s",
        message.id,
        message.attempts,
        message.next_attempt_at.isoformat(),
        message.last_error,
    )


def _stop(message: EmailMessage, status: EmailStatus) -> None:
    """No more attempts: the secret has nothing left to go into."""
    message.status = status
    message.secret_encrypted = None
    logger.warning(
        "Email %s to customer %s is %s, no more attempts: %s",
        message.id,
        message.customer_id,
        status.value,
        message.last_error,
    )


def send_due(
    session: Session,
    *,
    smtp_url: str,
    mail_from: str,
    now: datetime | None = None,
    batch: int = 20,
    secret_key: str | None = None,
    reply_to: str | None = None,
) -> int:
    """Send up to `batch` queued emails that are due; returns how many were sent.

    Commits `session` (claim, then each result), so give it a session of its own. Each
    message is committed as sent right after the server accepts it; a crash between the two
    means it goes out again after the claim lease: at least once, never silently dropped.
    `secret_key` decrypts the emails' secrets (default: the app's SECRET_KEY); `reply_to`
    is where customers' replies go (default: the business profile's reply address).
    """
    now = now or utcnow()
    target = parse_smtp_url(smtp_url)
    ids = _claim(session, now, batch)
    if not ids:
        return 0
    reply_to = reply_to or current_profile(session).reply_address
    connection = _Connection(target)
    sent = 0
    try:
        for message_id in ids:
            message = session.get(EmailMessage, message_id)
            if message is None or message.status != EmailStatus.QUEUED:
                continue
            try:
                mime = build_mime(message, mail_from, secret_key=secret_key, reply_to=reply_to)
                connection.send(mime)
            except (smtplib.SMTPException, OSError, ValueError, DecryptionError) as exc:
                _record_failure(message, exc, now)
            else:
                message.status = EmailStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                message.secret_encrypted = None
                sent += 1
            session.add(message)
            session.commit()
    finally:
        connection.close()
    return sent
