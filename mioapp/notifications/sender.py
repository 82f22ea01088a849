"""Delivers queued outbox emails over SMTP, with retries and backoff (run by mioapp.jobs)."""

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

from mioapp.models import EmailMessage, EmailStatus, utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# A claimed message is due again after this, so a worker that died mid-send doesn't lose it.
CLAIM_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 20.0


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


def build_mime(message: EmailMessage, mail_from: str) -> MimeMessage:
    """A multipart/alternative message: plain text first, HTML preferred by capable clients."""
    mime = MimeMessage()
    mime["From"] = mail_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(message.created_at)
    # Stable per outbox row, so a retry after a lost reply is recognisable as the same email.
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:20]
    domain = _domain(mail_from)
    mime["Message-ID"] = f"<mio.{message.id}.{digest}@{domain}>"
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
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


class _Connection:
    """One SMTP session per batch, reopened after an error so one bad send can't poison the rest."""

    def __init__(self, target: SmtpTarget) -> None:
        self._target = target
        self._smtp: smtplib.SMTP | None = None

    def send(self, mime: MimeMessage) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        try:
            self._smtp.send_message(mime)
        except Exception:
            self.close()
            raise

    def _open(self) -> smtplib.SMTP:
        target = self._target
        if target.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
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
    message.attempts += 1
    message.last_error = _short_error(exc)
    if message.attempts >= MAX_ATTEMPTS:
        message.status = EmailStatus.FAILED
        logger.warning(
            "Email %s to customer %s failed for good: %s",
            message.id,
            message.customer_id,
            message.last_error,
        )
    else:
        message.next_attempt_at = now + backoff(message.attempts)
        logger.info(
            "Email %s failed (attempt %s), retrying at %s: %s",
            message.id,
            message.attempts,
            message.next_attempt_at.isoformat(),
            message.last_error,
        )


def send_due(
    session: Session,
    *,
    smtp_url: str,
    mail_from: str,
    now: datetime | None = None,
    batch: int = 20,
) -> int:
    """Send up to `batch` queued emails that are due; returns how many were sent.

    Commits `session` (claim, then each result), so give it a session of its own. Each
    message is committed as sent right after the server accepts it; a crash between the two
    means it goes out again after the claim lease: at least once, never silently dropped.
    """
    now = now or utcnow()
    target = parse_smtp_url(smtp_url)
    ids = _claim(session, now, batch)
    if not ids:
        return 0
    connection = _Connection(target)
    sent = 0
    try:
        for message_id in ids:
            message = session.get(EmailMessage, message_id)
            if message is None or message.status != EmailStatus.QUEUED:
                continue
            try:
                connection.send(build_mime(message, mail_from))
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                _record_failure(message, exc, now)
            else:
                message.status = EmailStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                sent += 1
            session.add(message)
            session.commit()
    finally:
        connection.close()
    return sent
